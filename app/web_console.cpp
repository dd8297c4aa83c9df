#include "app/web_console.hpp"

namespace nexus::app {

std::optional<http_response> console_file(const std::string& path) {
  http_response r;
  if (path == "/" || path == "/index.html") {
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string{console_html};
  } else if (path == "/console.js") {
    r.content_type = "text/javascript; charset=utf-8";
    r.body = std::string{console_js};
  } else if (path == "/console.css") {
    r.content_type = "text/css; charset=utf-8";
    r.body = std::string{console_css};
  } else {
    return std::nullopt;
  }
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "connect-src 'self'; img-src 'self'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

} // namespace nexus::app
