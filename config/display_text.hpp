#pragma once

#include <string>
#include <string_view>

namespace nexus::config {

/// Appends `text` to `out` with control characters (C0, DEL and C1, so ANSI
/// escapes among them) and bytes that are not UTF-8 shown as `\xNN`, so that
/// a value cannot move the cursor or recolour a terminal; valid UTF-8 is
/// kept as it is. With `quoted`, `"` and `\` are shown as `\"` and `\\`, for
/// a value printed between quotes.
void append_for_terminal(std::string& out, std::string_view text, bool quoted = false);

} // namespace nexus::config
