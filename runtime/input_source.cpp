#include "runtime/input_source.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "config/json_syntax.hpp"
#include "storage/correlation_id.hpp"
#include "storage/timestamp.hpp"

namespace nexus::runtime {

namespace {

const std::string& run_id() {
  static const std::string id = [] {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(storage::now_us()));
    return std::string{buf};
  }();
  return id;
}

class generator final : public input_source {
public:
  generator(std::string saga, std::uint64_t count) : saga_(std::move(saga)), count_(count) {}

  std::optional<std::uint64_t> size() const override { return count_; }

  result next(config::saga_request& out, std::string&) override {
    if (made_ == count_)
      return result::end;
    out.saga = saga_;
    out.correlation_id = make_correlation_id(saga_, ++made_);
    out.input = "{\"n\":" + std::to_string(made_) + "}";
    out.input_compact = true;
    return result::request;
  }

private:
  std::string saga_;
  std::uint64_t count_;
  std::uint64_t made_ = 0;
};

/// Lines from a file descriptor, read in blocks, waiting for data with
/// poll() so that a quiet pipe never blocks for long.
class line_reader {
public:
  enum class got { line, eof, timeout, error };

  explicit line_reader(int fd) : fd_(fd) {}

  got next(std::string& line, int timeout_ms) {
    for (;;) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.assign(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        return got::line;
      }
      if (eof_) {
        if (pos_ == buf_.size())
          return got::eof;
        line.assign(buf_, pos_, std::string::npos); // a last line without a newline
        pos_ = buf_.size();
        return got::line;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, timeout_ms);
      if (ready == 0)
        return got::timeout;
      if (ready < 0) {
        if (errno == EINTR)
          continue;
        return got::error;
      }
      char chunk[65536];
      auto n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
          continue;
        return got::error;
      }
      if (n == 0)
        eof_ = true;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

private:
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

class file_source final : public input_source {
public:
  file_source(std::string path, int fd, bool owned) : path_(std::move(path)), fd_(fd), owned_(owned), lines_(fd) {}
  ~file_source() override {
    if (owned_)
      ::close(fd_);
  }

  result next(config::saga_request& out, std::string& error) override {
    std::string line;
    for (;;) {
      switch (lines_.next(line, 100)) {
        case line_reader::got::timeout:
          return result::later;
        case line_reader::got::eof:
          return result::end;
        case line_reader::got::error:
          error = path_ + ": read error after line " + std::to_string(line_no_) + ": "
                  + std::strerror(errno);
          return result::failed;
        case line_reader::got::line:
          break;
      }
      if (++line_no_ == 1)
        line.erase(0, line.size() - config::without_bom(line).size());
      if (line.find_first_not_of(" \t\r") != std::string::npos)
        break;
    }
    std::string why;
    if (!config::parse_input_line(line, out, why)) {
      error = path_ + ":" + std::to_string(line_no_) + ": " + why;
      return result::bad_line;
    }
    if (!out.correlation_id_given) {
      out.correlation_id = make_correlation_id(out.saga, line_no_);
    } else if (!storage::valid_correlation_id(out.correlation_id)) {
      error = path_ + ":" + std::to_string(line_no_) + ": "
              + storage::correlation_id_problem(out.correlation_id);
      return result::bad_line;
    }
    out.line = line_no_;
    return result::request;
  }

private:
  std::string path_;
  int fd_;
  bool owned_;
  line_reader lines_;
  std::uint64_t line_no_ = 0;
};

} // namespace

std::string make_correlation_id(const std::string& prefix, std::uint64_t n) {
  return prefix + "-" + run_id() + "-" + std::to_string(n);
}

std::unique_ptr<input_source> make_generator(std::string saga, std::uint64_t count) {
  return std::make_unique<generator>(std::move(saga), count);
}

std::unique_ptr<input_source> open_input_file(const std::string& path, std::string& error) {
  if (path == "-")
    return std::make_unique<file_source>("<stdin>", 0, false);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  return std::make_unique<file_source>(path, fd, true);
}

} // namespace nexus::runtime
