#include "bench/http_load.hpp"

#include <chrono>
#include <memory>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace nexus::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct load_state {
  http_load_spec spec;
  http_load_result result;
  std::uint64_t next = 0; ///< The next request's number (one thread: no lock).
  clock_type::time_point begun;
};

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(net::io_context& ioc, load_state& st) : stream_(ioc), timer_(ioc), st_(st) {}

  void start(const tcp::endpoint& where) {
    stream_.async_connect(where, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->st_.result.error = "connect: " + ec.message();
        return;
      }
      self->next();
    });
  }

private:
  void next() {
    if (st_.next >= st_.spec.requests) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    auto n = st_.next++;
    if (st_.spec.rate <= 0) {
      due_ = clock_type::now();
      return send(n);
    }
    due_ = st_.begun + std::chrono::duration_cast<clock_type::duration>(
                         std::chrono::duration<double>(static_cast<double>(n) / st_.spec.rate));
    timer_.expires_at(due_);
    timer_.async_wait([self = shared_from_this(), n](beast::error_code) { self->send(n); });
  }

  void send(std::uint64_t n) {
    req_ = {http::verb::post, "/v1/sagas/" + st_.spec.saga, 11};
    req_.set(http::field::host, st_.spec.host);
    req_.set(http::field::content_type, "application/json");
    req_.body() = R"({"correlation_id":")" + st_.spec.prefix + "-" + std::to_string(n) + R"("})";
    req_.prepare_payload();
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->st_.result.error = "write: " + ec.message();
        return;
      }
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec, std::size_t) { self->on_answer(ec); });
    });
  }

  void on_answer(beast::error_code ec) {
    if (ec) {
      st_.result.error = "read: " + ec.message();
      return;
    }
    auto took = std::chrono::duration<double, std::milli>(clock_type::now() - due_).count();
    st_.result.latency_ms.push_back(took);
    (res_.result_int() == 201 ? st_.result.created : st_.result.other)++;
    next();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  clock_type::time_point due_;
  load_state& st_;
};

} // namespace

http_load_result run_http_load(const http_load_spec& spec) {
  net::io_context ioc;
  load_state st;
  st.spec = spec;
  tcp::endpoint where{net::ip::make_address(spec.host), spec.port};
  st.result.latency_ms.reserve(spec.requests);
  st.begun = clock_type::now();
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, spec.connections); ++i)
    std::make_shared<connection>(ioc, st)->start(where);
  ioc.run();
  st.result.seconds = std::chrono::duration<double>(clock_type::now() - st.begun).count();
  return std::move(st.result);
}

std::string http_get(const std::string& host, std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::error_code ec;
  stream.connect(tcp::endpoint{net::ip::make_address(host), port}, ec);
  if (ec)
    return {};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec)
    http::read(stream, buffer, res, ec);
  return ec ? std::string{} : res.body();
}

} // namespace nexus::bench
