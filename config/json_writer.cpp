#include "config/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace nexus::config {

size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xE0 && c1 < 0xA0)
      return 0; // overlong
    if (c == 0xED && c1 >= 0xA0)
      return 0; // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xF0 && c1 < 0x90)
      return 0; // overlong
    if (c == 0xF4 && c1 >= 0x90)
      return 0; // past U+10FFFF
    return 4;
  }
  return 0;
}

namespace {

/// Printable ASCII that JSON takes as it is: a table, as every byte of
/// every string field (some hundred a saga) is looked up.
struct plain_bytes {
  bool is[256] = {};
  constexpr plain_bytes() {
    for (int c = 0x20; c < 0x7F; ++c)
      is[c] = c != '"' && c != '\\';
  }
};
constexpr plain_bytes plain{};

/// Whether any byte of `v` needs more than copying: below 0x20, '"', '\\',
/// 0x7F or above (the bit tricks of "Bit Twiddling Hacks", eight at once).
bool any_special(std::uint64_t v) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto has_zero = [&](std::uint64_t x) { return (x - ones) & ~x & highs; };
  auto below_space = (v - ones * 0x20) & ~v & highs;
  return (below_space | has_zero(v ^ (ones * '"')) | has_zero(v ^ (ones * '\\'))
          | has_zero(v ^ (ones * 0x7F)) | (v & highs))
         != 0;
}

/// Where the first byte of `text` from `i` on that is not plain is.
size_t plain_run_end(std::string_view text, size_t i) {
  auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (std::uint64_t v; i + 8 <= text.size(); i += 8) {
    std::memcpy(&v, p + i, 8);
    if (any_special(v))
      break;
  }
  while (i < text.size() && plain.is[p[i]])
    ++i;
  return i;
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  size_t i = plain_run_end(text, 0);
  if (i == text.size() && i <= 126) { // nearly always: quoted as it is, in one append
    char buf[128];
    buf[0] = '"';
    std::memcpy(buf + 1, text.data(), i);
    buf[i + 1] = '"';
    out.append(buf, i + 2);
    return;
  }
  out.push_back('"');
  out.append(text.data(), i);
  while (i < text.size()) {
    // A run of plain characters (most of any text) in one append.
    size_t run = plain_run_end(text, i);
    if (run != i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size())
        break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

json_object_writer::json_object_writer(std::string& out) : out_(out) {
  out_.push_back('{');
}

void json_object_writer::key(std::string_view k) {
  // A key is nearly always a short plain name: `,"name":` in one append.
  char buf[68];
  if (k.size() <= 64 && plain_run_end(k, 0) == k.size()) {
    std::size_t n = 0;
    if (!first_)
      buf[n++] = ',';
    buf[n++] = '"';
    std::memcpy(buf + n, k.data(), k.size());
    n += k.size();
    buf[n++] = '"';
    buf[n++] = ':';
    first_ = false;
    out_.append(buf, n);
    return;
  }
  if (!first_)
    out_.push_back(',');
  first_ = false;
  append_json_string(out_, k);
  out_.push_back(':');
}

json_object_writer& json_object_writer::field(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(out_, value);
  return *this;
}

namespace {

template <class Integer>
void append_integer(std::string& out, Integer value) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

} // namespace

json_object_writer& json_object_writer::field(std::string_view k, std::uint64_t value) {
  key(k);
  append_integer(out_, value);
  return *this;
}

json_object_writer& json_object_writer::field(std::string_view k, std::int64_t value) {
  key(k);
  append_integer(out_, value);
  return *this;
}

json_object_writer& json_object_writer::field(std::string_view k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    out_ += "null"; // JSON has no NaN or infinity
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", value);
  out_ += buf;
  return *this;
}

json_object_writer& json_object_writer::field(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

json_object_writer& json_object_writer::raw_field(std::string_view k, std::string_view json) {
  key(k);
  out_.append(json);
  return *this;
}

void json_object_writer::finish() {
  out_.push_back('}');
}

} // namespace nexus::config
