#include "config/key_reader.hpp"

#include <cmath>
#include <sstream>

namespace nexus::config {

using namespace std::string_view_literals;
using kind = json_node::kind;

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : path + "." + std::string{key};
}

std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string{s} + "\"";
}

std::string format_number(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

key_reader::key_reader(std::string file, std::vector<config_error>& errors)
  : file_(std::move(file)), errors_(errors) {
}

void key_reader::error(std::uint32_t line, const std::string& path, std::string message) {
  errors_.push_back({file_, line, path, std::move(message)});
}

bool key_reader::expect(const json_node& n, json_node::kind k, const std::string& path) {
  if (n.type == k)
    return true;
  error(n.line, path, "expected " + std::string{describe(k)} + ", got "
                        + std::string{describe(n.type)});
  return false;
}

void key_reader::check_keys(const json_node& obj, const std::string& path,
                const std::vector<std::string_view>& allowed) {
  for (auto& m : obj.members) {
    bool known = false;
    for (auto a : allowed)
      known = known || a == m.key;
    if (!known) {
      std::string list;
      for (auto a : allowed)
        list += (list.empty() ? "" : ", ") + std::string{a};
      error(m.line, join(path, m.key), "unknown key (expected one of: " + list + ")");
    }
  }
}

bool key_reader::read_uint64(const json_node& obj, std::string_view key, const std::string& path,
                 std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
  auto m = obj.find(key);
  if (m == nullptr)
    return false;
  auto p = join(path, key);
  auto& n = m->value;
  std::uint64_t v = 0;
  if (n.type == kind::unsigned_integer) {
    v = n.unsigned_integer;
  } else if (n.type == kind::integer) {
    if (n.integer < 0) {
      error(m->line, p, "must not be negative, got " + std::to_string(n.integer));
      return false;
    }
    v = static_cast<std::uint64_t>(n.integer);
  } else if (n.type == kind::real) {
    error(m->line, p, "must be a whole number, got " + format_number(n.real));
    return false;
  } else {
    error(m->line, p, "expected a number, got " + std::string{describe(n.type)});
    return false;
  }
  if (v < min || v > max) {
    error(m->line, p, "must be between " + std::to_string(min) + " and " + std::to_string(max)
                        + ", got " + std::to_string(v));
    return false;
  }
  out = v;
  return true;
}

void key_reader::read_double(const json_node& obj, std::string_view key, const std::string& path,
                 double& out, double min, double max) {
  auto m = obj.find(key);
  if (m == nullptr)
    return;
  auto p = join(path, key);
  auto& n = m->value;
  double v = 0;
  switch (n.type) {
    case kind::integer:
      v = static_cast<double>(n.integer);
      break;
    case kind::unsigned_integer:
      v = static_cast<double>(n.unsigned_integer);
      break;
    case kind::real:
      v = n.real;
      break;
    default:
      error(m->line, p, "expected a number, got " + std::string{describe(n.type)});
      return;
  }
  if (!std::isfinite(v) || v < min || v > max) {
    error(m->line, p, "must be between " + format_number(min) + " and " + format_number(max)
                        + ", got " + format_number(v));
    return;
  }
  out = v;
}

bool key_reader::read_string(const json_node& obj, std::string_view key, const std::string& path,
                 std::string& out) {
  auto m = obj.find(key);
  if (m == nullptr || !expect(m->value, kind::string, join(path, key)))
    return false;
  out = m->value.text;
  return true;
}

int key_reader::read_choice(const json_node& obj, std::string_view key, const std::string& path,
                std::initializer_list<std::string_view> choices) {
  std::string s;
  if (!read_string(obj, key, path, s))
    return -1;
  int i = 0;
  std::string list;
  for (auto c : choices) {
    if (c == s)
      return i;
    list += (list.empty() ? "" : ", ") + std::string{c};
    ++i;
  }
  error(obj.find(key)->line, join(path, key),
        "unknown value " + in_quotes(s) + " (expected one of: " + list + ")");
  return -1;
}

void key_reader::read_kinds(const json_node& obj, std::string_view key, const std::string& path,
                std::vector<error_kind>& out) {
  auto m = obj.find(key);
  if (m == nullptr)
    return;
  auto p = join(path, key);
  if (!expect(m->value, kind::array, p))
    return;
  std::vector<error_kind> kinds;
  for (size_t i = 0; i < m->value.items.size(); ++i) {
    auto& item = m->value.items[i];
    if (!expect(item, kind::string, index(p, i)))
      continue;
    if (auto k = parse_error_kind(item.text))
      kinds.push_back(*k);
    else
      error(item.line, index(p, i),
            "unknown error kind " + in_quotes(item.text)
              + " (expected one of: transient, permanent, timeout, circuit_open, cancelled)");
  }
  out = std::move(kinds);
}


void key_reader::read_string_map(const json_node& n, std::string_view key, const std::string& path,
                     std::map<std::string, std::string>& out, bool env) {
  auto m = n.find(key);
  if (m == nullptr)
    return;
  auto p = join(path, key);
  if (!expect(m->value, kind::object, p))
    return;
  for (auto& member : m->value.members) {
    auto mp = join(p, member.key);
    if (!expect(member.value, kind::string, mp))
      continue;
    bool name_ok = !member.key.empty()
                   && member.key.find_first_of(env ? "=\0"sv : ":\r\n \t\0"sv) == std::string::npos;
    bool value_ok = member.value.text.find_first_of(env ? "\0"sv : "\r\n\0"sv) == std::string::npos;
    if (!name_ok)
      error(member.line, mp, env ? "not a valid environment variable name"
                                 : "not a valid header name");
    else if (!value_ok)
      error(member.line, mp, env ? "contains a NUL byte" : "contains a line break");
    else
      out[member.key] = member.value.text;
  }
}

} // namespace nexus::config
