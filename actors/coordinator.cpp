#include "actors/coordinator.hpp"

#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/errors.hpp"
#include "actors/saga_actor.hpp"
#include "actors/messages.hpp"
#include "actors/timer_service.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"
#include "runtime/rebuild.hpp"
#include "runtime/saga_admission.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/signal_log.hpp"
#include "runtime/message_tally.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

using runtime::cancel_result;
using runtime::saga_admission;
using runtime::start_result;
using runtime::start_source;
using action = saga_admission::action;

using cancel_reply = std::function<void(cancel_result, const std::string& status)>;
using signal_reply = std::function<void(runtime::signal_result, const std::string& detail)>;

/// The shell of runtime::saga_admission: it does what the core decides
/// (reads the input, rebuilds sagas from the log, writes starts, spawns
/// sagas) and reports back; what it keeps itself is only what the core
/// need not see: the live sagas' actors, submitters' watchers, and cancels
/// waiting for a start to be written.
struct coordinator_state {
  coordinator_setup setup;
  std::optional<saga_admission> core;
  /// Per saga definition, built on first use (they hold this actor, and go
  /// with its state when it exits).
  std::map<std::uint64_t, std::shared_ptr<const saga_links>> links;
  /// The live sagas' actors, in the places the core gave them.
  std::vector<caf::actor> live;
  /// Told `(done_atom, cid, status)` when the saga ends: `nexus submit`s.
  std::unordered_map<std::string, caf::actor> watchers;
  /// Answered with its end status when the saga ends (`watch_atom`: HTTP
  /// `?wait`), any number per saga.
  std::unordered_multimap<std::string, caf::typed_response_promise<std::string>> end_waiters;
  /// Unfinished sagas this run could not rebuild (their ends are not
  /// waited for).
  std::unordered_set<std::string> unresumable;
  /// Retries of sagas whose failed end is durable and not yet heard of:
  /// asked again once it is (a client that read the end retries at once).
  std::unordered_multimap<std::string, caf::typed_response_promise<bool, std::string>>
    retry_waiters;
  /// Cancels of sagas whose first events are on their way to the log.
  std::unordered_map<std::string, std::vector<cancel_reply>> cancels;
  /// Signals to sagas whose first events are on their way to the log.
  std::unordered_map<std::string, std::vector<std::pair<runtime::saga_signal, signal_reply>>> signals;
  caf::response_promise done;
  /// Tells it of parked sagas' timers as they come due.
  caf::actor timers;
  static inline const char* name = "nexus.coordinator";
};

using coordinator_self = coordinator_actor::stateful_pointer<coordinator_state>;

/// What the sagas of one definition talk to, shared by all of them.
std::shared_ptr<const saga_links> links_for(coordinator_self self, const config::saga_spec& spec) {
  auto& st = self->state;
  auto& links = st.links[spec.id];
  if (links)
    return links;
  saga_links made{st.setup.writer, caf::actor_cast<saga_listener>(self), st.setup.stages.at(spec.id),
                  static_cast<std::int64_t>(st.setup.workflow->runtime.passivate_after_ms) * 1000,
                  nullptr, {}, st.setup.spans};
  if (auto* board = st.setup.meters) {
    made.meters = &board->saga(spec.name);
    for (auto& step : spec.steps)
      made.step_meters.push_back(&board->step(spec.name, step.name));
  }
  links = std::make_shared<const saga_links>(std::move(made));
  return links;
}

/// Rebuilds unfinished saga `cid` from its events, read through `cursor`,
/// on the definition it runs on (`hash`); null if it cannot be resumed
/// (logged) or has ended.
std::unique_ptr<runtime::saga_machine> rebuild_one(coordinator_self self, const std::string& cid,
                                                   const std::string& hash,
                                                   storage::event_cursor& cursor) {
  auto& st = self->state;
  auto rebuilding = storage::now_us();
  auto spec = st.setup.definitions->find(hash);
  if (spec == nullptr || st.setup.stages.count(spec->id) == 0) {
    runtime::log(spdlog::level::err, {cid, ""},
                 "cannot resume: its definition {} is not among this run's", hash);
    return nullptr;
  }
  std::string why;
  auto machine = runtime::rebuild_saga(cursor, *spec, cid, why);
  st.core->replay_took(storage::now_us() - rebuilding);
  if (!machine) {
    runtime::log(spdlog::level::err, {cid, spec->name}, "cannot resume: {}", why);
    return nullptr;
  }
  if (machine->finished())
    return nullptr;
  return machine;
}

/// Keeps a live saga's actor in its place.
void keep(coordinator_self self, std::uint32_t place, caf::actor saga) {
  auto& live = self->state.live;
  if (place >= live.size())
    live.resize(place + 1);
  live[place] = std::move(saga);
}

/// Brings rebuilt sagas back to life.
void resume(coordinator_self self, std::vector<std::unique_ptr<runtime::saga_machine>> rebuilt) {
  auto& st = self->state;
  for (auto& m : rebuilt) {
    auto from = st.core->waking(m->cid()) ? resumed_from::park_for_timer : resumed_from::log;
    auto place = st.core->resumed(m->cid(), m->last_seq(), storage::now_us());
    auto links = links_for(self, m->spec());
    keep(self, place, spawn_resumed_saga(self->system(), std::move(*m), std::move(links), from));
  }
}

/// Answers whoever waits for saga `cid`'s end (watch_atom) with `status`.
void tell_end_waiters(coordinator_state& st, const std::string& cid, const std::string& status) {
  auto [from, to] = st.end_waiters.equal_range(cid);
  for (auto i = from; i != to; ++i)
    i->second.deliver(status);
  st.end_waiters.erase(from, to);
}

/// Whether `row` is that of a saga parked and not ended.
bool is_parked(const storage::saga_row& row) {
  return row.parked && !storage::is_terminal(row.status);
}

/// The definition parked saga `cid` (its row `row`) runs on; null, logged,
/// if it cannot be loaded.
const config::saga_spec* parked_definition(coordinator_self self, const std::string& cid,
                                           const storage::saga_row& row) {
  auto& st = self->state;
  std::string why;
  auto* spec = st.setup.definitions->of(*st.setup.log, cid, row, why);
  if (spec == nullptr)
    runtime::log(spdlog::level::err, {cid, row.saga}, "cannot bring back: {}", why);
  return spec;
}

/// Brings parked saga `cid` (its row `row`) back from its events, regardless
/// of room, for the signal or cancel that follows; false if it cannot be
/// (logged) or its row says it is not parked.
bool revive(coordinator_self self, const std::string& cid, const storage::saga_row& row) {
  auto& st = self->state;
  if (!is_parked(row))
    return false;
  auto* spec = parked_definition(self, cid, row);
  if (spec == nullptr)
    return false;
  auto cursor = st.setup.log->cursor();
  auto m = rebuild_one(self, cid, spec->hash, *cursor);
  if (!m)
    return false;
  auto place = st.core->revived(cid, storage::now_us());
  auto links = links_for(self, m->spec());
  keep(self, place, spawn_resumed_saga(self->system(), std::move(*m), std::move(links),
                                       resumed_from::park_for_request));
  return true;
}

/// Parked saga `cid`, if it is one, brought back (see revive()).
bool revive_parked(coordinator_self self, const std::string& cid) {
  auto& st = self->state;
  if (st.core->place_of(cid) || st.core->busy(cid) || st.core->waking(cid))
    return false;
  storage::status s = storage::status::ok();
  auto row = st.setup.log->find_saga(cid, s);
  return row && revive(self, cid, *row);
}

/// Does a `resume` or `launch` action.
void bring_to_life(coordinator_self self, action& a) {
  auto& st = self->state;
  if (a.what == action::kind::launch) {
    auto links = links_for(self, a.saga.machine->spec());
    keep(self, a.place, spawn_started_saga(self->system(), std::move(a.saga), std::move(links)));
  } else if (a.what == action::kind::resume) {
    // Rebuilt one after another through one cursor (it sees every one of
    // them, since none writes before it is resumed), and only then brought
    // to life, so that the sagas already back do not slow the reading of
    // the others.
    auto cursor = st.setup.log->cursor();
    std::vector<std::unique_ptr<runtime::saga_machine>> rebuilt;
    for (auto& [cid, hash] : a.unfinished) {
      if (st.core->live(cid)) // already resumed, to be cancelled
        continue;
      if (auto m = rebuild_one(self, cid, hash, *cursor)) {
        rebuilt.push_back(std::move(m));
      } else {
        st.core->not_resumed(cid);
        st.unresumable.insert(cid);
        tell_end_waiters(st, cid, ""); // it will not end in this run
      }
    }
    cursor.reset();
    resume(self, std::move(rebuilt));
  }
}

/// Cancels unfinished saga `cid`, which this run could not resume (its
/// definition is missing from the log): its cancel_requested event is
/// stored, and once `nexus migrate` has moved it to a definition the run
/// that resumes it rolls it back and ends it `cancelled`.
void record_cancel(coordinator_self self, const std::string& cid, const storage::saga_row& row,
                   cancel_reply reply) {
  auto& st = self->state;
  std::uint64_t last = 0;
  auto s = st.setup.log->read_raw(cid, 1, UINT64_MAX, [&](std::uint64_t seq, std::string_view) {
    last = seq;
    return true;
  });
  if (!s || last == 0) {
    reply(cancel_result::unknown, s ? "its events cannot be found" : s.message());
    return;
  }
  storage::event e;
  e.seq = last + 1;
  e.ts_us = storage::now_us();
  e.cid = cid;
  e.type = storage::event_type::cancel_requested;
  e.saga = row.saga;
  storage::append_request req;
  req.cid = cid;
  std::string json;
  storage::encode_event(e, json);
  req.events.emplace_back(e.seq, std::move(json));
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(req))
    .then(
      [cid, saga = row.saga, reply](ack_atom) {
        runtime::count_message();
        runtime::log(spdlog::level::warn, {cid, saga},
                     "cancel stored: the saga cannot run until `nexus migrate` moves it to a "
                     "definition; then it rolls back and ends cancelled");
        reply(cancel_result::cancelling, "");
      },
      [reply](caf::error& err) {
        runtime::count_message();
        reply(cancel_result::unknown, describe(err));
      });
}

/// Cancels `cid` wherever it is: running, waiting to start or to resume.
void cancel_saga(coordinator_self self, const std::string& cid, cancel_reply reply,
                 int tries = 0) {
  auto& st = self->state;
  if (st.core->starting(cid)) {
    st.cancels[cid].push_back(std::move(reply)); // once it is durable
    return;
  }
  auto forward = st.core->bring_forward(cid); // a cancel reaches it alive
  bring_to_life(self, forward);
  revive_parked(self, cid);
  if (auto place = st.core->place_of(cid); place && tries < 3) {
    self->request(st.live[*place], caf::infinite, cancel_atom::value)
      .then([reply](bool running) {
              runtime::count_message();
              reply(running ? cancel_result::cancelling : cancel_result::already_ended, "");
            },
            [self, cid, reply, tries](caf::error&) {
              runtime::count_message();
              // It ended or parked meanwhile (its message to this actor came
              // first): brought back or read from the log, as signals are.
              cancel_saga(self, cid, reply, tries + 1);
            });
    return;
  }
  storage::status s = storage::status::ok();
  auto row = st.setup.log->find_saga(cid, s);
  if (row && !storage::is_terminal(row->status)) {
    record_cancel(self, cid, *row, std::move(reply));
    return;
  }
  if (row)
    reply(cancel_result::already_ended, std::string{to_string(row->status)});
  else
    reply(cancel_result::unknown, s ? "" : s.message());
}

void fill(coordinator_self self);
void finish_if_idle(coordinator_self self);

/// Signals `s.cid` wherever it is: running (its actor records it), waiting
/// to start or to resume (it is brought to life), or held by no actor here
/// (the signal is appended to its events, for the run that resumes it).
void signal_saga(coordinator_self self, runtime::saga_signal s, signal_reply reply,
                 int tries = 0) {
  using runtime::signal_result;
  auto& st = self->state;
  if (st.core->starting(s.cid)) {
    auto cid = s.cid;
    st.signals[cid].emplace_back(std::move(s), std::move(reply)); // once it is durable
    return;
  }
  auto forward = st.core->bring_forward(s.cid); // a signal reaches it alive
  bring_to_life(self, forward);
  auto send_live = [&](std::uint32_t place) {
    self->request(st.live[place], caf::infinite, signal_atom::value, s.name, s.data, s.id)
      .then([reply](std::uint8_t r, std::string& status) {
              runtime::count_message();
              reply(static_cast<signal_result>(r), status);
            },
            [self, s, reply, tries](caf::error&) {
              runtime::count_message();
              // It ended or parked meanwhile (its message to this actor came
              // first): the log says which. Three tries, then the log alone.
              signal_saga(self, s, reply, tries + 1);
            });
  };
  if (auto place = st.core->place_of(s.cid); place && tries < 3) {
    send_live(*place);
    return;
  }
  // Parked: brought back, its machine judges the signal (a duplicate one
  // is answered so, and the saga goes again).
  if (tries < 3 && revive_parked(self, s.cid)) {
    send_live(*st.core->place_of(s.cid));
    return;
  }
  storage::append_request append;
  std::string detail;
  auto r = runtime::plan_logged_signal(*st.setup.log, s, storage::now_us(), append, detail);
  if (r != signal_result::stored) {
    reply(r, detail);
    return;
  }
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(append))
    .then([reply](ack_atom) { runtime::count_message(); reply(signal_result::stored, ""); },
          [reply](caf::error& err) {
            runtime::count_message();
            reply(signal_result::failed, describe(err));
          });
}

/// What waited in `waiting` (cancels, signals) for `cid`'s first events to
/// be written, taken out.
template <class Map>
typename Map::mapped_type take_waiting(Map& waiting, const std::string& cid) {
  auto i = waiting.find(cid);
  if (i == waiting.end())
    return {};
  auto taken = std::move(i->second);
  waiting.erase(i);
  return taken;
}

using start_reply = std::function<void(start_result)>;

/// The one start path, for every source: the core's checks, then the log's
/// for a duplicate, then the saga's first events are written; it goes live
/// when there is room. `reply` is told the result once it is known (a start
/// only once durable: a start that was answered survives a crash, and the
/// next run resumes it); the result is returned at once when the start was
/// refused without a write, else `started`; `reply` is not called then.
start_result start_saga(coordinator_self self, config::saga_request&& req, start_source source,
                        start_reply reply) {
  auto& st = self->state;
  std::string why;
  auto r = st.core->check(req, source, why);
  if (r == start_result::started) {
    storage::status s = storage::status::ok();
    if (st.setup.log->find_saga(req.correlation_id, s))
      r = start_result::duplicate;
    else if (!s) {
      st.core->stop(s.message(), 1);
      r = start_result::closed;
    }
  }
  if (r != start_result::started) {
    st.core->refused(r);
    if (source == start_source::input && r != start_result::duplicate)
      runtime::log(spdlog::level::warn, {req.correlation_id, req.saga}, "not started: {}", why);
    return r;
  }
  auto cid = req.correlation_id;
  auto append = st.core->begin_start(std::move(req), storage::now_us());
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(append))
    .then(
      [self, cid, reply](ack_atom) {
        runtime::count_message();
        auto wake = self->state.core->start_written(cid); // parked at once
        if (wake && *wake != runtime::saga_machine::never)
          caf::anon_send(self->state.timers, park_atom::value, *wake);
        if (reply)
          reply(start_result::started);
        for (auto& cancel : take_waiting(self->state.cancels, cid))
          cancel_saga(self, cid, std::move(cancel));
        for (auto& [signal, answer] : take_waiting(self->state.signals, cid))
          signal_saga(self, std::move(signal), std::move(answer));
        fill(self);
      },
      [self, cid, reply](caf::error& err) {
        runtime::count_message();
        auto& core = *self->state.core;
        core.start_failed(cid);
        for (auto& cancel : take_waiting(self->state.cancels, cid))
          cancel(cancel_result::unknown, "");
        for (auto& pending : take_waiting(self->state.signals, cid))
          pending.second(runtime::signal_result::unknown, "");
        core.stop("event log write failed: " + describe(err), 1);
        if (reply)
          reply(start_result::closed);
        finish_if_idle(self);
      });
  return r;
}

/// What an input line asks: a cancel, or a start.
void take(coordinator_self self, config::saga_request&& req) {
  auto cid = req.correlation_id;
  if (!req.signal.empty()) {
    auto name = req.signal;
    signal_saga(self, {cid, std::move(req.signal), std::move(req.data), std::move(req.signal_id)},
                [cid, name](runtime::signal_result r, const std::string& detail) {
                  using runtime::signal_result;
                  runtime::log_context ctx{cid};
                  if (r == signal_result::stored)
                    runtime::log(spdlog::level::info, ctx, "signal {} from an input line stored", name);
                  else if (r == signal_result::duplicate)
                    runtime::log(spdlog::level::info, ctx, "signal {} from an input line: a "
                                 "duplicate of one received before (same signal_id)", name);
                  else if (r == signal_result::ended)
                    runtime::log(spdlog::level::warn, ctx, "signal {} from an input line: the saga "
                                 "has ended{}: nothing waits for it", name,
                                 detail.empty() ? "" : " (" + detail + ")");
                  else if (r == signal_result::unknown)
                    runtime::log(spdlog::level::warn, ctx, "signal {} from an input line: no such "
                                 "saga in the log", name);
                  else
                    runtime::log(spdlog::level::err, ctx, "signal {} from an input line not "
                                 "stored: {}", name, detail);
                });
    return;
  }
  if (req.cancel) {
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
    return;
  }
  auto saga = req.saga;
  if (start_saga(self, std::move(req), start_source::input, nullptr) == start_result::duplicate)
    runtime::log(spdlog::level::info, {cid, saga},
                 "the saga is already in the log: not started again");
}

/// Asks the input reader for up to `count` more requests.
void read_more(coordinator_self self, std::uint32_t count) {
  self->request(self->state.setup.input, caf::infinite, read_atom::value, count)
    .then(
      [self](input_batch& b) {
        runtime::count_message();
        self->state.core->input_read(std::move(b.requests), b.skipped, b.end, std::move(b.error));
        fill(self);
      },
      [self](caf::error& err) {
        runtime::count_message();
        self->state.core->input_failed(caf::to_string(err));
        fill(self);
      });
}

/// The summary of the run so far, with the writer's counts of what it
/// wrote, handed to `deliver` (without them if the writer has gone).
template <class F>
void with_write_counts(coordinator_self self, F deliver) {
  self->request(self->state.setup.writer, caf::infinite, stats_atom::value)
    .then(
      [self, deliver](std::uint64_t events, std::uint64_t batches) mutable {
        runtime::count_message();
        auto s = self->state.core->summary(storage::now_us());
        s.events = events;
        s.write_batches = batches;
        deliver(std::move(s));
      },
      [self, deliver](caf::error&) mutable {
        runtime::count_message();
        deliver(self->state.core->summary(storage::now_us()));
      });
}

void finish_if_idle(coordinator_self self) {
  auto& st = self->state;
  if (!st.core->finished() || !st.done.pending())
    return;
  with_write_counts(self, [self](runtime::run_summary s) { self->state.done.deliver(std::move(s)); });
}

/// Does what the core says until it says wait.
void fill(coordinator_self self) {
  auto& st = self->state;
  for (auto a = st.core->next(); a.what != action::kind::none; a = st.core->next()) {
    switch (a.what) {
      case action::kind::read:
        read_more(self, a.count);
        break;
      case action::kind::take:
        take(self, std::move(a.request));
        break;
      default:
        bring_to_life(self, a);
    }
  }
  finish_if_idle(self);
}

/// Reopens the compensation of saga `cid`, which ended `failed`: appends
/// the reopening event, then resumes it from the log like any unfinished
/// saga. Answers `(true, "")` once the event is durable, or `(false, why)`.
caf::result<bool, std::string> retry_saga(coordinator_self self, const std::string& cid) {
  auto& st = self->state;
  if (!st.core->taking())
    return {false, std::string{"the engine is stopping: it takes no more work"}};
  if (st.core->busy(cid)) {
    storage::status s = storage::status::ok();
    if (auto row = st.setup.log->find_saga(cid, s); row && storage::is_terminal(row->status)) {
      auto promise = self->make_response_promise<bool, std::string>();
      st.retry_waiters.emplace(cid, promise);
      return promise;
    }
    return {false, "saga " + cid + " is still running: only a saga that ended failed has a "
                   "compensation to retry"};
  }
  std::string error;
  auto req = runtime::prepare_reopen(*st.setup.log, *st.setup.definitions, cid, storage::now_us(),
                                     error);
  if (!req)
    return {false, std::move(error)};
  auto saga = req->row->saga;
  auto hash = req->row->definition;
  if (auto* spec = st.setup.definitions->find(hash); !spec || !st.setup.stages.count(spec->id))
    return {false, "saga " + cid + " runs on definition " + hash.substr(0, 12)
                     + ", which this run has no stages for: retry it with `nexus retry` while "
                       "no run holds the data directory"};
  st.core->begin_reopen(cid); // a second retry meanwhile is refused as running
  auto promise = self->make_response_promise<bool, std::string>();
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(*req))
    .then(
      [self, cid, saga, hash, promise](ack_atom) mutable {
        runtime::count_message();
        self->state.core->reopen_ended(cid);
        runtime::log(spdlog::level::info, {cid, saga}, "compensation reopened");
        action a;
        a.what = action::kind::resume;
        a.unfinished.emplace_back(cid, hash);
        bring_to_life(self, a);
        promise.deliver(true, std::string{});
      },
      [self, cid, promise](caf::error& err) mutable {
        runtime::count_message();
        auto& core = *self->state.core;
        core.reopen_ended(cid);
        auto why = "event log write failed: " + describe(err);
        core.stop(why, 1);
        promise.deliver(false, why);
        finish_if_idle(self);
      });
  return promise;
}

/// Tells every live saga to stop where it is (it resumes next run).
void stop_live_sagas(coordinator_self self) {
  // Each exit wakes a saga. Sent from this actor, 100,000 wakeups would all
  // land in one worker's queue, fought over with the threads that steal
  // from it (8 to 30 s); sent anonymously, they are enqueued without an
  // execution unit and the scheduler spreads them over every worker's
  // queue (0.1 s).
  for (auto& saga : self->state.live)
    caf::anon_send_exit(saga, caf::exit_reason::user_shutdown);
  self->state.live.clear();
  self->state.core->abandon_live();
}

coordinator_actor::behavior_type coordinator(coordinator_self self, coordinator_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.core.emplace(*st.setup.workflow, static_cast<bool>(st.setup.input));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    stop_live_sagas(self);
    self->quit(msg.reason);
  });
  return {
    [=](run_atom) {
      runtime::count_message();
      auto& st = self->state;
      auto began = storage::now_us();
      for (auto& stage : st.setup.pools)
        self->send(stage, watch_atom::value);
      auto unfinished = std::move(st.setup.unfinished);
      if (!unfinished.empty())
        spdlog::info("resuming {} unfinished sagas", unfinished.size());
      if (st.setup.parked > 0)
        spdlog::info("{} sagas wait in the log (parked)", st.setup.parked);
      st.core->begin(began, std::move(unfinished), st.setup.input_size, st.setup.parked);
      st.core->replay_took(storage::now_us() - began);
      timer_setup timers;
      timers.scan = [log = st.setup.log](std::string_view after, const auto& visit) {
        return log->for_each_timer(after, visit);
      };
      timers.target = caf::actor_cast<caf::actor>(self);
      timers.lookahead_us = static_cast<std::int64_t>(st.setup.workflow->runtime.passivate_after_ms)
                            * 1000;
      timers.now_us = [] { return storage::now_us(); };
      st.timers = spawn_timer_service(self->system(), std::move(timers), st.setup.timer_placement);
      self->link_to(st.timers);
      fill(self);
    },
    [=](close_atom) -> caf::result<runtime::run_summary> {
      runtime::count_message();
      auto& st = self->state;
      st.core->close();
      st.done = self->make_response_promise();
      finish_if_idle(self);
      return caf::delegated<runtime::run_summary>{};
    },
    [=](close_atom, bool parked_too) -> caf::result<runtime::run_summary> {
      runtime::count_message();
      auto& st = self->state;
      st.core->close(parked_too);
      st.done = self->make_response_promise();
      finish_if_idle(self);
      return caf::delegated<runtime::run_summary>{};
    },
    [=](park_atom, const std::string& cid, std::int64_t wake_us) {
      runtime::count_message();
      auto& st = self->state;
      if (auto place = st.core->parked(cid))
        st.live[*place] = nullptr;
      if (wake_us != 0 && wake_us != runtime::saga_machine::never)
        caf::anon_send(st.timers, park_atom::value, wake_us);
      fill(self);
    },
    [=](wake_atom, const std::string& cid, std::int64_t wake_us) {
      runtime::count_message();
      auto& st = self->state;
      if (st.core->starting(cid) || st.core->waking(cid))
        return;
      if (auto place = st.core->place_of(cid)) { // in memory: its own timers, held back or set
        caf::anon_send(st.live[*place], wake_atom::value);
        return;
      }
      if (st.core->busy(cid))
        return;
      storage::status s = storage::status::ok();
      auto row = st.setup.log->find_saga(cid, s);
      if (row && is_parked(*row)) {
        auto* spec = parked_definition(self, cid, *row);
        if (spec == nullptr) // its timer stays: the next start tells it again
          return;
        st.core->wake(cid, spec->hash);
        fill(self);
        return;
      }
      if (!s)
        return; // read again on the next start
      // A timer its saga no longer needs (it ended, or was moved): cleared.
      storage::append_request clear;
      clear.cid = cid;
      clear.timer_clear = wake_us;
      self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(clear))
        .then([](ack_atom) { runtime::count_message(); },
              [](caf::error&) { runtime::count_message(); });
    },
    [=](start_atom, config::saga_request& req) -> caf::result<std::uint8_t> {
      runtime::count_message();
      auto promise = self->make_response_promise<std::uint8_t>();
      auto answer = [promise](start_result r) mutable {
        promise.deliver(static_cast<std::uint8_t>(r));
      };
      auto r = start_saga(self, std::move(req), start_source::submission, answer);
      if (r != start_result::started)
        answer(r);
      return promise;
    },
    [=](start_atom, config::saga_request& req, caf::actor& watcher) -> caf::result<std::uint8_t> {
      runtime::count_message();
      // Watched from now: a saga that ends before the start is answered is
      // still reported (a refused one never ends, and is forgotten).
      auto cid = req.correlation_id;
      bool watching = watcher && self->state.watchers.emplace(cid, watcher).second;
      auto promise = self->make_response_promise<std::uint8_t>();
      auto answer = [self, cid, watching, promise](start_result r) mutable {
        if (watching && r != start_result::started)
          self->state.watchers.erase(cid);
        promise.deliver(static_cast<std::uint8_t>(r));
      };
      auto r = start_saga(self, std::move(req), start_source::submission, answer);
      if (r != start_result::started)
        answer(r);
      return promise;
    },
    [=](cancel_atom, const std::string& cid) -> caf::result<std::uint8_t, std::string> {
      runtime::count_message();
      auto promise = self->make_response_promise<std::uint8_t, std::string>();
      cancel_saga(self, cid, [promise](cancel_result r, const std::string& status) mutable {
        promise.deliver(static_cast<std::uint8_t>(r), status);
      });
      return promise;
    },
    [=](signal_atom, std::string& cid, std::string& name, std::string& data,
        std::string& id) -> caf::result<std::uint8_t, std::string> {
      runtime::count_message();
      auto promise = self->make_response_promise<std::uint8_t, std::string>();
      signal_saga(self, {std::move(cid), std::move(name), std::move(data), std::move(id)},
                  [promise](runtime::signal_result r, const std::string& detail) mutable {
                    promise.deliver(static_cast<std::uint8_t>(r), detail);
                  });
      return promise;
    },
    [=](retry_atom, const std::string& cid) -> caf::result<bool, std::string> {
      runtime::count_message();
      return retry_saga(self, cid);
    },
    [=](watch_atom, const std::string& cid) -> caf::result<std::string> {
      runtime::count_message();
      auto& st = self->state;
      if (!st.core->busy(cid) && !st.core->waking(cid)) {
        storage::status s = storage::status::ok();
        auto row = st.setup.log->find_saga(cid, s);
        if (row && storage::is_terminal(row->status))
          return std::string{storage::to_string(row->status)};
        // Unfinished and not alive: parked, or still to be resumed (a run
        // resumes every one); one this run could not resume is answered "".
        if (!row || st.unresumable.count(cid) > 0)
          return std::string{};
      }
      auto promise = self->make_response_promise<std::string>();
      st.end_waiters.emplace(cid, promise);
      return promise;
    },
    [=](stats_atom) -> caf::result<runtime::run_summary> {
      runtime::count_message();
      auto promise = self->make_response_promise<runtime::run_summary>();
      with_write_counts(self, [self, promise](runtime::run_summary s) mutable {
        s.interrupted = self->state.core->not_ended();
        promise.deliver(std::move(s));
      });
      return promise;
    },
    [=](pressure_atom, const std::string& stage, bool full) {
      runtime::count_message();
      self->state.core->pressure(stage, full);
      if (full)
        spdlog::debug("stage {} is full: no new sagas until it drains", stage);
      else
        fill(self);
    },
    [=](done_atom, const std::string& cid, const std::string& status, const std::string& saga) {
      runtime::count_message();
      auto& st = self->state;
      if (auto place = st.core->ended(cid, status, storage::now_us(), saga))
        st.live[*place] = nullptr;
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
      tell_end_waiters(st, cid, status);
      auto [first, last] = st.retry_waiters.equal_range(cid);
      for (auto i = first; i != last; ++i)
        i->second.delegate(caf::actor_cast<caf::actor>(self), retry_atom::value, cid);
      st.retry_waiters.erase(first, last);
      fill(self);
    },
    [=](fail_atom, const std::string&, const std::string& message) {
      runtime::count_message();
      // The log takes no more writes: waiting for the other sagas to find
      // out one by one (some on long retry timers) would only delay the
      // stop. What they had not had acknowledged is resumed next run.
      stop_live_sagas(self);
      self->state.core->stop("event log write failed: " + message, 1);
      finish_if_idle(self);
    },
  };
}

} // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys, coordinator_setup setup,
                                    placement where) {
  // Detached: its duplicate checks, cancels and resumes read the log, and
  // RocksDB reads must not hold a scheduler thread that sagas run on.
  setup.timer_placement = where;
  if (where == placement::scheduler)
    return sys.spawn(coordinator, std::move(setup));
  return sys.spawn<caf::detached>(coordinator, std::move(setup));
}

} // namespace nexus::actors
