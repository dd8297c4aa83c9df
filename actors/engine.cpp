#include "actors/engine.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/breaker_actor.hpp"
#include "actors/caller.hpp"
#include "actors/cluster/host.hpp"
#include "actors/coordinator.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/ha/replication.hpp"
#include "actors/input_reader.hpp"
#include "actors/retention.hpp"
#include "actors/run_watchers.hpp"
#include "actors/stage.hpp"
#include "actors/step_wiring.hpp"
#include "actors/tool_gate.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/input_source.hpp"
#include "runtime/rebuild.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"
#include "runtime/span_export.hpp"
#include "actors/messages.hpp"
#include "runtime/step_context.hpp"
#include "actors/system_config.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

/// Names the first `handler` action whose handler is not registered.
bool handlers_present(const config::workflow& wf, const runtime::handler_registry* handlers,
                      std::string& error) {
  for (auto& [name, saga] : wf.sagas)
    for (auto& step : saga.steps)
      for (auto* a : {&step.action, step.compensate ? &*step.compensate : nullptr}) {
        if (a == nullptr || a->kind != config::action_kind::handler)
          continue;
        if (handlers == nullptr || handlers->find(a->handler) == nullptr) {
          error = "saga " + name + ", step " + step.name + ": no C++ handler is registered as "
                  + a->handler + " (handlers are registered by the program that embeds Nexus)";
          return false;
        }
      }
  return true;
}

} // namespace

// Members are destroyed in reverse order: every actor handle goes before the
// system (~actor_system waits for detached actors, so no handle to one may
// outlive it), and the system before the log its writer uses.
struct engine::impl {
  const config::workflow& wf;
  run_options opts;
  std::string error;
  int exit_status = 0;
  runtime::run_summary summary;
  bool waited = false;
  std::unique_ptr<storage::event_log> log;
  /// The definitions sagas run on: the file's, and those of the log's
  /// unfinished and failed sagas. Stages look calls up in it.
  std::unique_ptr<runtime::definition_catalog> definitions;
  /// Unfinished sagas to resume (ID, definition hash), and those that
  /// cannot be, their definitions missing from the log (ID, why).
  std::vector<std::pair<std::string, std::string>> unfinished, unrunnable;
  std::uint64_t parked = 0; ///< Unfinished sagas left in the log, parked.
  /// tracing.otlp_endpoint's exporter: sagas submit to it, so it goes after
  /// the system (and sends what is queued as it goes).
  std::unique_ptr<runtime::span_exporter> spans;
  std::unique_ptr<actors::system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  step_wiring steps; ///< The stages and breakers, and where each step's calls go.
  std::map<std::string, stage_stats> final_stages; ///< Kept by wait() for stages().
  input_reader reader;              ///< The input reader, if the run has input.
  config::breaker_spec default_breaker; ///< For resources with no `breakers` entry.
  log_writer writer;
  caf::actor shipper; ///< A replicating leader's (opts.replication).
  caf::actor retention;
  coordinator_actor coordinator;
  cluster_host cluster; ///< A cluster's coordinator: dispatcher, gateway, front, endpoint.
  /// wait_for(): how long sagas may take to end; none: as long as they need.
  std::optional<std::chrono::milliseconds> grace;

  impl(const config::workflow& w, const run_options& o) : wf(w), opts(o) {}

  engine* owner = nullptr; ///< For the tools of opts.cluster.

  /// Tool calls from the gateway run on threads of their own and call the
  /// engine's methods: wait() and the destructor close this first.
  tool_gate tools;

  bool fail(std::string why, int status) {
    error = std::move(why);
    exit_status = status;
    return false;
  }

  bool open() {
    std::shared_ptr<runtime::input_source> input;
    if (!handlers_present(wf, opts.handlers, error))
      return fail(error, 2);
    if (!opts.input_path.empty()) {
      input = runtime::open_input_file(opts.input_path, error);
      if (!input)
        return fail(error, 2);
    } else if (opts.generate > 0) {
      if (wf.find_saga(opts.saga) == nullptr)
        return fail("--saga " + opts.saga + ": the workflow defines no such saga", 2);
      input = runtime::make_generator(opts.saga, opts.generate);
    }
    log = storage::event_log::open(
      storage::log_options::writer(wf.runtime.data_dir, wf.runtime.durability), error);
    if (!log)
      return fail(error, 1);
    if (!wf.tracing.otlp_endpoint.empty())
      spans = std::make_unique<runtime::span_exporter>(
        wf.tracing, opts.meters ? &opts.meters->traces() : nullptr);
    if (opts.cluster.listen)
      cfg = std::make_unique<actors::system_config>(wf.runtime.threads, wf.cluster);
    else
      cfg = std::make_unique<actors::system_config>(wf.runtime.threads);
    sys = std::make_unique<caf::actor_system>(*cfg);
    // A leader's every write is a batch of the replicated log, the
    // definitions stored next included: it leads before anything is written.
    if (opts.replication.epoch != 0 && !lead())
      return false;
    if (!load_definitions())
      return false;
    writer = spawn_event_log_writer(*sys, *log, wf.runtime.batch_size, placement::own_thread,
                                    opts.meters ? &opts.meters->log() : nullptr, shipper);
    if (!spawn_steps())
      return false;
    if (wf.runtime.retention_days > 0)
      retention = spawn_retention(*sys, *log, wf.runtime.retention_days);
    std::uint64_t input_size = 0;
    if (input) {
      input_size = input->size().value_or(0);
      reader = spawn_input_reader(*sys, std::move(input), wf, opts.on_bad_input);
    }
    coordinator_setup setup{&wf, definitions.get(), log.get(), writer, steps.targets,
                            reader, input_size, {steps.stages.begin(), steps.stages.end()},
                            std::move(unfinished), parked};
    setup.meters = opts.meters;
    setup.spans = spans.get();
    coordinator = spawn_coordinator(*sys, std::move(setup));
    if (opts.cluster.listen && !listen())
      return false;
    spdlog::info("run started: data_dir={} threads={} max_in_flight={}", wf.runtime.data_dir,
                 cfg->threads(), wf.runtime.max_in_flight);
    caf::anon_send(coordinator, run_atom::value);
    return true;
  }

  /// Makes the log lead the epoch, its batches shipped to the followers.
  bool lead() {
    if (!opts.cluster.listen)
      return fail("a replicating leader must listen (--listen): its followers copy its log "
                  "through it", 2);
    shipper_setup setup;
    setup.log = log.get();
    setup.epoch = opts.replication.epoch;
    setup.min_replicas = opts.replication.min_replicas;
    setup.checkpoint_dir = wf.runtime.data_dir + ".checkpoints";
    setup.before = log->replication();
    if (opts.replication.on_longer_log)
      setup.on_longer_log = [tell = opts.replication.on_longer_log](
                              const std::string& node, std::uint64_t, std::uint64_t) { tell(node); };
    setup.now_us = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
    };
    // On the scheduler, not a thread of its own: its handlers never block,
    // and it names itself to other nodes (see the coordinator's done_atom).
    shipper = spawn_shipper(*sys, std::move(setup), false);
    auto to = shipper;
    if (auto s = log->lead(opts.replication.epoch,
                           [to](const storage::replicated_batch& b) {
                             caf::anon_send(to, ship_atom::value, b);
                           });
        !s)
      return fail(s.message(), 1);
    spdlog::info("leading epoch {}: an append is acknowledged once {} follower(s) hold it too",
                 opts.replication.epoch, opts.replication.min_replicas);
    return true;
  }

  /// Stores the file's definitions (before any saga names one), and finds
  /// the unfinished sagas and the definitions they and the failed ones
  /// (which `retry` reopens) run on.
  bool load_definitions() {
    definitions = std::make_unique<runtime::definition_catalog>(wf);
    if (auto s = definitions->store_current(*log, storage::now_us()); !s)
      return fail(s.message(), 1);
    runtime::resumable_sagas found;
    if (auto s = runtime::find_resumable(*log, *definitions, found); !s)
      return fail(s.message(), 1);
    unfinished = std::move(found.unfinished);
    unrunnable = std::move(found.unrunnable);
    parked = found.parked;
    for (auto& [cid, why] : unrunnable)
      runtime::log(spdlog::level::err, {cid, ""},
                   "cannot resume: {}; it stays unfinished until `nexus migrate` moves it to "
                   "a definition",
                   why);
    return true;
  }

  /// The stages and breakers, and where each step's calls go (the
  /// dispatcher, in a cluster).
  bool spawn_steps() {
    wiring_inputs in;
    in.cores = cfg->threads();
    in.handlers = opts.handlers;
    in.definitions = definitions.get();
    in.log = log.get();
    in.writer = writer;
    in.default_breaker = &default_breaker;
    in.cluster = opts.cluster.listen ? &cluster : nullptr;
    in.local_stages = opts.cluster.local_stages;
    in.meters = opts.meters;
    std::string why;
    // The file's definitions first: a stage's capacity is the file's.
    std::vector<const config::saga_spec*> sagas;
    for (auto& [name, saga] : wf.sagas)
      sagas.push_back(definitions->current(name));
    for (auto& [hash, saga] : definitions->all())
      if (definitions->current(saga->name) != saga)
        sagas.push_back(saga);
    if (!wire_steps(*sys, wf, sagas, in, steps, why))
      return fail(why, 1);
    return true;
  }

  /// Publishes the gateway and waits for the workers asked for.
  bool listen() {
    gateway_tools calls;
    if (opts.cluster.tools)
      calls = [this, answer = opts.cluster.tools](const std::string& tool, const std::string& args) {
        if (!tools.enter())
          return std::make_pair(true, std::string{"the engine is stopping: it takes no more calls"});
        auto result = answer(*owner, tool, args);
        tools.leave();
        return result;
      };
    std::string why;
    if (!cluster.listen(*sys, *cfg, wf, opts.cluster, coordinator, std::move(calls), shipper, why))
      return fail(why, 1);
    return true;
  }

  /// Stops every actor; live sagas stop where they are and resume next run.
  /// Also after a failed open(), with some actors never spawned.
  void shut_down() {
    cluster.stop(*sys);
    caf::scoped_actor self{*sys};
    auto stop = [&](const auto& a) {
      if (a)
        self->send_exit(a, caf::exit_reason::user_shutdown);
    };
    stop(coordinator);
    // The breakers' latest figures, durable before they stop: a short run's
    // rows say what it did (two seconds at most, if the log is stuck).
    for (auto& b : steps.breakers)
      self->request(b, std::chrono::seconds(2), flush_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    for (auto& b : steps.breakers)
      stop(b);
    for (auto& stage : steps.stages)
      stop(stage);
    if (writer)
      self->send_exit(writer, caf::exit_reason::user_shutdown);
    stop(shipper);
    stop(retention);
    if (reader)
      self->send_exit(reader, caf::exit_reason::user_shutdown);
    if (coordinator)
      self->wait_for(coordinator);
    if (retention)
      self->wait_for(retention);
    if (reader)
      self->wait_for(reader);
    if (writer)
      self->wait_for(writer);
    if (shipper)
      self->wait_for(shipper);
  }

  /// After shut_down: lets go of the data directory, for the next run.
  void release() {
    cluster.release();
    coordinator = nullptr;
    retention = nullptr;
    writer = nullptr;
    shipper = nullptr;
    steps = {};
    reader = nullptr;
    sys.reset();
    spans.reset(); // what the sagas left queued goes now
    log.reset();
  }
};

engine::engine(const config::workflow& wf, const run_options& opts)
  : impl_(std::make_unique<impl>(wf, opts)) {
  impl_->owner = this;
  impl_->open();
}

engine::~engine() {
  impl_->tools.close();
  if (impl_->sys && !impl_->waited)
    impl_->shut_down();
}

bool engine::ok() const {
  return impl_->error.empty();
}

const std::string& engine::error() const {
  return impl_->error;
}

int engine::exit_status() const {
  return impl_->exit_status;
}

namespace {

/// The request that starts saga `saga` under `cid` (given, not made up).
config::saga_request start_request(const std::string& saga, const std::string& cid,
                                   std::string input_json) {
  config::saga_request req;
  req.saga = saga;
  req.correlation_id = cid;
  req.correlation_id_given = true;
  req.input = std::move(input_json);
  return req;
}

} // namespace

start_result engine::start(const std::string& saga, const std::string& cid, std::string input_json) {
  if (!impl_->coordinator || impl_->waited)
    return start_result::closed;
  auto req = start_request(saga, cid, std::move(input_json));
  auto result = start_result::closed;
  caller self{*impl_->sys};
  self->request(impl_->coordinator, caf::infinite, start_atom::value, std::move(req))
    .receive([&](std::uint8_t r) { result = static_cast<start_result>(r); },
             [&](caf::error&) { result = start_result::closed; });
  return result;
}

void engine::start_then(const std::string& saga, const std::string& cid, std::string input_json,
                        std::function<void(start_result)> on_answer,
                        const std::string& traceparent, const std::string& tracestate) {
  if (!impl_->coordinator || impl_->waited) {
    on_answer(start_result::closed);
    return;
  }
  auto req = start_request(saga, cid, std::move(input_json));
  req.traceparent = traceparent;
  req.tracestate = tracestate;
  spawn_start_answerer(*impl_->sys, impl_->coordinator, std::move(req), std::move(on_answer));
}

void engine::start_async(const std::string& saga, const std::string& cid, std::string input_json,
                         end_callback on_end, std::function<void(const std::string&)> on_started) {
  if (!impl_->coordinator || impl_->waited) {
    if (on_end)
      on_end(cid, start_result::closed, "");
    return;
  }
  auto req = start_request(saga, cid, std::move(input_json));
  if (!on_end) { // nothing to tell: no watcher
    caf::anon_send(impl_->coordinator, start_atom::value, std::move(req));
    return;
  }
  // The start is sent from here, not from the watcher once it runs: it must
  // reach the coordinator before anything this thread sends later, such as
  // wait()'s close.
  auto watcher = spawn_end_watcher(*impl_->sys, cid, std::move(on_end), std::move(on_started));
  caf::send_as(watcher, impl_->coordinator, start_atom::value, std::move(req), watcher);
}

void engine::watch(const std::string& cid, std::chrono::milliseconds limit,
                   std::function<void(const std::string& status)> on_end) {
  if (!impl_->coordinator || impl_->waited) {
    on_end("");
    return;
  }
  spawn_end_waiter(*impl_->sys, impl_->coordinator, cid, limit, std::move(on_end));
}

void engine::lease(std::int64_t valid_until_us) {
  if (impl_->shipper)
    caf::anon_send(impl_->shipper, lease_atom::value, valid_until_us);
}

engine::replication_figures engine::replication() {
  replication_figures f;
  if (!impl_->shipper || !impl_->sys)
    return f;
  f.epoch = impl_->opts.replication.epoch;
  f.written = impl_->log->replication().position;
  caller self{*impl_->sys};
  self->request(impl_->shipper, std::chrono::seconds(5), stats_atom::value)
    .receive([&](std::uint64_t committed, std::uint64_t replicas) {
               f.committed = committed;
               f.replicas = replicas;
             },
             [](caf::error&) {});
  self->request(impl_->shipper, std::chrono::seconds(5), followers_atom::value)
    .receive([&](std::string& followers) { f.followers = std::move(followers); },
             [](caf::error&) {});
  return f;
}

cancel_result engine::cancel(const std::string& cid, std::string* status) {
  if (!impl_->coordinator || impl_->waited)
    return cancel_result::unknown;
  auto result = cancel_result::unknown;
  caller self{*impl_->sys};
  self->request(impl_->coordinator, caf::infinite, cancel_atom::value, cid)
    .receive(
      [&](std::uint8_t r, std::string& s) {
        result = static_cast<cancel_result>(r);
        if (status != nullptr)
          *status = std::move(s);
      },
      [&](caf::error&) { result = cancel_result::unknown; });
  return result;
}

runtime::signal_result engine::signal(const runtime::saga_signal& s, std::string* detail) {
  using runtime::signal_result;
  if (!impl_->coordinator || impl_->waited) {
    if (detail != nullptr)
      *detail = "the engine has stopped";
    return signal_result::failed;
  }
  auto result = signal_result::failed;
  caller self{*impl_->sys};
  self->request(impl_->coordinator, caf::infinite, signal_atom::value, s.cid, s.name, s.data, s.id)
    .receive(
      [&](std::uint8_t r, std::string& why) {
        result = static_cast<signal_result>(r);
        if (detail != nullptr)
          *detail = std::move(why);
      },
      [&](caf::error& err) {
        if (detail != nullptr)
          *detail = "the engine did not answer: " + caf::to_string(err);
      });
  return result;
}

void engine::signal_then(
  runtime::saga_signal s,
  std::function<void(runtime::signal_result, const std::string& detail)> then) {
  if (!impl_->coordinator || impl_->waited) {
    then(runtime::signal_result::failed, "the engine has stopped");
    return;
  }
  spawn_signal_answerer(*impl_->sys, impl_->coordinator, std::move(s), std::move(then));
}

bool engine::retry(const std::string& cid, std::string& error) {
  if (!impl_->coordinator || impl_->waited) {
    error = "the engine has stopped";
    return false;
  }
  bool reopened = false;
  caller self{*impl_->sys};
  self->request(impl_->coordinator, caf::infinite, retry_atom::value, cid)
    .receive(
      [&](bool ok, std::string& why) {
        reopened = ok;
        error = std::move(why);
      },
      [&](caf::error& err) { error = "the engine did not answer: " + caf::to_string(err); });
  return reopened;
}

runtime::run_summary engine::counts() {
  if (!impl_->coordinator || impl_->waited)
    return impl_->summary;
  runtime::run_summary s;
  caller self{*impl_->sys};
  self->request(impl_->coordinator, caf::infinite, stats_atom::value)
    .receive([&](runtime::run_summary& r) { s = std::move(r); }, [&](caf::error&) {});
  return s;
}

runtime::meter_board* engine::meters() const {
  return impl_->opts.meters;
}

const storage::event_log* engine::log() const {
  return impl_->log.get();
}

const config::saga_spec* engine::definition(const std::string& hash) {
  if (!impl_->definitions || !impl_->log)
    return nullptr;
  std::string error;
  return impl_->definitions->load(*impl_->log, hash, error);
}


std::uint64_t engine::log_memory_bytes() const {
  return impl_->log ? impl_->log->memory_bytes() : 0;
}

std::map<std::string, stage_stats> engine::stages() {
  std::map<std::string, stage_stats> out;
  if (impl_->waited)
    return impl_->final_stages;
  if (!impl_->sys)
    return out;
  caller self{*impl_->sys};
  auto& steps = impl_->steps;
  for (std::size_t i = 0; i < steps.stages.size(); ++i)
    self->request(steps.stages[i], caf::infinite, stats_atom::value)
      .receive([&](stage_stats& s) { out[steps.stage_names[i]] = s; }, [](caf::error&) {});
  return out;
}

runtime::run_summary engine::wait_for(std::chrono::milliseconds grace) {
  impl_->grace = grace;
  return wait();
}

runtime::run_summary engine::wait(std::function<void(const runtime::run_summary&)> progress) {
  auto& im = *impl_;
  im.tools.close();
  if (im.waited)
    return im.summary;
  if (!im.error.empty()) { // open() failed, perhaps with some actors running
    if (im.sys) {
      im.shut_down();
      im.release();
    }
    im.summary.error = im.error;
    im.summary.exit_status = im.exit_status;
    im.waited = true;
    return im.summary;
  }
  {
    caf::scoped_actor self{*im.sys};
    caf::actor poller;
    if (progress)
      poller = spawn_progress_poller(*im.sys, im.coordinator, progress);
    auto stop_poller = [&] {
      if (poller) {
        self->send_exit(poller, caf::exit_reason::user_shutdown);
        self->wait_for(poller);
      }
    };
    // A grace of 0 still asks: the close goes out, and its answer can only
    // come too late unless every saga had already ended.
    auto limit = im.grace ? caf::duration{std::max(*im.grace, std::chrono::milliseconds{1})}
                          : caf::duration{caf::infinite};
    bool timed_out = false;
    // A stop with a grace period leaves parked sagas in the log; a plain
    // wait() waits for them too.
    self->request(im.coordinator, limit, close_atom::value, !im.grace.has_value())
      .receive([&](runtime::run_summary& s) { im.summary = std::move(s); },
               [&](caf::error& err) {
                 if (err == caf::sec::request_timeout) {
                   timed_out = true;
                   return;
                 }
                 im.summary.error = "run failed: " + caf::to_string(err);
                 im.summary.exit_status = 1;
               });
    if (timed_out) {
      self->request(im.coordinator, caf::infinite, stats_atom::value)
        .receive([&](runtime::run_summary& s) { im.summary = std::move(s); }, [](caf::error&) {});
      auto& s = im.summary;

      spdlog::warn("{} sagas still running after the grace period: they stop where they are and "
                   "resume on the next start",
                   s.interrupted);
    }
    stop_poller();
    im.cluster.close(*im.sys); // the run has ended: workers may go (or stay for the next)
  }
  im.final_stages = stages();
  im.shut_down();
  im.release();
  im.waited = true;
  auto& s = im.summary;
  if (!im.unrunnable.empty() && s.exit_status == 0) {
    // Never left running unseen: named, and the run fails.
    s.error = std::to_string(im.unrunnable.size()) + " unfinished saga"
              + (im.unrunnable.size() == 1 ? "" : "s") + " could not be resumed: "
              + im.unrunnable.front().second
              + (im.unrunnable.size() > 1 ? " (and others, named in the log)" : "")
              + "; `nexus migrate --workflow FILE` moves them to a definition";
    s.exit_status = 1;
  }
  spdlog::info("run ended: started={} resumed={} completed={} compensated={} failed={} "
               "cancelled={} events={}",
               s.started, s.resumed, s.completed, s.compensated, s.failed, s.cancelled, s.events);
  return s;
}

int run_workflow(const config::workflow& wf, const run_options& opts,
                 runtime::run_summary& summary,
                 std::function<void(const runtime::run_summary&)> progress) {
  engine e{wf, opts};
  summary = e.wait(std::move(progress));
  return summary.exit_status;
}

} // namespace nexus::actors
