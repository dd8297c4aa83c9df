#include "runtime/logging.hpp"

#include <atomic>
#include <cstdio>
#include <filesystem>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config/json_writer.hpp"

namespace nexus::runtime {

namespace {

/// `%*`: the message as a JSON string, so no message can break a line.
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string s;
    config::append_json_string(s, std::string_view{msg.payload.data(), msg.payload.size()});
    dest.append(s.data(), s.data() + s.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

} // namespace

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
    auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      file.string(), logging.max_file_mb * 1024 * 1024, logging.max_files);
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_message_flag>('*').set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":%*})");
    file_sink->set_formatter(std::move(formatter));
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(spdlog::level::warn);
    console->set_pattern("nexus: %^%l%$: %v");
    auto logger = std::make_shared<spdlog::logger>(
      "nexus", spdlog::sinks_init_list{file_sink, console});
    logger->set_level(spdlog::level::from_str(logging.level));
    logger->flush_on(spdlog::level::warn);
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
