#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "config/input_line.hpp"

namespace nexus::runtime {

/// Where new sagas come from, read one at a time so that memory does not
/// grow with the input.
class input_source {
public:
  enum class result { request, end, bad };

  virtual ~input_source() = default;

  /// The next request; on `bad`, `error` names the line and the problem.
  virtual result next(config::saga_request& out, std::string& error) = 0;
};

/// `count` requests for saga `saga`, with generated correlation IDs that
/// differ from run to run: `<saga>-<run id>-<n>`.
std::unique_ptr<input_source> make_generator(std::string saga, std::uint64_t count);

/// Requests read lazily from a JSON-lines file; blank lines are skipped.
/// nullptr with `error` set if the file cannot be opened.
std::unique_ptr<input_source> open_input_file(const std::string& path, std::string& error);

/// A correlation ID unique to this process and run: `<prefix>-<run id>-<n>`.
std::string make_correlation_id(const std::string& prefix, std::uint64_t n);

} // namespace nexus::runtime
