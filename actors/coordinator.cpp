#include "actors/coordinator.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/engine.hpp"
#include "actors/errors.hpp"
#include "actors/saga_actor.hpp"
#include "config/json_value.hpp"
#include "storage/correlation_id.hpp"
#include "actors/input_reader.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/logging.hpp"
#include "actors/messages.hpp"
#include "runtime/rebuild.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/start_request.hpp"
#include "runtime/saga_writes.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

/// A saga alive now, and since when this run has had it: its start, its
/// submission, or its resumption (what its latency is measured from).
struct live_saga {
  caf::actor actor;
  std::int64_t since_us = 0;
};

struct coordinator_state {
  coordinator_setup setup;
  /// Per saga definition, built on first use (they hold this actor, and go
  /// with its state when it exits).
  std::map<std::string, std::shared_ptr<const saga_links>> links;
  /// Unfinished sagas in the log, not yet resumed: ID and saga name.
  std::deque<std::pair<std::string, std::string>> to_resume;
  std::unordered_map<std::string, live_saga> live;
  /// Started through start_atom: their first events are durable (the
  /// start was answered only then), they wait here for room to go live.
  std::deque<std::unique_ptr<runtime::saga_machine>> submitted;
  std::unordered_set<std::string> submitted_ids; ///< Of those, and of those being written.
  std::uint64_t persisting = 0; ///< Starts whose first events are on their way to the log.
  bool input_done = false;
  bool reading = false;    ///< A read from the input reader is on its way.
  std::deque<config::saga_request> buffer; ///< Read, not yet started.
  std::string input_error; ///< Stops the run once the lines before it have started.
  bool closed = false;     ///< No more submissions: the run ends when all have.
  std::unordered_set<std::string> pressing; ///< Stages with too many calls waiting.
  /// Told `(done_atom, cid, status)` when the saga ends: `nexus submit`s.
  std::unordered_map<std::string, caf::actor> watchers;
  bool stopping = false;   ///< No new sagas: the run is ending early.
  runtime::run_summary summary;
  runtime::latency_histogram latency; ///< Of the sagas that ended, from since_us.
  std::int64_t replay_us = 0;         ///< Spent finding and rebuilding sagas to resume.
  std::int64_t started_us = 0;
  caf::response_promise done;
  static inline const char* name = "nexus.coordinator";
};

using coordinator_actor = caf::stateful_actor<coordinator_state>;

void stop_early(coordinator_actor* self, std::string error, int exit_status) {
  auto& st = self->state;
  if (st.summary.error.empty()) {
    st.summary.error = std::move(error);
    st.summary.exit_status = exit_status;
  }
  st.stopping = true;
}

/// What the sagas of one definition talk to, shared by all of them.
std::shared_ptr<const saga_links> links_for(coordinator_actor* self, const std::string& saga) {
  auto& st = self->state;
  auto& links = st.links[saga];
  if (!links)
    links = std::make_shared<const saga_links>(
      saga_links{st.setup.writer, caf::actor_cast<caf::actor>(self), st.setup.stages.at(saga)});
  return links;
}

/// Rebuilds unfinished saga `cid` (a `saga`) from its events, read
/// through `cursor`; null if it cannot be resumed (logged) or has ended.
std::unique_ptr<runtime::saga_machine> rebuild_one(coordinator_actor* self, const std::string& cid,
                                                   const std::string& saga,
                                                   storage::event_cursor& cursor) {
  auto& st = self->state;
  auto rebuilding = storage::now_us();
  auto spec = st.setup.workflow->find_saga(saga);
  if (spec == nullptr) {
    runtime::log(spdlog::level::err, {cid, saga}, "cannot resume: the workflow has no saga named {}",
                 saga);
    return nullptr;
  }
  std::string why;
  auto machine = runtime::rebuild_saga(cursor, *spec, cid, why);
  st.replay_us += storage::now_us() - rebuilding;
  if (!machine) {
    runtime::log(spdlog::level::err, {cid, saga}, "cannot resume: {}", why);
    return nullptr;
  }
  if (machine->finished())
    return nullptr;
  st.summary.replayed_events += machine->last_seq();
  return machine;
}

/// Brings a rebuilt saga back to life.
void resume(coordinator_actor* self, std::unique_ptr<runtime::saga_machine> m) {
  auto& st = self->state;
  ++st.summary.resumed;
  auto cid = m->cid();
  auto saga = m->spec().name;
  st.live.emplace(std::move(cid), live_saga{spawn_saga(self->system(), std::move(*m), {},
                                                       links_for(self, saga)),
                                            storage::now_us()});
  st.summary.peak_in_flight = std::max<std::uint64_t>(st.summary.peak_in_flight, st.live.size());
}

/// Rebuilds and resumes one unfinished saga (unless it is live already).
void resume_one(coordinator_actor* self, const std::string& cid, const std::string& saga,
                storage::event_cursor& cursor) {
  if (self->state.live.count(cid) > 0)
    return; // already resumed, to be cancelled
  if (auto m = rebuild_one(self, cid, saga, cursor))
    resume(self, std::move(m));
}

/// Whether a saga with this ID is running, waiting to start, or in the log.
bool known(coordinator_actor* self, const std::string& cid, storage::status& s) {
  auto& st = self->state;
  return st.live.count(cid) > 0 || st.submitted_ids.count(cid) > 0
         || st.setup.log->find_saga(cid, s).has_value();
}

void launch(coordinator_actor* self, const config::saga_spec& spec, config::saga_request&& req) {
  auto& st = self->state;
  ++st.summary.started;
  runtime::saga_machine machine{spec, req.correlation_id};
  auto cid = req.correlation_id;
  st.live.emplace(std::move(cid),
                  live_saga{spawn_saga(self->system(), std::move(machine), std::move(req.input),
                                       links_for(self, spec.name)),
                            storage::now_us()});
  st.summary.peak_in_flight = std::max<std::uint64_t>(st.summary.peak_in_flight, st.live.size());
}

/// Brings a submitted saga, already started in the log, to life: its actor
/// resumes it from there.
void launch_submitted(coordinator_actor* self, std::unique_ptr<runtime::saga_machine> m) {
  auto& st = self->state;
  ++st.summary.started;
  auto cid = m->cid();
  st.submitted_ids.erase(cid);
  auto saga = m->spec().name;
  auto since = m->started_us(); // its submission: waiting for room is part of its latency
  st.live.emplace(cid, live_saga{spawn_saga(self->system(), std::move(*m), {}, links_for(self, saga)),
                                 since});
  st.summary.peak_in_flight = std::max<std::uint64_t>(st.summary.peak_in_flight, st.live.size());
}

using cancel_reply = std::function<void(cancel_result, const std::string& status)>;

/// Cancels `cid` wherever it is: running, waiting to start or to resume.
void cancel_saga(coordinator_actor* self, const std::string& cid, cancel_reply reply) {
  auto& st = self->state;
  auto queued = std::find_if(st.submitted.begin(), st.submitted.end(),
                             [&](const std::unique_ptr<runtime::saga_machine>& m) {
                               return m->cid() == cid;
                             });
  if (queued != st.submitted.end()) {
    // Started in the log, so it is cancelled as a live saga is.
    auto m = std::move(*queued);
    st.submitted.erase(queued);
    launch_submitted(self, std::move(m));
  }
  auto waiting = std::find_if(st.to_resume.begin(), st.to_resume.end(),
                              [&](const auto& r) { return r.first == cid; });
  if (waiting != st.to_resume.end()) {
    auto saga = std::move(waiting->second);
    st.to_resume.erase(waiting);
    resume_one(self, cid, saga, *st.setup.log->cursor());
  }
  auto live = st.live.find(cid);
  if (live != st.live.end()) {
    self->request(live->second.actor, caf::infinite, cancel_atom::value)
      .then([reply](bool running) {
              reply(running ? cancel_result::cancelling : cancel_result::already_ended, "");
            },
            [reply](caf::error&) { reply(cancel_result::already_ended, ""); });
    return;
  }
  storage::status s = storage::status::ok();
  auto row = st.setup.log->find_saga(cid, s);
  if (row)
    reply(cancel_result::already_ended, std::string{to_string(row->status)});
  else
    reply(cancel_result::unknown, s ? "" : s.message());
}

/// How many input lines one read asks for: enough to keep sagas starting
/// between reads, few enough that the buffer stays small.
constexpr std::uint32_t read_batch = 256;

void fill(coordinator_actor* self);

/// Asks the input reader for more, unless a read is on its way.
void read_more(coordinator_actor* self) {
  auto& st = self->state;
  if (st.reading || st.input_done || !st.setup.input)
    return;
  st.reading = true;
  self->request(st.setup.input, caf::infinite, read_atom::value, read_batch)
    .then(
      [self](input_batch& b) {
        auto& st = self->state;
        st.reading = false;
        st.summary.skipped += b.skipped;
        for (auto& r : b.requests)
          st.buffer.push_back(std::move(r));
        if (b.end)
          st.input_done = true;
        if (!b.error.empty())
          st.input_error = std::move(b.error);
        fill(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.reading = false;
        st.input_done = true;
        stop_early(self, "cannot read the input: " + caf::to_string(err), 1);
        fill(self);
      });
}

/// Starts (or cancels) what the next request asks; false when there is no
/// request at hand (a read may be on its way).
bool start_one(coordinator_actor* self) {
  auto& st = self->state;
  if (!st.submitted.empty()) {
    auto m = std::move(st.submitted.front());
    st.submitted.pop_front();
    launch_submitted(self, std::move(m));
    return true;
  }
  if (st.buffer.size() < read_batch / 2)
    read_more(self); // read ahead while the buffer still has some
  if (st.buffer.empty()) {
    if (!st.input_error.empty())
      stop_early(self, std::exchange(st.input_error, {}), 2);
    return false;
  }
  auto req = std::move(st.buffer.front());
  st.buffer.pop_front();
  if (req.cancel) {
    auto cid = req.correlation_id;
    cancel_saga(self, cid, [cid](cancel_result r, const std::string& status) {
      runtime::log_context ctx{cid};
      if (r == cancel_result::cancelling)
        runtime::log(spdlog::level::info, ctx, "cancel requested by an input line");
      else if (r == cancel_result::already_ended)
        runtime::log(spdlog::level::warn, ctx, "the saga has already ended{}: nothing to cancel",
                     status.empty() ? "" : " (" + status + ")");
      else
        runtime::log(spdlog::level::warn, ctx, "no such saga in the log: nothing to cancel");
    });
    return true;
  }
  storage::status s = storage::status::ok();
  if (known(self, req.correlation_id, s)) {
    runtime::log(spdlog::level::info, {req.correlation_id, req.saga},
                 "the saga is already in the log: not started again");
    ++st.summary.duplicates;
    return true;
  }
  if (!s) {
    stop_early(self, s.message(), 1);
    return false;
  }
  launch(self, *st.setup.workflow->find_saga(req.saga), std::move(req));
  return true;
}

/// The run's time so far, its sagas' latencies and its replay time, into `s`.
void timings(const coordinator_state& st, runtime::run_summary& s) {
  s.seconds = static_cast<double>(storage::now_us() - st.started_us) / 1e6;
  s.replay_seconds = static_cast<double>(st.replay_us) / 1e6;
  auto ms = [&](double q) { return static_cast<double>(st.latency.quantile(q)) / 1e3; };
  s.latency_p50_ms = ms(0.5);
  s.latency_p90_ms = ms(0.9);
  s.latency_p99_ms = ms(0.99);
  s.latency_max_ms = static_cast<double>(st.latency.max()) / 1e3;
}

/// The summary of the run so far, with the writer's counts of what it
/// wrote, handed to `deliver` (without them if the writer has gone).
template <class F>
void with_write_counts(coordinator_actor* self, F deliver) {
  self->request(self->state.setup.writer, caf::infinite, stats_atom::value)
    .then(
      [self, deliver](std::uint64_t events, std::uint64_t batches) mutable {
        auto& st = self->state;
        st.summary.events = events;
        st.summary.write_batches = batches;
        auto s = st.summary;
        timings(st, s);
        deliver(std::move(s));
      },
      [self, deliver](caf::error&) mutable {
        auto s = self->state.summary;
        timings(self->state, s);
        deliver(std::move(s));
      });
}

void finish_if_idle(coordinator_actor* self) {
  auto& st = self->state;
  bool more = !st.closed || !st.input_done || st.reading || !st.to_resume.empty()
              || !st.submitted.empty() || st.persisting > 0 || !st.buffer.empty()
              || !st.input_error.empty();
  if (!st.live.empty() || (!st.stopping && more))
    return;
  if (!st.done.pending())
    return;
  with_write_counts(self, [self](runtime::run_summary s) { self->state.done.deliver(std::move(s)); });
}

/// Keeps max_in_flight sagas alive: resumed ones first, then new ones.
void fill(coordinator_actor* self) {
  auto& st = self->state;
  auto bound = st.setup.workflow->runtime.max_in_flight;
  // Unfinished sagas first, all that fit: rebuilt one after another through
  // one cursor (it sees every one of them, since none writes before it is
  // resumed), and only then brought to life, so that the sagas already
  // back do not slow the reading of the others.
  if (!st.to_resume.empty() && !st.stopping && st.pressing.empty() && st.live.size() < bound) {
    auto cursor = st.setup.log->cursor();
    std::vector<std::unique_ptr<runtime::saga_machine>> rebuilt;
    while (!st.to_resume.empty() && st.live.size() + rebuilt.size() < bound) {
      auto [cid, saga] = std::move(st.to_resume.front());
      st.to_resume.pop_front();
      if (auto m = rebuild_one(self, cid, saga, *cursor))
        rebuilt.push_back(std::move(m));
    }
    cursor.reset();
    for (auto& m : rebuilt)
      resume(self, std::move(m));
  }
  while (!st.stopping && st.pressing.empty() && st.live.size() < bound && st.to_resume.empty())
    if (!start_one(self))
      break;
  finish_if_idle(self);
}

/// Takes a saga to start, from engine::start or a submitter, answering
/// `started` only once its first events are durable: a start that was
/// answered survives a crash, and the next run resumes it.
caf::result<std::uint8_t> start_saga(coordinator_actor* self, config::saga_request&& req) {
  auto& st = self->state;
  if (st.closed || st.stopping)
    return static_cast<std::uint8_t>(start_result::closed);
  std::string why;
  switch (runtime::check_start(*st.setup.workflow, req, why)) {
    case runtime::request_problem::unknown_saga:
      return static_cast<std::uint8_t>(start_result::unknown_saga);
    case runtime::request_problem::bad_id:
      return static_cast<std::uint8_t>(start_result::bad_id);
    case runtime::request_problem::bad_input:
      return static_cast<std::uint8_t>(start_result::bad_input);
    case runtime::request_problem::none:
      break;
  }
  auto spec = st.setup.workflow->find_saga(req.saga);
  storage::status s = storage::status::ok();
  if (known(self, req.correlation_id, s) || !s) {
    ++st.summary.duplicates;
    return static_cast<std::uint8_t>(start_result::duplicate);
  }
  st.submitted_ids.insert(req.correlation_id);
  auto m = std::make_shared<std::unique_ptr<runtime::saga_machine>>(
    std::make_unique<runtime::saga_machine>(*spec, req.correlation_id));
  runtime::transition t;
  (*m)->start(std::move(req.input), storage::now_us(), t);
  ++st.persisting;
  auto promise = self->make_response_promise<std::uint8_t>();
  self->request(st.setup.writer, caf::infinite, append_atom::value, runtime::make_append(**m, t))
    .then(
      [self, m, promise](ack_atom) mutable {
        auto& st = self->state;
        --st.persisting;
        st.submitted.push_back(std::move(*m));
        fill(self);
        promise.deliver(static_cast<std::uint8_t>(start_result::started));
      },
      [self, m, promise](caf::error& err) mutable {
        auto& st = self->state;
        --st.persisting;
        st.submitted_ids.erase((*m)->cid());
        stop_early(self, "event log write failed: " + describe(err), 1);
        promise.deliver(static_cast<std::uint8_t>(start_result::closed));
        finish_if_idle(self);
      });
  return promise;
}

/// Reopens the compensation of saga `cid`, which ended `failed`: appends
/// the reopening event, then resumes it from the log like any unfinished
/// saga. Answers `(true, "")` once the event is durable, or `(false, why)`.
caf::result<bool, std::string> retry_saga(coordinator_actor* self, const std::string& cid) {
  auto& st = self->state;
  if (st.closed || st.stopping)
    return {false, std::string{"the engine is stopping: it takes no more work"}};
  if (st.live.count(cid) > 0 || st.submitted_ids.count(cid) > 0)
    return {false, "saga " + cid + " is still running: only a saga that ended failed has a "
                   "compensation to retry"};
  std::string error;
  auto req = runtime::prepare_reopen(*st.setup.log, *st.setup.workflow, cid, storage::now_us(),
                                     error);
  if (!req)
    return {false, std::move(error)};
  storage::status found = storage::status::ok();
  auto row = req->row ? req->row : st.setup.log->find_saga(cid, found);
  auto saga = row ? row->saga : std::string{};
  st.submitted_ids.insert(cid); // a second retry meanwhile is refused as running
  ++st.persisting;
  auto promise = self->make_response_promise<bool, std::string>();
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(*req))
    .then(
      [self, cid, saga, promise](ack_atom) mutable {
        auto& st = self->state;
        --st.persisting;
        st.submitted_ids.erase(cid);
        runtime::log(spdlog::level::info, {cid, saga}, "compensation reopened");
        resume_one(self, cid, saga, *st.setup.log->cursor());
        promise.deliver(true, std::string{});
      },
      [self, cid, promise](caf::error& err) mutable {
        auto& st = self->state;
        --st.persisting;
        st.submitted_ids.erase(cid);
        auto why = "event log write failed: " + describe(err);
        stop_early(self, why, 1);
        promise.deliver(false, why);
        finish_if_idle(self);
      });
  return promise;
}

/// Tells every live saga to stop where it is (it resumes next run).
void stop_live_sagas(coordinator_actor* self, const caf::error& reason) {
  // Each exit wakes a saga. Sent from this worker thread, 100,000 wakeups
  // all land in its own queue, fought over with the threads that steal from
  // it (8 to 30 s); enqueued without an execution unit, the scheduler
  // spreads them over every worker's queue (0.1 s).
  for (auto& [_, saga] : self->state.live)
    saga.actor->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                            caf::exit_msg{self->address(), reason}),
                  nullptr);
  self->state.live.clear();
}

caf::behavior coordinator(coordinator_actor* self, coordinator_setup setup) {
  self->state.setup = std::move(setup);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    stop_live_sagas(self, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [=](run_atom) {
      auto& st = self->state;
      st.started_us = storage::now_us();
      st.input_done = !st.setup.input;
      for (auto& stage : st.setup.pools)
        self->send(stage, watch_atom::value);
      auto s = st.setup.log->for_each_saga([&](std::string_view cid, const storage::saga_row& row) {
        if (!storage::is_terminal(row.status))
          st.to_resume.emplace_back(cid, row.saga);
        return true;
      });
      st.replay_us += storage::now_us() - st.started_us;
      if (!s)
        stop_early(self, s.message(), 1);
      if (!st.to_resume.empty())
        spdlog::info("resuming {} unfinished sagas", st.to_resume.size());
      bool known = !st.setup.input || st.setup.input_size > 0;
      st.summary.total = known ? st.to_resume.size() + st.setup.input_size : 0;
      fill(self);
    },
    [=](close_atom) -> caf::result<runtime::run_summary> {
      auto& st = self->state;
      st.closed = true;
      st.done = self->make_response_promise();
      finish_if_idle(self);
      return caf::delegated<runtime::run_summary>{};
    },
    [=](start_atom, config::saga_request& req) -> caf::result<std::uint8_t> {
      return start_saga(self, std::move(req));
    },
    [=](start_atom, config::saga_request& req, caf::actor& watcher) -> caf::result<std::uint8_t> {
      // Watched from now: a saga that ends before the start is answered is
      // still reported (a refused one never ends, and is forgotten).
      auto cid = req.correlation_id;
      bool watching = watcher && self->state.watchers.emplace(cid, watcher).second;
      auto r = start_saga(self, std::move(req));
      if (watching && r.flag != caf::rt_delegated) // refused at once: it will not end here
        self->state.watchers.erase(cid);
      return r;
    },
    [=](cancel_atom, const std::string& cid) -> caf::result<std::uint8_t, std::string> {
      auto promise = self->make_response_promise<std::uint8_t, std::string>();
      cancel_saga(self, cid, [promise](cancel_result r, const std::string& status) mutable {
        promise.deliver(static_cast<std::uint8_t>(r), status);
      });
      return promise;
    },
    [=](retry_atom, const std::string& cid) -> caf::result<bool, std::string> {
      return retry_saga(self, cid);
    },
    [=](stats_atom) -> caf::result<runtime::run_summary> {
      auto promise = self->make_response_promise<runtime::run_summary>();
      with_write_counts(self, [self, promise](runtime::run_summary s) mutable {
        auto& st = self->state;
        // Not ended yet: running, started but waiting for room, being
        // written, or unfinished in the log and not yet resumed.
        s.interrupted = st.live.size() + st.submitted.size() + st.persisting + st.to_resume.size();
        promise.deliver(std::move(s));
      });
      return promise;
    },
    [=](pressure_atom, const std::string& stage, bool full) {
      auto& st = self->state;
      if (full) {
        st.pressing.insert(stage);
        spdlog::debug("stage {} is full: no new sagas until it drains", stage);
      } else {
        st.pressing.erase(stage);
        fill(self);
      }
    },
    [=](done_atom, const std::string& cid, const std::string& status) {
      auto& st = self->state;
      if (auto l = st.live.find(cid); l != st.live.end()) {
        st.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, storage::now_us() - l->second.since_us)));
        st.live.erase(l);
      }
      if (auto w = st.watchers.find(cid); w != st.watchers.end()) {
        // Sent without a sender: a message to another node names its
        // sender, and CAF 0.17 can leave such a message behind in a BASP
        // broker it leaks when that node goes mid-teardown; a detached
        // actor named there is never destroyed, and the system's
        // destructor waits for its thread for ever (serve_test, once in
        // CI). The watcher needs only the message.
        caf::anon_send(w->second, done_atom::value, cid, status);
        st.watchers.erase(w);
      }
      st.summary.count_end(storage::parse_saga_status(status));
      fill(self);
    },
    [=](fail_atom, const std::string&, const std::string& message) {
      // The log takes no more writes: waiting for the other sagas to find
      // out one by one (some on long retry timers) would only delay the
      // stop. What they had not had acknowledged is resumed next run.
      stop_live_sagas(self, caf::exit_reason::user_shutdown);
      stop_early(self, "event log write failed: " + message, 1);
      finish_if_idle(self);
    },
  };
}

} // namespace

caf::actor spawn_coordinator(caf::actor_system& sys, coordinator_setup setup) {
  // Detached: its duplicate checks, cancels and resumes read the log, and
  // RocksDB reads must not hold a scheduler thread that sagas run on.
  return sys.spawn<caf::detached>(coordinator, std::move(setup));
}

} // namespace nexus::actors
