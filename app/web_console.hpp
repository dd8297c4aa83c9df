#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "app/http_server.hpp"

namespace nexus::app {

/// The web console's files (app/console/), compiled in.
extern const std::string_view console_html;
extern const std::string_view console_js;
extern const std::string_view console_css;

/// The console's file at `path` ("/", "/console.js", "/console.css") for a
/// GET, with its content type and a Content-Security-Policy that lets it
/// load nothing but from this server; none for any other path. The files
/// hold no data: each call the console makes goes through the API, with the
/// HTTP token the user gives it.
std::optional<http_response> console_file(const std::string& path);

} // namespace nexus::app
