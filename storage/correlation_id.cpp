#include "storage/correlation_id.hpp"

#include "config/display_text.hpp"

#include <cstdio>

namespace nexus::storage {

namespace {

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
         || c == '_' || c == ':' || c == '-';
}

} // namespace

bool valid_correlation_id(std::string_view cid) {
  if (cid.empty() || cid.size() > max_correlation_id_size)
    return false;
  for (char c : cid)
    if (!allowed(c))
      return false;
  return true;
}

std::string escape_for_display(std::string_view text, std::size_t max_shown) {
  std::string out = "\"";
  bool cut = text.size() > max_shown;
  if (cut) { // whole UTF-8 sequences only
    while (max_shown > 0 && (static_cast<unsigned char>(text[max_shown]) & 0xC0) == 0x80)
      --max_shown;
    text = text.substr(0, max_shown);
  }
  config::append_for_terminal(out, text, true);
  out += cut ? "...\"" : "\"";
  return out;
}

std::string correlation_id_problem(std::string_view cid) {
  if (cid.empty())
    return "correlation ID is empty";
  if (cid.size() > max_correlation_id_size)
    return "correlation ID " + escape_for_display(cid, 40) + " is " + std::to_string(cid.size())
           + " bytes long (at most 128)";
  for (char c : cid)
    if (!allowed(c))
      return "correlation ID " + escape_for_display(cid)
             + " has a character outside [A-Za-z0-9._:-]";
  return "";
}

} // namespace nexus::storage
