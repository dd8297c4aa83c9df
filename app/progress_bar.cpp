#include "app/progress_bar.hpp"

#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

namespace nexus::app {

namespace {

std::string duration(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}

} // namespace

std::string progress_line(const runtime::run_summary& s, std::size_t width) {
  auto done = s.ended();
  double rate = s.seconds > 0 ? static_cast<double>(done) / s.seconds : 0;
  char buf[256];
  std::string line;
  if (s.total > 0) {
    double part = std::min(1.0, static_cast<double>(done) / static_cast<double>(s.total));
    constexpr int bar = 20;
    int filled = static_cast<int>(part * bar);
    std::string b(static_cast<std::size_t>(filled), '#');
    b.append(static_cast<std::size_t>(bar - filled), '.');
    std::snprintf(buf, sizeof buf, "%llu/%llu %3.0f%% [%s] %.0f sagas/s ETA %s",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(s.total),
                  part * 100, b.c_str(), rate,
                  rate > 0 ? duration(static_cast<double>(s.total - std::min(done, s.total)) / rate).c_str()
                           : "-");
  } else {
    std::snprintf(buf, sizeof buf, "%llu done, %.0f sagas/s, %s", static_cast<unsigned long long>(done),
                  rate, duration(s.seconds).c_str());
  }
  line = buf;
  std::snprintf(buf, sizeof buf, " | completed %llu compensated %llu failed %llu cancelled %llu",
                static_cast<unsigned long long>(s.completed),
                static_cast<unsigned long long>(s.compensated),
                static_cast<unsigned long long>(s.failed),
                static_cast<unsigned long long>(s.cancelled));
  line += buf;
  if (line.size() > width)
    line.resize(width);
  return line;
}

progress_bar::progress_bar() : active_(::isatty(STDERR_FILENO) == 1) {}

progress_bar::~progress_bar() {
  clear();
}

void progress_bar::clear() {
  if (drawn_)
    std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void progress_bar::draw(const runtime::run_summary& s) {
  if (active_)
    draw_text(progress_line(s, terminal_width() - 1));
}

void progress_bar::draw_text(std::string line) {
  if (!active_)
    return;
  if (line.size() > terminal_width() - 1)
    line.resize(terminal_width() - 1);
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

} // namespace nexus::app
