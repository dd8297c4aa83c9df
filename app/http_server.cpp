#include "app/http_server.hpp"

#include <atomic>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "config/json_writer.hpp"

namespace nexus::app {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Boost 1.74 has no Boost.URL (1.81 on), and Debian ships no other URL
// library among the project's: a target's path and query are split and
// percent-decoded here, the only parsing not done by Beast.
int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `s` ('+' as a space in a query); false if malformed.
bool decode(std::string_view s, bool query, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size())
        return false;
      int hi = hex_digit(s[i + 1]), lo = hi < 0 ? -1 : hex_digit(s[i + 2]);
      if (lo < 0)
        return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += query && s[i] == '+' ? ' ' : s[i];
    }
  }
  return true;
}

bool split_target(std::string_view target, http_request& r) {
  auto q = target.find('?');
  if (!decode(target.substr(0, q), false, r.path))
    return false;
  if (q == std::string_view::npos)
    return true;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!decode(pair.substr(0, eq), true, key)
        || !decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true,
                   value))
      return false;
    r.query[key] = value;
  }
  return true;
}

/// What every connection of a server shares.
struct shared_state {
  http_settings settings;
  http_handler handler;
  std::atomic<std::uint32_t> live{0};
  std::optional<net::ssl::context> tls;
};

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  template <class... Args>
  session(std::shared_ptr<shared_state> shared, bool refuse, Args&&... stream_args)
    : stream_(std::forward<Args>(stream_args)...), shared_(std::move(shared)), refuse_(refuse) {
    ++shared_->live;
  }

  ~session() { --shared_->live; }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

private:
  void begin() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      proceed();
    } else {
      timeout(shared_->settings.header_timeout_ms);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec)
                                  self->proceed();
                              });
    }
  }

  void proceed() {
    if (refuse_) {
      send(problem(503, "Too many connections",
                   "this server takes at most " + std::to_string(shared_->settings.max_connections)
                     + " connections at once: try again shortly"),
           false);
      return;
    }
    read();
  }

  void timeout(std::uint32_t ms) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(ms));
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->settings.max_header_bytes));
    parser_->body_limit(shared_->settings.max_body_bytes);
    // The whole request, headers and body, must come within the header
    // timeout: a client that sends a byte a second is cut off.
    timeout(shared_->settings.header_timeout_ms);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::eof || ec == net::error::connection_reset
        || ec == net::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit)
      return send(problem(413, "Request body too large",
                          "the body is over " + std::to_string(shared_->settings.max_body_bytes)
                            + " bytes (http.max_body_bytes)"),
                  false);
    if (ec == http::error::header_limit)
      return send(problem(431, "Request headers too large",
                          "the headers are over "
                            + std::to_string(shared_->settings.max_header_bytes) + " bytes"),
                  false);
    if (ec)
      return send(problem(400, "Malformed request", "not an HTTP/1.1 request: " + ec.message()),
                  false);
    auto msg = parser_->release();
    http_request r;
    r.method = std::string{msg.method_string()};
    r.target = std::string{msg.target()};
    if (!split_target(r.target, r))
      return send(problem(400, "Malformed request", "the target " + r.target
                                                        + " has a malformed percent escape"),
                  false);
    for (auto& f : msg)
      r.headers[lower(f.name_string())] = std::string{f.value()};
    r.body = std::move(msg.body());
    bool keep = msg.keep_alive();
    beast::get_lowest_layer(stream_).expires_never(); // a handler may hold it (?wait)
    auto once = std::make_shared<std::atomic<bool>>(false);
    shared_->handler(std::move(r), [self = this->shared_from_this(), keep, once](http_response resp) {
      if (once->exchange(true))
        return;
      net::post(self->stream_.get_executor(), [self, keep, resp = std::move(resp)]() mutable {
        self->send(std::move(resp), keep);
      });
    });
  }

  static std::string lower(beast::string_view s) {
    std::string out{s};
    for (auto& c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  /// Writes `data` as a chunk (or, `last`, the body's end), then polls on.
  void write_chunk(std::string data, bool last) {
    chunk_ = std::move(data);
    auto done = [self = this->shared_from_this(), last](beast::error_code ec, std::size_t) {
      if (ec) {
        self->source_ = nullptr;
        return self->close();
      }
      if (last) {
        self->source_ = nullptr;
        return self->keep_ ? self->read() : self->close();
      }
      self->schedule_poll();
    };
    if (last)
      net::async_write(stream_, http::make_chunk_last(), std::move(done));
    else
      net::async_write(stream_, http::make_chunk(net::buffer(chunk_)), std::move(done));
  }

  void schedule_poll() {
    timer_.expires_after(std::chrono::milliseconds(poll_ms_));
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->poll();
    });
  }

  void poll() {
    auto next = source_();
    if (!next)
      return write_chunk({}, true);
    if (!next->empty()) {
      idle_polls_ = 0;
      return write_chunk(std::move(*next), false);
    }
    // Quiet for 5 s: a comment, whose write fails once the client has gone.
    if (++idle_polls_ * poll_ms_ >= 5000) {
      idle_polls_ = 0;
      return write_chunk(": waiting\n\n", false);
    }
    schedule_poll();
  }

  void start_stream(http_response resp, bool keep) {
    auto head = std::make_shared<http::response<http::empty_body>>();
    head->version(11);
    head->result(resp.status);
    head->set(http::field::server, "nexus");
    head->set(http::field::content_type, resp.content_type);
    head->set(http::field::cache_control, "no-cache");
    for (auto& [name, value] : resp.headers)
      head->set(name, value);
    head->keep_alive(keep);
    head->chunked(true);
    keep_ = keep;
    source_ = std::move(resp.stream);
    poll_ms_ = std::max<std::uint32_t>(1, resp.poll_ms);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*head);
    beast::get_lowest_layer(stream_).expires_never(); // a stream lasts as long as it lasts
    http::async_write_header(
      stream_, *serializer,
      [self = this->shared_from_this(), head, serializer,
       first = std::move(resp.body)](beast::error_code ec, std::size_t) mutable {
        if (ec)
          return self->close();
        if (!first.empty())
          return self->write_chunk(std::move(first), false);
        self->poll();
      });
  }

  void send(http_response resp, bool keep) {
    if (resp.stream)
      return start_stream(std::move(resp), keep);
    // One answer at a time per connection: the message is the session's,
    // reused, not allocated for each.
    res_.clear();
    res_.version(11);
    res_.result(resp.status);
    res_.set(http::field::server, "nexus");
    res_.set(http::field::content_type, resp.content_type);
    for (auto& [name, value] : resp.headers)
      res_.set(name, value);
    res_.keep_alive(keep);
    res_.body() = std::move(resp.body);
    res_.prepare_payload();
    timeout(shared_->settings.header_timeout_ms);
    http::async_write(stream_, res_,
                      [self = this->shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        if (ec || !keep)
                          return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    } else {
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  // A streamed body: where its chunks come from, the chunk being written,
  // the timer between polls.
  std::function<std::optional<std::string>()> source_;
  std::string chunk_;
  net::steady_timer timer_{stream_.get_executor()};
  std::uint32_t poll_ms_ = 50;
  std::uint32_t idle_polls_ = 0;
  bool keep_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::shared_ptr<shared_state> shared_;
  bool refuse_ = false;
};

} // namespace

const std::string& http_request::header(const std::string& name) const {
  static const std::string none;
  auto i = headers.find(name);
  return i == headers.end() ? none : i->second;
}

std::string problem_json(unsigned status, const std::string& title, const std::string& detail,
                         const std::string& pointer) {
  std::string out;
  config::json_object_writer w{out};
  w.field("type", "about:blank")
    .field("title", title)
    .field("status", static_cast<std::uint64_t>(status))
    .field("detail", detail);
  if (!pointer.empty())
    w.field("pointer", pointer);
  w.finish();
  return out;
}

http_response problem(unsigned status, const std::string& title, const std::string& detail,
                      const std::string& pointer) {
  http_response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = problem_json(status, title, detail, pointer);
  return r;
}

struct http_server::impl {
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::shared_ptr<shared_state> shared = std::make_shared<shared_state>();
  std::vector<std::thread> threads;
  std::uint16_t port = 0;

  void accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return; // stopped
      bool refuse = shared->live.load() >= shared->settings.max_connections;
      if (shared->tls)
        std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(shared, refuse,
                                                                         std::move(socket), *shared->tls)
          ->run();
      else
        std::make_shared<session<beast::tcp_stream>>(shared, refuse, std::move(socket))->run();
      accept();
    });
  }
};

http_server::http_server() : impl_(std::make_unique<impl>()) {
}

http_server::~http_server() {
  stop();
}

bool http_server::start(const http_settings& settings, http_handler handler, std::string& error) {
  auto& im = *impl_;
  im.shared->settings = settings;
  im.shared->handler = std::move(handler);
  beast::error_code ec;
  if (!settings.tls_certificate.empty()) {
    im.shared->tls.emplace(net::ssl::context::tls_server);
    im.shared->tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2
                                | net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1
                                | net::ssl::context::no_tlsv1_1);
    im.shared->tls->use_certificate_chain_file(settings.tls_certificate, ec);
    if (ec) {
      error = "http.tls.certificate " + settings.tls_certificate + ": " + ec.message();
      return false;
    }
    im.shared->tls->use_private_key_file(settings.tls_key, net::ssl::context::pem, ec);
    if (ec) {
      error = "http.tls.key " + settings.tls_key + ": " + ec.message();
      return false;
    }
  }
  auto address = net::ip::make_address(settings.host, ec);
  if (ec) {
    error = "--http " + settings.host + ": not an IP address";
    return false;
  }
  tcp::endpoint where{address, settings.port};
  im.acceptor.emplace(im.ioc);
  im.acceptor->open(where.protocol(), ec);
  if (!ec)
    im.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    im.acceptor->bind(where, ec);
  if (!ec)
    im.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "--http " + settings.host + ":" + std::to_string(settings.port) + ": " + ec.message();
    return false;
  }
  im.port = im.acceptor->local_endpoint().port();
  im.accept();
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, settings.threads); ++i)
    im.threads.emplace_back([&im] { im.ioc.run(); });
  return true;
}

std::uint16_t http_server::port() const {
  return impl_->port;
}

void http_server::stop() {
  auto& im = *impl_;
  if (im.threads.empty())
    return;
  im.ioc.stop();
  for (auto& t : im.threads)
    t.join();
  im.threads.clear();
}

} // namespace nexus::app
