#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/input_line.hpp"

namespace nexus::runtime {

/// What to do with an input line that cannot be used (malformed, a bad
/// correlation ID, an unknown saga): stop the run (exit status 2, nothing
/// already stored touched), or log it with its line number and go on.
enum class bad_input_policy : std::uint8_t { stop, skip };

/// Where new sagas come from, read one at a time so that memory does not
/// grow with the input.
class input_source {
public:
  enum class result {
    request,  ///< `out` holds the next request.
    end,      ///< No more input.
    bad_line, ///< This line cannot be used; `error` names it and why. Reading may go on.
    failed,   ///< Reading failed; `error` says why. Nothing more can be read.
    later,    ///< No complete line arrived for a while (a quiet pipe): ask again.
  };

  virtual ~input_source() = default;

  virtual result next(config::saga_request& out, std::string& error) = 0;

  /// How many requests it will give in all, when known in advance.
  virtual std::optional<std::uint64_t> size() const { return std::nullopt; }
};

/// `count` requests for saga `saga`, with generated correlation IDs that
/// differ from run to run: `<saga>-<run id>-<n>`.
std::unique_ptr<input_source> make_generator(std::string saga, std::uint64_t count);

/// Requests read lazily from a JSON-lines file, or from standard input when
/// `path` is "-"; blank lines are skipped. Waits at most about 100 ms for a
/// line before answering `later`. Null, with `error` set, if the file
/// cannot be opened.
std::unique_ptr<input_source> open_input_file(const std::string& path, std::string& error);

/// A correlation ID unique to this process and run: `<prefix>-<run id>-<n>`.
std::string make_correlation_id(const std::string& prefix, std::uint64_t n);

} // namespace nexus::runtime
