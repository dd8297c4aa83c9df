#include "bench/raw_sync.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "runtime/latency_histogram.hpp"

namespace nexus::bench {

namespace {

using steady = std::chrono::steady_clock;

/// The first error of either thread, with the call and the file.
class first_error {
public:
  /// Called at once after the failed call, while errno still says why.
  void set(const char* call, const std::string& path) {
    int why = errno;
    std::lock_guard<std::mutex> lock{mutex_};
    if (what_.empty())
      what_ = std::string{call} + " " + path + ": " + std::strerror(why);
  }
  std::string get() {
    std::lock_guard<std::mutex> lock{mutex_};
    return what_;
  }

private:
  std::mutex mutex_;
  std::string what_;
};

/// An open file, closed when it goes.
struct file {
  int fd = -1;
  file(const std::string& path, first_error& err) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      err.set("open", path);
  }
  ~file() {
    if (fd >= 0)
      ::close(fd);
  }
  file(const file&) = delete;
  file& operator=(const file&) = delete;
};

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Writes files of `bytes` in 1 MiB pieces and syncs each, as a memtable
/// flush writes its table, one begun every `every` (a paced load, not a
/// saturated disk), until `stop`.
void flush_files(const std::string& dir, std::uint64_t bytes, std::chrono::duration<double> every,
                 const std::atomic<bool>& stop, std::uint64_t& written, first_error& err) {
  std::vector<char> piece(1 << 20, 'f');
  auto next = steady::now();
  for (unsigned n = 0; !stop.load(); ++n) {
    // Waits for its turn in slices, to stop soon when told.
    while (!stop.load() && steady::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    next += std::chrono::duration_cast<steady::duration>(every);
    auto path = dir + "/raw-sync.flush" + std::to_string(n % 2);
    file f{path, err};
    if (f.fd < 0)
      return;
    for (std::uint64_t done = 0; done < bytes && !stop.load(); done += piece.size()) {
      if (!write_all(f.fd, piece.data(), piece.size())) {
        err.set("write", path);
        return;
      }
      written += piece.size();
    }
    if (::fdatasync(f.fd) != 0) {
      err.set("fdatasync", path);
      return;
    }
  }
}

/// Sync times of one half.
struct half_record {
  runtime::latency_histogram h;
  std::uint64_t stalled_us = 0; ///< In syncs slower than 10 ms.
};

sync_latencies summary(const half_record& r, double seconds) {
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  auto& h = r.h;
  return {h.count(),           ms(h.quantile(0.5)),   ms(h.quantile(0.9)), ms(h.quantile(0.99)),
          ms(h.quantile(0.999)), ms(h.max()),
          seconds > 0 ? static_cast<double>(r.stalled_us) / (seconds * 1e6) : 0};
}

} // namespace

raw_sync_result raw_sync_loop(const raw_sync_spec& spec,
                              const std::function<void(const char*)>& progress) {
  raw_sync_result r;
  first_error err;
  std::error_code ec;
  std::filesystem::create_directories(spec.dir, ec);
  auto path = spec.dir + "/raw-sync.wal";
  // Started afresh past 64 MiB, as a WAL is switched: the disk need not
  // hold more than that.
  constexpr std::uint64_t file_bound = 64ull << 20;
  std::vector<char> record(std::max<std::uint32_t>(1, spec.write_bytes), 'w');
  auto half = [&](half_record& rec) {
    auto f = std::make_unique<file>(path, err);
    std::uint64_t size = 0;
    auto until = steady::now() + std::chrono::duration<double>(spec.seconds);
    while (f->fd >= 0 && steady::now() < until) {
      if (size + record.size() > file_bound) {
        f = std::make_unique<file>(path, err);
        size = 0;
        continue;
      }
      if (!write_all(f->fd, record.data(), record.size())) {
        err.set("write", path);
        return;
      }
      size += record.size();
      auto t0 = steady::now();
      if (::fdatasync(f->fd) != 0) {
        err.set("fdatasync", path);
        return;
      }
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0).count();
      rec.h.record(static_cast<std::uint64_t>(us));
      if (us > 10'000)
        rec.stalled_us += static_cast<std::uint64_t>(us);
    }
  };
  half_record alone, beside;
  if (progress)
    progress("alone");
  half(alone);
  if (err.get().empty()) {
    if (progress)
      progress("beside a flush");
    std::atomic<bool> stop{false};
    std::thread flusher{[&] {
      flush_files(spec.dir, spec.flush_bytes, std::chrono::duration<double>(spec.flush_every_seconds),
                  stop, r.flushed_bytes, err);
    }};
    half(beside);
    stop = true;
    flusher.join();
  }
  r.alone = summary(alone, spec.seconds);
  r.beside_flush = summary(beside, spec.seconds);
  r.error = err.get();
  for (auto* name : {"/raw-sync.wal", "/raw-sync.flush0", "/raw-sync.flush1"})
    std::filesystem::remove(spec.dir + name, ec);
  return r;
}

} // namespace nexus::bench
