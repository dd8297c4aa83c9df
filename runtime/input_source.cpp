#include "runtime/input_source.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

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

  result next(config::saga_request& out, std::string&) override {
    if (made_ == count_)
      return result::end;
    out.saga = saga_;
    out.correlation_id = make_correlation_id(saga_, ++made_);
    out.input = "{\"n\":" + std::to_string(made_) + "}";
    return result::request;
  }

private:
  std::string saga_;
  std::uint64_t count_;
  std::uint64_t made_ = 0;
};

class file_source final : public input_source {
public:
  file_source(std::string path, std::ifstream in) : path_(std::move(path)), in_(std::move(in)) {}

  result next(config::saga_request& out, std::string& error) override {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      std::string why;
      if (!config::parse_input_line(line, out, why)) {
        error = path_ + ":" + std::to_string(line_no_) + ": " + why;
        return result::bad;
      }
      if (!out.correlation_id_given) {
        out.correlation_id = make_correlation_id(out.saga, line_no_);
      } else if (!storage::valid_correlation_id(out.correlation_id)) {
        error = path_ + ":" + std::to_string(line_no_) + ": "
                + storage::correlation_id_problem(out.correlation_id);
        return result::bad;
      }
      return result::request;
    }
    if (in_.bad()) {
      error = path_ + ": read error after line " + std::to_string(line_no_);
      return result::bad;
    }
    return result::end;
  }

private:
  std::string path_;
  std::ifstream in_;
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
  std::ifstream in{path};
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  return std::make_unique<file_source>(path, std::move(in));
}

} // namespace nexus::runtime
