#include "app/terminal.hpp"

#include <cstdio>
#include <cstdlib>
#include <ostream>

#include <unistd.h>

namespace nexus::app {

bool stdout_colours() {
  auto* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0')
    return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

std::string paint(std::string_view text, colour c, bool on) {
  static constexpr const char* codes[] = {"", "31", "32", "33", "34", "35", "36", "90"};
  if (!on || c == colour::none)
    return std::string{text};
  std::string out = "\x1b[";
  out += codes[static_cast<int>(c)];
  out += 'm';
  out += text;
  out += "\x1b[0m";
  return out;
}

colour status_colour(storage::saga_status status) {
  switch (status) {
    case storage::saga_status::completed:
      return colour::green;
    case storage::saga_status::compensated:
    case storage::saga_status::compensating:
      return colour::yellow;
    case storage::saga_status::failed:
      return colour::red;
    case storage::saga_status::cancelled:
      return colour::magenta;
    case storage::saga_status::running:
      return colour::cyan;
  }
  return colour::none;
}

std::string human_duration(std::int64_t us) {
  char buf[32];
  bool negative = us < 0;
  auto v = negative ? -us : us;
  if (v < 1000)
    std::snprintf(buf, sizeof(buf), "%lldus", static_cast<long long>(v));
  else if (v < 1'000'000)
    std::snprintf(buf, sizeof(buf), "%.1fms", static_cast<double>(v) / 1e3);
  else if (v < 60'000'000)
    std::snprintf(buf, sizeof(buf), "%.2fs", static_cast<double>(v) / 1e6);
  else {
    auto s = v / 1'000'000;
    if (s < 3600)
      std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                    static_cast<long long>(s % 60));
    else if (s < 86400)
      std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                    static_cast<long long>(s / 60 % 60));
    else
      std::snprintf(buf, sizeof(buf), "%lldd%02lldh", static_cast<long long>(s / 86400),
                    static_cast<long long>(s / 3600 % 24));
  }
  return negative ? std::string{"-"} + buf : std::string{buf};
}

std::string pad(std::string_view text, std::size_t width) {
  std::string out{text};
  if (out.size() < width)
    out.append(width - out.size(), ' ');
  return out;
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::function<colour(std::size_t, std::size_t)>& colour_of,
                 bool colours) {
  std::vector<std::size_t> width;
  for (auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t c = 0; c < r.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::string line;
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      auto cell = c + 1 == rows[i].size() ? rows[i][c] : pad(rows[i][c], width[c] + 2);
      line += i > 0 && colour_of ? paint(cell, colour_of(i - 1, c), colours) : cell;
    }
    out << (i == 0 ? paint(line, colour::grey, colours) : line) << '\n';
  }
}

} // namespace nexus::app
