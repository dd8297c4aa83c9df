#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/input_line.hpp"
#include "config/workflow.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/run_summary.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/start_request.hpp"
#include "storage/append_request.hpp"

namespace nexus::runtime {

/// Where a start request comes from: the run's input (which it reads to
/// the end, closed or not), or a submission (the C++ API, `nexus submit`,
/// MCP), which a closed run refuses.
enum class start_source : std::uint8_t { input, submission };

/// A saga whose start is durable and that is not alive yet: its machine and
/// the commands of its start, which go out when it goes live.
struct started_saga {
  std::unique_ptr<saga_machine> machine;
  std::vector<command> commands;
};

/// The coordinator's decisions, without actors, clocks or the log: which
/// saga goes live next (unfinished ones found in the log before any new
/// one, at most `max_in_flight` alive, nothing new while a stage presses
/// back), the one path every start takes whatever its source (an input
/// line, the C++ API, `nexus submit`, MCP), duplicates, and the run's
/// counts. The shell around it does what next() says, reads the log, and
/// reports back; every call that needs the time is given it.
///
/// A start: check() the request; if it passes and the log does not hold its
/// ID, begin_start() gives the append of its first events; once durable,
/// start_written() queues it, and next() launches it when there is room.
class saga_admission {
public:
  /// How many input requests one read asks for: enough to keep sagas
  /// starting between reads, few enough that the buffer stays small.
  static constexpr std::uint32_t read_batch = 256;

  /// What the shell does next.
  struct action {
    enum class kind : std::uint8_t {
      none,   ///< Nothing until something is reported.
      read,   ///< Ask the input for up to `count` more requests (then input_read()).
      resume, ///< Rebuild `unfinished` from the log and report each with resumed().
      launch, ///< Bring `saga` to life (its actor in `place`): it issues its start's commands.
      take,   ///< Handle `request`, an input line: a cancel, or a start (check()...).
    };
    kind what = kind::none;
    std::uint32_t count = 0;
    std::vector<std::pair<std::string, std::string>> unfinished; ///< ID and saga name.
    started_saga saga;
    std::uint32_t place = 0;
    config::saga_request request;
  };

  /// `has_input`: the run reads an input (else it has resumes and starts
  /// from submissions only).
  saga_admission(const config::workflow& wf, bool has_input);

  /// The run begins at `now_us` with these unfinished sagas in the log (ID,
  /// saga name), and `parked` more that wait out of memory (left in the
  /// log: their timers, signals or cancels bring them back); `input_size`:
  /// requests the input will give, when known.
  void begin(std::int64_t now_us, std::vector<std::pair<std::string, std::string>> unfinished,
             std::uint64_t input_size, std::uint64_t parked = 0);

  /// The answer to a `read` action.
  void input_read(std::vector<config::saga_request> requests, std::uint64_t skipped, bool end,
                  std::string error);
  /// A `read` action failed: the input gives nothing more, and the run stops.
  void input_failed(std::string why);

  /// Stage `stage` has too many calls waiting (`full`) or has drained.
  void pressure(const std::string& stage, bool full);

  /// No more submissions: the run ends once every saga has, or, with
  /// `parked_too` false (a server's stop), every saga in memory has: those
  /// parked wait in the log for the next run.
  void close(bool parked_too = true) {
    closed_ = true;
    parked_too_ = parked_too;
  }
  /// Starts nothing more; the first call's `error` and status are the run's.
  void stop(std::string error, int exit_status);
  bool stopping() const { return stopping_; }
  /// Whether the run takes new work: not closed, not stopping.
  bool taking() const { return !closed_ && !stopping_; }

  /// The checks of a start request that need no log: the run takes it,
  /// the request is well formed (config fixed up into its stored form, as
  /// check_start() does), and no saga with its ID is here. `started`: it
  /// passed, and only the log can still make it a duplicate (then call
  /// refused()). `why` names the problem of a malformed request.
  start_result check(config::saga_request& req, start_source source, std::string& why) const;
  /// Counts a request check() or the log refused.
  void refused(start_result r);

  /// The append of the first events of `req`'s saga (checked), which is
  /// here from now on; nothing of it goes out before start_written().
  storage::append_request begin_start(config::saga_request&& req, std::int64_t now_us);
  /// Its first events are durable: it waits for room; or, if they parked it
  /// (its first step waits long), it is left in the log, and its wake-up
  /// time is returned (saga_machine::never: none).
  std::optional<std::int64_t> start_written(const std::string& cid);
  /// They could not be written: it is forgotten (the run stops: see stop()).
  void start_failed(const std::string& cid);

  /// The next thing to do; call again after doing it, until `none`.
  action next();

  /// An unfinished saga, rebuilt from `replayed` events, is alive again;
  /// the shell keeps its actor in the place returned.
  std::uint32_t resumed(const std::string& cid, std::uint64_t replayed, std::int64_t now_us);
  /// Time spent finding and rebuilding sagas to resume.
  void replay_took(std::int64_t us) { replay_us_ += us; }

  /// Live saga `cid` has parked (its actor has quit): the place its actor
  /// had, free now. It counts as waiting until it is brought back.
  std::optional<std::uint32_t> parked(const std::string& cid);
  /// Parked saga `cid`'s timer is due: it is resumed (a `resume` action)
  /// when there is room, before new sagas; `hash`: its definition.
  void wake(std::string cid, std::string hash);
  /// A `resume` action could not rebuild saga `cid` (logged by the shell).
  void not_resumed(const std::string& cid);
  /// Whether parked saga `cid` is woken and waiting for room.
  bool waking(const std::string& cid) const { return waking_.count(cid) > 0; }
  /// Parked saga `cid` is alive again, brought back for a signal or a
  /// cancel (or by wake(), through a `resume` action: then resumed() says
  /// so); the shell keeps its actor in the place returned.
  std::uint32_t revived(const std::string& cid, std::int64_t now_us);

  /// Saga `cid` (of saga `saga`, counted by name when given) has ended with
  /// `status` (its stored name): the place its actor had, free now, if it
  /// was alive.
  std::optional<std::uint32_t> ended(const std::string& cid, const std::string& status,
                                     std::int64_t now_us, const std::string& saga = {});
  /// Every live saga was told to stop where it is (it resumes next run).
  void abandon_live();

  /// Whether `cid` is alive, or started and waiting for room, or being
  /// written (a retry of it must wait until it has ended).
  bool busy(const std::string& cid) const;
  bool live(const std::string& cid) const { return live_.count(cid) > 0; }
  /// The place of live saga `cid`'s actor.
  std::optional<std::uint32_t> place_of(const std::string& cid) const;
  /// Whether `cid`'s first events are on their way to the log (a cancel
  /// waits for them, then finds it waiting for room).
  bool starting(const std::string& cid) const;
  /// For a cancel, which must reach it alive: the saga `cid` started and
  /// waiting for room, or unfinished and not yet resumed, as a `launch` or
  /// `resume` action regardless of room; `none` if it is neither.
  action bring_forward(const std::string& cid);

  /// A reopened compensation is being written; reopen_ended() when it is
  /// durable (then resume it: resumed()) or has failed.
  void begin_reopen(const std::string& cid) { reopening_.insert(cid); }
  void reopen_ended(const std::string& cid) { reopening_.erase(cid); }

  /// Nothing is left to do or to wait for: the run's end can be answered.
  bool finished() const;
  /// Sagas not ended yet: alive, started and waiting, being written, or
  /// unfinished and not yet resumed.
  std::uint64_t not_ended() const;
  /// The counts so far, with the run's time and its sagas' latencies at `now_us`.
  run_summary summary(std::int64_t now_us) const;

private:
  bool room() const { return live_.size() < max_in_flight_; }
  std::uint32_t went_live(const std::string& cid, std::int64_t since_us);
  /// The `launch` of `cid`, written and waiting: it is alive from now.
  action launch(const std::string& cid);
  /// Starts whose first events are not durable yet.
  std::size_t unwritten() const { return starts_.size() - ready_.size(); }

  const config::workflow& workflow_;
  std::uint32_t max_in_flight_;
  std::int64_t began_us_ = 0;
  std::deque<std::pair<std::string, std::string>> to_resume_;
  /// A saga alive now: since when this run has had it (its start, or its
  /// resumption: what its latency is measured from), and the place of its
  /// actor in the shell. The shell keeps actors by place, not in a second
  /// map by ID: a live saga costs one map entry (the memory bench counts it).
  struct live_saga {
    std::int64_t since_us = 0;
    std::uint32_t place = 0;
  };
  std::unordered_map<std::string, live_saga> live_;
  std::vector<std::uint32_t> free_places_;
  std::uint32_t places_ = 0;
  /// A saga started here and not alive yet: its first events on their way
  /// to the log, or `written` and waiting for room.
  struct pending_start {
    started_saga saga;
    bool written = false;
    bool parks = false; ///< Its first write parks it: it stays in the log.
  };
  std::unordered_map<std::string, pending_start> starts_; ///< By ID.
  std::deque<std::string> ready_; ///< The written ones' IDs, in the order they became durable.
  std::unordered_set<std::string> reopening_; ///< Reopened compensations on their way to the log.
  std::uint64_t parked_ = 0; ///< Sagas waiting in the log, out of memory.
  std::int64_t passivate_after_us_;
  std::unordered_set<std::string> waking_; ///< Parked sagas woken, in to_resume_.
  bool parked_too_ = true;
  bool input_done_;
  bool reading_ = false;
  std::deque<config::saga_request> buffer_; ///< Read, not yet taken.
  std::string input_error_; ///< Stops the run once the lines before it have started.
  bool closed_ = false;
  bool stopping_ = false;
  std::unordered_set<std::string> pressing_; ///< Stages with too many calls waiting.
  run_summary summary_;
  latency_histogram latency_;
  std::int64_t replay_us_ = 0;
};

} // namespace nexus::runtime
