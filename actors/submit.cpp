#include "actors/submit.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster/transport.hpp"
#include "actors/engine.hpp"
#include "runtime/input_source.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "runtime/signal_log.hpp"

namespace nexus::actors {

namespace {

std::string_view describe(start_result r) {
  switch (r) {
    case start_result::started: return "started";
    case start_result::duplicate: return "duplicate: already in the log, not started again";
    case start_result::unknown_saga: return "refused: the workflow has no such saga";
    case start_result::bad_id: return "refused: a bad correlation ID";
    case start_result::bad_input: return "refused: its input is not a JSON object";
    case start_result::closed: return "refused: the coordinator is stopping";
    case start_result::refused: return "refused: wrong cluster token";
  }
  return "refused";
}

/// Signal lines waiting for the one in flight: they go one at a time, so
/// that they reach the coordinator in the order of the input (the gateway
/// runs each tool call on a thread of its own, and two at once could swap).
struct signal_lines {
  std::deque<std::tuple<std::string, std::string, std::string>> waiting; ///< token, cid, arguments
  bool in_flight = false;
};

/// Sends the next waiting signal line, if none is in flight.
void send_signal_line(caf::event_based_actor* self, caf::actor gateway, caf::actor client,
                      std::shared_ptr<signal_lines> lines) {
  if (lines->in_flight || lines->waiting.empty())
    return;
  auto [token, cid, arguments] = std::move(lines->waiting.front());
  lines->waiting.pop_front();
  lines->in_flight = true;
  auto next = [=] {
    lines->in_flight = false;
    send_signal_line(self, gateway, client, lines);
  };
  self->request(gateway, caf::infinite, query_atom::value, std::move(token),
                std::string{"signal_saga"}, std::move(arguments))
    .then(
      [=, cid = cid](bool is_error, std::string& text) {
        self->send(client, signal_atom::value, cid, is_error, std::move(text));
        next();
      },
      [=, cid = cid](caf::error& err) {
        self->send(client, fail_atom::value, cid, self->system().render(err));
        next();
      });
}

/// Sends each submission on to the gateway and hands its answer, and each
/// saga's end, to `client` as plain messages. A blocking client waits on a
/// request's answer alone, and would miss its monitor's down message until
/// the request timed out; through the relay it takes answers, ends and the
/// loss of the coordinator in one receive.
caf::behavior relay(caf::event_based_actor* self, caf::actor gateway, caf::actor client) {
  auto lines = std::make_shared<signal_lines>();
  return {
    [=](submit_atom, std::string& token, config::saga_request& req) {
      auto cid = req.correlation_id;
      self->request(gateway, caf::infinite, submit_atom::value, std::move(token), std::move(req))
        .then([=](std::uint8_t r) { self->send(client, submit_atom::value, cid, r); },
              [=](caf::error& err) {
                self->send(client, fail_atom::value, cid, self->system().render(err));
              });
    },
    [=](done_atom, std::string& cid, std::string& end) {
      self->send(client, done_atom::value, std::move(cid), std::move(end));
    },
    // The end of a saga the lost leader took, asked of the next: an
    // unknown saga ends as "". An error is the loss of this one too, and
    // the client moves on.
    [=](watch_atom, std::string& token, std::string& cid) {
      self->request(gateway, caf::infinite, watch_atom::value, std::move(token), cid)
        .then([=](std::string& end) { self->send(client, done_atom::value, cid, std::move(end)); },
              [](caf::error&) {});
    },
    // A signal line, run on the coordinator as the tool signal_saga.
    [=](signal_atom, std::string& token, std::string& cid, std::string& arguments) {
      lines->waiting.emplace_back(std::move(token), std::move(cid), std::move(arguments));
      send_signal_line(self, gateway, client, lines);
    },
  };
}

} // namespace

client_end submit_sagas(runtime::input_source& input, const submit_options& opts,
                        std::string& error) {
  config::cluster_settings cluster;
  cluster.name = opts.cluster;
  cluster.tls = {opts.tls_certificate, opts.tls_key, opts.tls_ca};
  actors::system_config cfg{1, cluster};
  caf::actor_system sys{cfg};
  // Several coordinators: a replicated cluster's, whose next leader takes
  // over what the lost one left unsettled.
  const bool follow = opts.coordinators.size() > 1;
  // The one that takes the connection, from `first` on: of several, the
  // leader, looked for with backoff and jitter for reconnect_seconds
  // while there is none (an election under way).
  std::string why;
  auto connect_leader = [&](std::size_t first) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(opts.reconnect_seconds);
    std::minstd_rand jitter{std::random_device{}()};
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      auto found = connect_to_first(sys, opts.coordinators, first, why);
      if (found || !follow || std::chrono::steady_clock::now() >= give_up)
        return found;
      std::this_thread::sleep_for(backoff / 2 + std::chrono::milliseconds(
                                                  jitter() % (backoff.count() / 2 + 1)));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  };
  auto found = connect_leader(0);
  if (!found) {
    error = "no coordinator at " + why;
    if (follow)
      error += " (none led within " + std::to_string(opts.reconnect_seconds) + " s)";
    return client_end::lost;
  }
  auto current = found->first;
  auto where = endpoint_name(opts.coordinators[current]);
  auto gateway = std::move(found->second);
  caf::scoped_actor self{sys};
  // The connection's heartbeats drop a coordinator that stops answering
  // after system_config::connection_timeout; its proxy then goes down.
  self->monitor(gateway);
  auto courier = sys.spawn(relay, gateway, caf::actor_cast<caf::actor>(self));
  // Kept to send to the next leader: each start not yet ended, and each
  // signal not yet answered (in order).
  struct open_start {
    config::saga_request req;
    bool reported = false; // its start was reported
    bool resent = false;   // sent again, to the next leader
  };
  std::unordered_map<std::string, open_start> open;
  struct open_signal {
    std::string cid, arguments;
    bool has_id;
  };
  std::deque<open_signal> signals;
  // Up to `window` submissions on their way at once: each waits for its
  // write on the coordinator, so one at a time would go at the disk's pace.
  constexpr std::size_t window = 256;
  std::size_t unanswered = 0;
  std::int64_t waiting = 0; // started and not yet ended (an end may come before its start)
  std::uint64_t made = 0;
  auto status = client_end::done;
  bool lost = false;
  auto on_answer = [&](submit_atom, std::string& cid, std::uint8_t r) {
    --unanswered;
    auto result = static_cast<start_result>(r);
    if (follow && result == start_result::closed) {
      lost = true; // it leads no more: the next takes this start
      return;
    }
    auto entry = follow ? open.find(cid) : open.end();
    if (entry != open.end() && entry->second.resent
        && (result == start_result::started || result == start_result::duplicate)) {
      // Taken by the lost leader (duplicate) or by this one: either way its
      // end comes from this one.
      if (!entry->second.reported)
        opts.report(cid, std::string{describe(start_result::started)});
      entry->second.reported = true;
      if (result == start_result::duplicate)
        self->send(courier, watch_atom::value, opts.token, cid);
      ++waiting;
      return;
    }
    opts.report(cid, std::string{describe(result)});
    if (result == start_result::started) {
      ++waiting;
      if (entry != open.end())
        entry->second.reported = true;
      return;
    }
    if (entry != open.end())
      open.erase(entry);
    if (result != start_result::duplicate && status == client_end::done) {
      status = client_end::refused;
      error = "the coordinator refused " + cid + ": " + std::string{describe(result)};
    }
  };
  auto on_failure = [&](fail_atom, std::string& cid, std::string& why) {
    --unanswered;
    // Following, a failure is the leader's loss: its down message follows,
    // and what failed goes to the next.
    if (!follow && status == client_end::done) {
      error = "the coordinator did not take " + cid + ": " + why;
      status = client_end::lost;
    }
  };
  auto on_signal = [&](signal_atom, std::string& cid, bool is_error, std::string& text) {
    --unanswered;
    if (follow && !signals.empty())
      signals.pop_front();
    if (!is_error) {
      opts.report(cid, text.find(R"("result":"duplicate")") != std::string::npos
                         ? "signal: a duplicate of one received before, stored once"
                         : "signal stored");
    } else if (status == client_end::done) {
      status = client_end::refused;
      error = "the coordinator refused the signal to " + cid + ": " + text;
    }
  };
  auto on_end = [&](done_atom, std::string& cid, std::string& end) {
    if (follow) {
      auto entry = open.find(cid);
      if (entry == open.end())
        return; // told twice: by the lost leader and by the next
      open.erase(entry);
      if (end.empty() && status == client_end::done) {
        status = client_end::lost;
        error = "the coordinator at " + where + " does not know " + cid
                + ", which the one before took";
      }
    }
    opts.report(cid, end);
    --waiting;
  };
  auto on_down = [&](caf::down_msg& dm) {
    if (dm.source == gateway.address())
      lost = true;
  };
  // The next leader, once the old courier's last messages are taken: it
  // gets every start not yet ended and every signal not yet answered.
  auto follow_next = [&] {
    self->monitor(courier);
    self->send_exit(courier, caf::exit_reason::user_shutdown);
    for (bool gone = false; !gone;)
      self->receive(on_answer, on_signal, on_failure, on_end, [&](caf::down_msg& dm) {
        gone = dm.source == courier.address();
      });
    auto unsafe = std::find_if(signals.begin(), signals.end(), [](auto& s) { return !s.has_id; });
    if (unsafe != signals.end()) {
      error = "lost the coordinator at " + where + " with a signal to " + unsafe->cid
              + " unanswered: it may or may not be stored, and without a signal_id it cannot be "
                "sent again safely";
      return false;
    }
    auto lost_at = where;
    found = connect_leader((current + 1) % opts.coordinators.size());
    if (!found) {
      error = "lost the coordinator at " + lost_at + " and none led within "
              + std::to_string(opts.reconnect_seconds) + " s (" + why + "); the sagas it took "
              "resume when one leads";
      return false;
    }
    current = found->first;
    where = endpoint_name(opts.coordinators[current]);
    gateway = std::move(found->second);
    self->monitor(gateway);
    courier = sys.spawn(relay, gateway, caf::actor_cast<caf::actor>(self));
    unanswered = 0;
    waiting = 0;
    for (auto& [cid, entry] : open) {
      entry.resent = true;
      self->send(courier, submit_atom::value, opts.token, entry.req);
      ++unanswered;
    }
    for (auto& s : signals) {
      self->send(courier, signal_atom::value, opts.token, s.cid, s.arguments);
      ++unanswered;
    }
    if (opts.notice)
      opts.notice("lost the coordinator at " + lost_at + "; " + where + " leads now: "
                  + std::to_string(open.size()) + " starts and " + std::to_string(signals.size())
                  + " signals sent to it again");
    return true;
  };
  auto take = [&](auto&&... timeout) {
    self->receive(on_answer, on_signal, on_failure, on_end, on_down,
                  std::forward<decltype(timeout)>(timeout)...);
    if (lost && follow && status == client_end::done)
      lost = !follow_next();
  };
  auto take_ready = [&] { // what has come, without waiting
    for (bool more = true; more && !lost;)
      take(caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  };
  // One more submission on its way: waits while the window is full, and
  // reports the answers and ends that arrived meanwhile as they come.
  auto sent = [&] {
    ++unanswered;
    while (unanswered >= window && !lost)
      take();
    take_ready();
  };
  for (bool more = true; more && status == client_end::done && !lost;) {
    config::saga_request req;
    switch (input.next(req, why)) {
      case runtime::input_source::result::end:
        more = false;
        continue;
      case runtime::input_source::result::later:
        while (unanswered > 0 && status == client_end::done && !lost) // a quiet pipe: settle what went out
          take();
        continue;
      case runtime::input_source::result::bad_line:
      case runtime::input_source::result::failed:
        error = why;
        status = client_end::refused;
        continue;
      case runtime::input_source::result::request:
        break;
    }
    if (req.cancel) {
      error = "line " + std::to_string(req.line) + ": submit starts and signals sagas; cancel "
              "with nexus on the coordinator's node";
      status = client_end::refused;
      continue;
    }
    if (!req.signal.empty()) {
      auto arguments = runtime::signal_tool_arguments(
        {req.correlation_id, req.signal, req.data, req.signal_id});
      if (follow)
        signals.push_back({req.correlation_id, arguments, !req.signal_id.empty()});
      self->send(courier, signal_atom::value, opts.token, req.correlation_id, std::move(arguments));
      sent();
      continue;
    }
    if (req.correlation_id.empty())
      req.correlation_id = runtime::make_correlation_id(req.saga, ++made);
    if (follow)
      open[req.correlation_id].req = req;
    self->send(courier, submit_atom::value, opts.token, std::move(req));
    sent();
  }
  while (unanswered > 0 && !lost)
    take();
  while (!opts.detach && waiting > 0 && !lost)
    take();
  self->send_exit(courier, caf::exit_reason::user_shutdown);
  if (lost && status != client_end::refused) {
    if (error.empty())
      error = "lost the coordinator at " + where + " (it stopped answering or closed the "
              "connection) with " + std::to_string(unanswered) + " submissions unanswered and "
              + std::to_string(std::max<std::int64_t>(0, waiting)) + " sagas not ended; the sagas "
              "it took resume when it starts again";
    status = client_end::lost;
  }
  return status;
}

} // namespace nexus::actors
