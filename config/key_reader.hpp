#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/json_tree.hpp"
#include "config/workflow_loader.hpp"

namespace nexus::config {

/// `path.key`, or `key` at the top.
std::string join(const std::string& path, std::string_view key);
/// `path[i]`.
std::string index(const std::string& path, size_t i);
/// `"s"`, for messages (not std::quoted: no escapes, and a string of its own).
std::string in_quotes(std::string_view s);
std::string format_number(double x);

/// Reads typed members of a json_node tree, checking each against its
/// bounds and collecting every problem as a config_error with the file,
/// line and key path, so that one pass reports all of them. A member that
/// is absent leaves its target as it was (its documented default).
class key_reader {
public:
  key_reader(std::string file, std::vector<config_error>& errors);

  void error(std::uint32_t line, const std::string& path, std::string message);

  /// Whether `n` has type `k`; an error naming both types if not.
  bool expect(const json_node& n, json_node::kind k, const std::string& path);

  /// An error for each member of `obj` that is not in `allowed`.
  void check_keys(const json_node& obj, const std::string& path,
                  const std::vector<std::string_view>& allowed);

  /// A whole number in [min, max] (by default, whatever fits `Unsigned`).
  template <class Unsigned>
  void read_uint(const json_node& obj, std::string_view key, const std::string& path,
                 Unsigned& out, std::uint64_t min = 0,
                 std::uint64_t max = std::numeric_limits<Unsigned>::max()) {
    std::uint64_t v = 0;
    if (read_uint64(obj, key, path, v, min, max))
      out = static_cast<Unsigned>(v);
  }

  void read_double(const json_node& obj, std::string_view key, const std::string& path,
                   double& out, double min, double max);

  /// Reads a string member; returns whether it was present and a string.
  bool read_string(const json_node& obj, std::string_view key, const std::string& path,
                   std::string& out);

  /// Reads a string member that must be one of `choices`; returns its index.
  int read_choice(const json_node& obj, std::string_view key, const std::string& path,
                  std::initializer_list<std::string_view> choices);

  /// An array of error kind names.
  void read_kinds(const json_node& obj, std::string_view key, const std::string& path,
                  std::vector<error_kind>& out);

  /// An object of string values: environment variables (`env`) or HTTP
  /// headers, with names and values checked for what each allows.
  void read_string_map(const json_node& n, std::string_view key, const std::string& path,
                       std::map<std::string, std::string>& out, bool env);

private:
  bool read_uint64(const json_node& obj, std::string_view key, const std::string& path,
                   std::uint64_t& out, std::uint64_t min, std::uint64_t max);

  std::string file_;
  std::vector<config_error>& errors_;
};

} // namespace nexus::config
