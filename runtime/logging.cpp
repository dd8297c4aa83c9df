#include "runtime/logging.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "config/display_text.hpp"
#include "config/json_writer.hpp"

namespace nexus::runtime {

namespace detail {

thread_local const log_context* current_log_context = nullptr;

} // namespace detail

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

std::string node_name = host_name();

/// `%*` in the file's pattern: `"msg":...` and the context's fields.
class json_fields_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    thread_local std::string s;
    s.clear();
    s += "\"msg\":";
    config::append_json_string(s, std::string_view{msg.payload.data(), msg.payload.size()});
    if (auto* c = detail::current_log_context) {
      auto text = [&](std::string_view key, std::string_view value) {
        if (value.empty())
          return;
        s += ",\"";
        s += key;
        s += "\":";
        config::append_json_string(s, value);
      };
      text("correlation_id", c->correlation_id);
      text("saga", c->saga);
      text("step", c->step);
      if (c->attempt > 0) {
        s += ",\"attempt\":";
        s += std::to_string(c->attempt);
      }
      text("resource", c->resource);
      text("status", c->status);
      if (c->trace != nullptr && c->trace->valid()) {
        text("trace_id", c->trace->trace_hex());
        if (c->span != 0)
          text("span_id", config::span_hex(c->span));
        else if (c->attempt > 0 && !c->step.empty())
          text("span_id", config::span_hex(config::attempt_span(c->trace->span, c->step, c->attempt,
                                                                c->compensation)));
      }
    }
    s += ",\"node\":";
    config::append_json_string(s, log_node());
    dest.append(s.data(), s.data() + s.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_fields_flag>();
  }
};

/// Appends `text` as the terminal may show it (config::append_for_terminal).
void append_for_terminal(spdlog::memory_buf_t& dest, std::string_view text) {
  std::string shown;
  config::append_for_terminal(shown, text);
  dest.append(shown.data(), shown.data() + shown.size());
}

/// `%*` in the console's pattern: `[cid saga/step #attempt] message`.
class console_fields_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (auto* c = detail::current_log_context) {
      std::string tag;
      if (!c->correlation_id.empty())
        tag += c->correlation_id;
      if (!c->saga.empty() || !c->step.empty()) {
        if (!tag.empty())
          tag += ' ';
        tag += c->saga;
        if (!c->step.empty())
          tag += (c->saga.empty() ? "" : "/") + std::string{c->step};
      }
      if (c->attempt > 0)
        tag += " #" + std::to_string(c->attempt);
      if (!c->resource.empty())
        tag += (tag.empty() ? "breaker " : " breaker ") + std::string{c->resource};
      if (!tag.empty()) {
        dest.push_back('[');
        append_for_terminal(dest, tag);
        dest.append(std::string_view{"] "});
      }
    }
    append_for_terminal(dest, std::string_view{msg.payload.data(), msg.payload.size()});
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<console_fields_flag>();
  }
};

std::int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

void set_log_node(std::string node) {
  node_name = std::move(node);
}

const std::string& log_node() {
  return node_name;
}

// -- watched_sink --------------------------------------------------------------

watched_sink::watched_sink(std::shared_ptr<spdlog::sinks::sink> inner, log_clock now_us,
                           std::int64_t slow_us, std::int64_t every_us)
  : inner_(std::move(inner)),
    now_us_(now_us ? std::move(now_us) : log_clock{steady_now_us}),
    slow_us_(slow_us),
    every_us_(every_us) {
  inner_->set_level(spdlog::level::trace); // this sink's own level filters
}

void watched_sink::log(const spdlog::details::log_msg& msg) {
  if (!should_log(msg.level))
    return;
  auto start = now_us_();
  inner_->log(msg);
  auto took = now_us_() - start;
  if (took < slow_us_)
    return;
  auto slow = ++slow_;
  auto end = start + took;
  auto last = warned_at_.load();
  if (last != INT64_MIN && end - last < every_us_)
    return;
  if (!warned_at_.compare_exchange_strong(last, end))
    return; // another thread is saying it
  auto text = fmt::format("writing the log is slow: a line took {} ms ({} slow writes so far); "
                          "threads that log wait for it, and no line is dropped",
                          took / 1000, slow);
  auto* outer = std::exchange(detail::current_log_context, nullptr);
  spdlog::details::log_msg warning{msg.logger_name, spdlog::level::warn, text};
  inner_->log(warning);
  detail::current_log_context = outer;
  std::fprintf(stderr, "nexus: warning: %s\n", text.c_str());
}

void watched_sink::flush() {
  inner_->flush();
}

void watched_sink::set_pattern(const std::string& pattern) {
  inner_->set_pattern(pattern);
}

void watched_sink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

// -- formatters ----------------------------------------------------------------

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  f->add_flag<json_fields_flag>('*').set_pattern(
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n",%*})");
  return f;
}

std::unique_ptr<spdlog::formatter> make_console_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<console_fields_flag>('*').set_pattern("nexus: %^%l%$: %*");
  return f;
}

bool console_colours() {
  auto* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0')
    return false;
  return ::isatty(STDERR_FILENO) == 1;
}

bool setup_logging(const config::logging_settings& logging, const std::string& data_dir,
                   std::string& error) {
  namespace fs = std::filesystem;
  fs::path file{logging.file};
  if (file.is_relative())
    file = fs::path{data_dir} / file;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) {
    error = "cannot create log directory " + file.parent_path().string() + ": " + ec.message();
    return false;
  }
  try {
    auto rotating = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      file.string(), logging.max_file_mb * 1024 * 1024, logging.max_files);
    auto file_sink = std::make_shared<watched_sink>(std::move(rotating), nullptr);
    file_sink->set_formatter(make_json_formatter());
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
      console_colours() ? spdlog::color_mode::always : spdlog::color_mode::never);
    console->set_formatter(make_console_formatter());
    console->set_level(spdlog::level::from_str(logging.console_level));
    auto logger = std::make_shared<spdlog::logger>(
      "nexus", spdlog::sinks_init_list{file_sink, console});
    auto level = spdlog::level::from_str(logging.level);
    auto console_level = spdlog::level::from_str(logging.console_level);
    logger->set_level(std::min(level, console_level));
    file_sink->set_level(level);
    // Errors reach the disk at once; everything else within a second.
    logger->flush_on(spdlog::level::err);
    spdlog::flush_every(std::chrono::seconds(1));
    logger->set_error_handler([path = file.string()](const std::string& msg) {
      static std::atomic<bool> said{false};
      if (!said.exchange(true))
        std::fprintf(stderr, "nexus: cannot write the log file %s (%s); logging there stops\n",
                     path.c_str(), msg.c_str());
    });
    spdlog::set_default_logger(std::move(logger));
  } catch (const spdlog::spdlog_ex& ex) {
    error = "cannot open log file " + file.string() + ": " + ex.what();
    return false;
  }
  return true;
}

} // namespace nexus::runtime
