#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/logging.hpp"

#include "runtime/executors.hpp"

extern char** environ;

namespace nexus::runtime {

namespace {

using steady = std::chrono::steady_clock;

/// The exit status a program uses to say "try again later" (sysexits.h).
constexpr int ex_tempfail = 75;

/// stderr kept for the log and for the failure message; the rest is dropped.
constexpr std::size_t max_stderr = 64 * 1024;

/// One end of a pipe, closed when it goes out of scope.
class fd {
public:
  fd() = default;
  explicit fd(int value) : value_(value) {}
  fd(fd&& other) noexcept : value_(other.value_) { other.value_ = -1; }
  fd& operator=(fd&& other) noexcept {
    std::swap(value_, other.value_);
    return *this;
  }
  ~fd() { close(); }
  int get() const { return value_; }
  void close() {
    if (value_ >= 0)
      ::close(value_);
    value_ = -1;
  }

private:
  int value_ = -1;
};

bool make_pipe(fd& read_end, fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return false;
  read_end = fd{p[0]};
  write_end = fd{p[1]};
  return true;
}

void set_nonblocking(int f) {
  ::fcntl(f, F_SETFL, ::fcntl(f, F_GETFL) | O_NONBLOCK);
}

/// Writing to a pipe whose reader has gone must fail with EPIPE, not kill
/// the runtime with SIGPIPE.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

/// The inherited environment, then the action's variables, then NEXUS_*.
std::vector<std::string> environment(const config::exec_action& a, const step_context& c) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string_view::npos)
      vars[std::string{kv.substr(0, eq)}] = std::string{kv.substr(eq + 1)};
  }
  for (auto& [k, v] : a.env)
    vars[k] = v;
  vars["NEXUS_CORRELATION_ID"] = c.cid;
  vars["NEXUS_SAGA"] = c.saga;
  vars["NEXUS_STEP"] = c.step;
  vars["NEXUS_ATTEMPT"] = std::to_string(c.attempt);
  vars["NEXUS_IDEMPOTENCY_KEY"] = c.idempotency_key;
  vars["NEXUS_COMPENSATION"] = c.compensation ? "1" : "0";
  // The W3C names OpenTelemetry's environment carriers use.
  if (!c.traceparent.empty())
    vars["TRACEPARENT"] = c.traceparent;
  if (!c.tracestate.empty())
    vars["TRACESTATE"] = c.tracestate;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (auto& [k, v] : vars)
    out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// The last non-empty line of what the program wrote to stderr, shortened.
std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos)
    return {};
  auto begin = text.rfind('\n', end);
  auto line = text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

/// What the child did, gathered while it ran.
struct run {
  std::string out;
  std::string err;
  bool timed_out = false;
  bool overflow = false;
  int status = 0;
};

/// How long a killed process group gets to go before the supervisor stops
/// waiting for it and leaves the reaping to a thread of its own: SIGKILL
/// cannot be refused, but a process in uninterruptible sleep (a dead NFS
/// server) takes it only when the kernel lets go.
constexpr std::chrono::milliseconds reap_grace{2000};

/// Whether `pid` (our child) has ended, without reaping it: while it stays
/// a zombie its PID is held, so its process group ID cannot be reused
/// before the group is killed.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
         && info.si_pid == pid;
}

/// Reads what `f` holds now, without waiting for more.
void drain(fd& f, std::string& into, std::size_t limit, bool& overflow) {
  char buf[16384];
  while (f.get() >= 0) {
    auto got = ::read(f.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      f.close(); // EOF, EAGAIN (nothing more now) or an error
      return;
    }
    auto room = into.size() > limit ? 0 : limit + 1 - into.size(); // one past: to see overflow
    into.append(buf, std::min(static_cast<std::size_t>(got), room));
    if (into.size() > limit) {
      overflow = true;
      f.close();
    }
  }
}

/// Reaps `pid` after its group was sent SIGKILL, waiting `reap_grace` at
/// most; a process that is not gone by then is reaped by a thread of its own.
void reap(pid_t pid, int pidfd, int& status) {
  if (pidfd >= 0 && !has_exited(pid)) {
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(reap_grace.count())) < 0 && errno == EINTR) {
    }
  }
  if (::waitpid(pid, &status, WNOHANG) == pid)
    return;
  status = W_EXITCODE(0, SIGKILL);
  std::thread{[pid] {
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
  }}.detach();
}

/// Feeds stdin and drains stdout and stderr until the program exits or the
/// deadline passes, whichever comes first: a program that closed its pipes
/// (a daemon) is still timed, and one that exited while a background child
/// of its own holds the pipes open has still finished. Then every process
/// left in its group is killed, so nothing the step started outlives it,
/// and the program is reaped. No wait here is without a deadline.
void supervise(pid_t pid, fd& in, fd& out, fd& err, const std::string& input,
               std::uint64_t max_output, steady::time_point deadline, run& r) {
  std::size_t written = 0;
  if (input.empty())
    in.close();
  // Readable once the program has exited. Without pidfds (Linux before
  // 5.3), exits are looked for every 10 ms instead.
  fd exits{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
  char buf[16384];
  bool exited = false;
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[4];
    nfds_t n = 0;
    for (auto* f : {&in, &out, &err, &exits})
      if (f->get() >= 0)
        fds[n++] = {f->get(), static_cast<short>(f == &in ? POLLOUT : POLLIN), 0};
    auto wait_ms = std::min<long long>(left.count(), exits.get() >= 0 ? 1000 : 10);
    int ready = ::poll(fds, n, static_cast<int>(wait_ms));
    if (ready < 0 && errno != EINTR) {
      r.timed_out = !has_exited(pid); // cannot watch it: stop it
      break;
    }
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == exits.get())
        continue;
      if (fds[i].fd == in.get()) {
        auto w = ::write(in.get(), input.data() + written, input.size() - written);
        if (w > 0)
          written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
          in.close(); // EPIPE: the program does not read its input
        else if (written == input.size())
          in.close();
        continue;
      }
      auto& target = fds[i].fd == out.get() ? out : err;
      auto got = ::read(target.get(), buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        target.close();
        continue;
      }
      if (got < 0)
        continue;
      if (&target == &out) {
        r.out.append(buf, static_cast<std::size_t>(got));
        if (r.out.size() > max_output)
          r.overflow = true;
      } else if (r.err.size() < max_stderr) {
        r.err.append(buf, std::min(static_cast<std::size_t>(got), max_stderr - r.err.size()));
      }
    }
    if (r.overflow)
      break;
    exited = has_exited(pid);
  }
  in.close();
  if (exited) {
    // All the program wrote is in the pipes now; what a leftover child
    // might write later is not the program's output.
    drain(out, r.out, max_output, r.overflow);
    bool ignored = false;
    drain(err, r.err, max_stderr, ignored);
  }
  out.close();
  err.close();
  ::kill(-pid, SIGKILL); // the whole group: a shell script's children too
  reap(pid, exits.get(), r.status);
}

} // namespace

outcome run_exec(const config::exec_action& a, const step_context& c) {
  ignore_sigpipe_once();
  auto deadline = steady::now() + std::chrono::milliseconds(c.timeout_ms);
  fd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!make_pipe(in_r, in_w) || !make_pipe(out_r, out_w) || !make_pipe(err_r, err_w))
    return outcome::failure(config::error_kind::transient,
                            std::string{"cannot make pipes: "} + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills everything it started;
  // default signal handling, since ignored signals survive exec.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                    | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  auto args = a.argv;
  auto argv = pointers(args);
  auto env_strings = environment(a, c);
  auto envp = pointers(env_strings);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return outcome::failure(config::error_kind::permanent,
                            "cannot run " + a.argv[0] + ": " + std::strerror(rc));
  in_r.close();
  out_w.close();
  err_w.close();
  set_nonblocking(in_w.get());
  set_nonblocking(out_r.get());
  set_nonblocking(err_r.get());
  run r;
  supervise(pid, in_w, out_r, err_r, c.input, a.max_output_bytes, deadline, r);
  if (!r.err.empty()) {
    log_context ctx{c.cid, c.saga, c.step, c.attempt};
    auto trace = config::parse_traceparent(c.traceparent);
    if (trace) {
      ctx.trace = &*trace;
      ctx.span = trace->span; // the attempt's own
    }
    log(spdlog::level::info, ctx, "stderr of {}: {}", a.argv[0], r.err);
  }
  if (r.timed_out)
    return outcome::failure(config::error_kind::timeout,
                            a.argv[0] + " did not finish within " + std::to_string(c.timeout_ms)
                              + " ms: its process group was killed");
  if (r.overflow)
    return outcome::failure(config::error_kind::permanent,
                            a.argv[0] + " printed more than " + std::to_string(a.max_output_bytes)
                              + " bytes (max_output_bytes)");
  auto why = last_line(r.err);
  auto suffix = why.empty() ? std::string{} : ": " + why;
  if (WIFSIGNALED(r.status))
    return outcome::failure(config::error_kind::transient,
                            a.argv[0] + " was killed by signal " + std::to_string(WTERMSIG(r.status))
                              + suffix);
  int code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
  if (code == ex_tempfail)
    return outcome::failure(config::error_kind::transient,
                            a.argv[0] + " exited 75 (temporary failure)" + suffix);
  if (code != 0)
    return outcome::failure(config::error_kind::permanent,
                            a.argv[0] + " exited " + std::to_string(code) + suffix);
  return outcome::success(std::move(r.out));
}

} // namespace nexus::runtime
