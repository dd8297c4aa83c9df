#include "runtime/saga_admission.hpp"

#include <algorithm>

#include "runtime/saga_log.hpp"
#include "runtime/saga_writes.hpp"
#include "runtime/start_request.hpp"

namespace nexus::runtime {

saga_admission::saga_admission(const config::workflow& wf, bool has_input)
  : workflow_(wf), max_in_flight_(wf.runtime.max_in_flight),
    passivate_after_us_(static_cast<std::int64_t>(wf.runtime.passivate_after_ms) * 1000),
    input_done_(!has_input) {}

void saga_admission::begin(std::int64_t now_us,
                           std::vector<std::pair<std::string, std::string>> unfinished,
                           std::uint64_t input_size, std::uint64_t parked) {
  began_us_ = now_us;
  parked_ = parked;
  bool known = input_done_ || input_size > 0;
  summary_.total = known ? unfinished.size() + input_size : 0;
  to_resume_.assign(std::make_move_iterator(unfinished.begin()),
                    std::make_move_iterator(unfinished.end()));
}

void saga_admission::input_read(std::vector<config::saga_request> requests, std::uint64_t skipped,
                                bool end, std::string error) {
  reading_ = false;
  summary_.skipped += skipped;
  for (auto& r : requests)
    buffer_.push_back(std::move(r));
  if (end)
    input_done_ = true;
  if (!error.empty())
    input_error_ = std::move(error);
}

void saga_admission::input_failed(std::string why) {
  reading_ = false;
  input_done_ = true;
  stop("cannot read the input: " + why, 1);
}

void saga_admission::pressure(const std::string& stage, bool full) {
  if (full)
    pressing_.insert(stage);
  else
    pressing_.erase(stage);
}

void saga_admission::stop(std::string error, int exit_status) {
  if (summary_.error.empty()) {
    summary_.error = std::move(error);
    summary_.exit_status = exit_status;
  }
  stopping_ = true;
}

start_result saga_admission::check(config::saga_request& req, start_source source,
                                   std::string& why) const {
  if (stopping_ || (closed_ && source == start_source::submission))
    return start_result::closed;
  switch (check_start(workflow_, req, why)) {
    case request_problem::unknown_saga: return start_result::unknown_saga;
    case request_problem::bad_id: return start_result::bad_id;
    case request_problem::bad_input: return start_result::bad_input;
    case request_problem::none: break;
  }
  // The unfinished sagas not yet resumed are in the log, where the shell looks.
  if (busy(req.correlation_id))
    return start_result::duplicate;
  return start_result::started;
}

void saga_admission::refused(start_result r) {
  if (r == start_result::duplicate)
    ++summary_.duplicates;
}

storage::append_request saga_admission::begin_start(config::saga_request&& req,
                                                    std::int64_t now_us) {
  auto machine = std::make_unique<saga_machine>(*workflow_.find_saga(req.saga), req.correlation_id);
  transition t;
  machine->start(std::move(req.input), now_us, t, req.traceparent, req.tracestate);
  log_saga_events(*machine, t.events); // as a saga logs its events: before they are written
  auto append = make_append(*machine, t);
  bool parks = waits_long(*machine, now_us, passivate_after_us_);
  record_parking(*machine, std::nullopt, parks, now_us, append);
  starts_.emplace(req.correlation_id,
                  pending_start{started_saga{std::move(machine), std::move(t.commands)}, false,
                                parks});
  return append;
}

std::optional<std::int64_t> saga_admission::start_written(const std::string& cid) {
  auto i = starts_.find(cid);
  if (i == starts_.end() || i->second.written)
    return std::nullopt;
  ++summary_.by_saga[i->second.saga.machine->spec().name].started;
  if (i->second.parks) {
    auto wake = i->second.saga.machine->idle_until();
    starts_.erase(i);
    ++summary_.started;
    ++parked_;
    return wake;
  }
  i->second.written = true;
  ready_.push_back(cid);
  return std::nullopt;
}

void saga_admission::start_failed(const std::string& cid) {
  if (auto i = starts_.find(cid); i != starts_.end() && !i->second.written)
    starts_.erase(i);
}

saga_admission::action saga_admission::launch(const std::string& cid) {
  auto i = starts_.find(cid);
  action a;
  a.what = action::kind::launch;
  a.saga = std::move(i->second.saga);
  starts_.erase(i);
  ++summary_.started;
  // Since its start: waiting for room is part of its latency.
  a.place = went_live(cid, a.saga.machine->started_us());
  return a;
}

std::uint32_t saga_admission::went_live(const std::string& cid, std::int64_t since_us) {
  std::uint32_t place = places_;
  if (free_places_.empty())
    ++places_;
  else {
    place = free_places_.back();
    free_places_.pop_back();
  }
  live_.emplace(cid, live_saga{since_us, place});
  summary_.peak_in_flight = std::max<std::uint64_t>(summary_.peak_in_flight, live_.size());
  return place;
}

void saga_admission::abandon_live() {
  live_.clear();
  free_places_.clear();
  places_ = 0;
}

std::optional<std::uint32_t> saga_admission::place_of(const std::string& cid) const {
  auto l = live_.find(cid);
  if (l == live_.end())
    return std::nullopt;
  return l->second.place;
}

saga_admission::action saga_admission::next() {
  action a;
  if (stopping_ || !pressing_.empty())
    return a;
  // Unfinished sagas first, all that fit, in one batch: the shell rebuilds
  // them one after another through one cursor before bringing any to life.
  if (!to_resume_.empty()) {
    if (!room())
      return a;
    a.what = action::kind::resume;
    while (!to_resume_.empty() && live_.size() + a.unfinished.size() < max_in_flight_) {
      a.unfinished.push_back(std::move(to_resume_.front()));
      to_resume_.pop_front();
    }
    return a;
  }
  if (!ready_.empty()) {
    if (!room())
      return a;
    auto cid = std::move(ready_.front());
    ready_.pop_front();
    return launch(cid);
  }
  // An input line is taken only while what it would add still fits:
  // the sagas alive, and those being started, count.
  if (live_.size() + unwritten() >= max_in_flight_)
    return a;
  if (buffer_.size() < read_batch / 2 && !reading_ && !input_done_) {
    reading_ = true; // read ahead while the buffer still has some
    a.what = action::kind::read;
    a.count = read_batch;
    return a;
  }
  if (!buffer_.empty()) {
    a.what = action::kind::take;
    a.request = std::move(buffer_.front());
    buffer_.pop_front();
    return a;
  }
  // Stopped by a bad line once those before it are durable, so that they
  // run to their end as they would have without it.
  if (!input_error_.empty() && unwritten() == 0)
    stop(std::exchange(input_error_, {}), 2);
  return a;
}

std::uint32_t saga_admission::resumed(const std::string& cid, std::uint64_t replayed,
                                      std::int64_t now_us) {
  if (waking_.erase(cid) > 0)
    return revived(cid, now_us);
  ++summary_.resumed;
  summary_.replayed_events += replayed;
  return went_live(cid, now_us);
}

std::uint32_t saga_admission::revived(const std::string& cid, std::int64_t now_us) {
  if (parked_ > 0)
    --parked_;
  return went_live(cid, now_us);
}

std::optional<std::uint32_t> saga_admission::parked(const std::string& cid) {
  auto l = live_.find(cid);
  if (l == live_.end())
    return std::nullopt;
  auto place = l->second.place;
  live_.erase(l);
  free_places_.push_back(place);
  ++parked_;
  return place;
}

void saga_admission::not_resumed(const std::string& cid) {
  waking_.erase(cid); // parked still: its timer comes again on the next start
}

void saga_admission::wake(std::string cid, std::string hash) {
  if (!waking_.insert(cid).second)
    return;
  to_resume_.emplace_back(std::move(cid), std::move(hash));
}

std::optional<std::uint32_t> saga_admission::ended(const std::string& cid,
                                                   const std::string& status, std::int64_t now_us,
                                                   const std::string& saga) {
  auto end = storage::parse_saga_status(status);
  summary_.count_end(end);
  if (!saga.empty() && end) {
    auto& c = summary_.by_saga[saga];
    switch (*end) {
      case storage::saga_status::completed: ++c.completed; break;
      case storage::saga_status::compensated: ++c.compensated; break;
      case storage::saga_status::failed: ++c.failed; break;
      case storage::saga_status::cancelled: ++c.cancelled; break;
      default: break;
    }
  }
  auto l = live_.find(cid);
  if (l == live_.end())
    return std::nullopt;
  auto [since, place] = l->second;
  latency_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_us - since)));
  live_.erase(l);
  free_places_.push_back(place);
  return place;
}

bool saga_admission::starting(const std::string& cid) const {
  auto i = starts_.find(cid);
  return i != starts_.end() && !i->second.written;
}

bool saga_admission::busy(const std::string& cid) const {
  return live_.count(cid) > 0 || starts_.count(cid) > 0 || reopening_.count(cid) > 0;
}

saga_admission::action saga_admission::bring_forward(const std::string& cid) {
  if (auto i = starts_.find(cid); i != starts_.end() && i->second.written) {
    ready_.erase(std::find(ready_.begin(), ready_.end(), cid));
    return launch(cid);
  }
  action a;
  auto waiting = std::find_if(to_resume_.begin(), to_resume_.end(),
                              [&](const auto& r) { return r.first == cid; });
  if (waiting != to_resume_.end()) {
    // (a woken one stays in waking_: resumed() counts it back from parked)
    a.what = action::kind::resume;
    a.unfinished.push_back(std::move(*waiting));
    to_resume_.erase(waiting);
  }
  return a;
}

bool saga_admission::finished() const {
  if (!live_.empty())
    return false;
  if (stopping_)
    return true;
  return closed_ && input_done_ && !reading_ && to_resume_.empty() && starts_.empty()
         && reopening_.empty() && buffer_.empty() && input_error_.empty()
         && (parked_ == 0 || !parked_too_);
}

std::uint64_t saga_admission::not_ended() const {
  return live_.size() + starts_.size() + to_resume_.size()
         - std::min(to_resume_.size(), waking_.size()) + parked_;
}

run_summary saga_admission::summary(std::int64_t now_us) const {
  auto s = summary_;
  s.to_resume = to_resume_.size() - std::min(to_resume_.size(), waking_.size());
  s.parked = parked_; // the woken too, until they are back
  s.in_memory = live_.size();
  s.seconds = static_cast<double>(now_us - began_us_) / 1e6;
  s.replay_seconds = static_cast<double>(replay_us_) / 1e6;
  auto ms = [&](double q) { return static_cast<double>(latency_.quantile(q)) / 1e3; };
  s.latency_p50_ms = ms(0.5);
  s.latency_p90_ms = ms(0.9);
  s.latency_p99_ms = ms(0.99);
  s.latency_p999_ms = ms(0.999);
  s.latency_max_ms = static_cast<double>(latency_.max()) / 1e3;
  return s;
}

} // namespace nexus::runtime
