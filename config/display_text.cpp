#include "config/display_text.hpp"

#include <algorithm>
#include <cstdio>

#include "config/json_writer.hpp"

namespace nexus::config {

void append_for_terminal(std::string& out, std::string_view text, bool quoted) {
  auto escape = [&](unsigned char u) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", u);
    out.append(buf, 4);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto u = static_cast<unsigned char>(text[i]);
    auto n = utf8_sequence_length(text, i);
    bool c1 = n == 2 && u == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (n == 0 || u < 0x20 || u == 0x7F || c1) {
      for (std::size_t k = 0; k < std::max<std::size_t>(n, 1); ++k)
        escape(static_cast<unsigned char>(text[i + k]));
      i += std::max<std::size_t>(n, 1);
      continue;
    }
    if (quoted && (u == '"' || u == '\\'))
      out += '\\';
    out.append(text.data() + i, n);
    i += n;
  }
}

} // namespace nexus::config
