#include "bench/harness/trivial_server.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench/harness/units.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "util/strings.h"

namespace recd::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class TrivialServer::Impl {
 public:
  explicit Impl(bool fake_recd) : fake_recd_(fake_recd), io_(1), acceptor_(io_) {}

  absl::Status Listen() {
    error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return absl::UnavailableError(util::StrCat("trivial server: ", ec.message()));
    port_ = acceptor_.local_endpoint(ec).port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  void Stop() {
    asio::post(io_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      io_.stop();
    });
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }

  std::map<std::string, int64_t> Counts() const {
    absl::MutexLock lock(&mu_);
    return counts_;
  }
  int64_t total() const { return total_.load(); }

 private:
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    std::string answer;
  };

  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) return;
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket));
      Read(session);
      Accept();
    });
  }

  void Read(std::shared_ptr<Session> s) {
    s->parser.emplace();
    s->parser->body_limit(2ull << 30);
    http::async_read(s->socket, s->buffer, *s->parser, [this, s](error_code ec, size_t) {
      if (ec) return;
      const auto& request = s->parser->get();
      const bool keep_alive = request.keep_alive();
      s->answer = Answer(request, keep_alive);
      asio::async_write(s->socket, asio::buffer(s->answer),
                        [this, s, keep_alive](error_code ec, size_t) {
                          if (ec) return;
                          if (keep_alive) {
                            Read(s);
                          } else {
                            error_code ignored;
                            s->socket.shutdown(tcp::socket::shutdown_both, ignored);
                          }
                        });
    });
  }

  std::string Answer(const http::request<http::string_body>& request, bool keep_alive) {
    std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const std::string_view method(request.method_string().data(), request.method_string().size());
    int status = 200;
    std::string body = "{\"ok\":true}";
    std::string_view rest = path;
    if (ConsumePrefix(&rest, "/status/")) {
      // "/status/NNN" and "/status/NNN/anything" (a base path standing in for a failing server).
      if (!util::ParseInt(rest.substr(0, rest.find('/')), &status) || status < 100 ||
          status > 599) {
        status = 400;
      }
    } else if (fake_recd_) {
      FakeRecd(method, path, &status, &body);
    }
    {
      absl::MutexLock lock(&mu_);
      ++counts_[util::StrCat(method, " ", path, " ", status)];
    }
    ++total_;
    std::string answer = util::StrCat("HTTP/1.1 ", status, " X\r\n");
    if (status != 204) {
      util::StrAppend(&answer, "Content-Type: application/json\r\nContent-Length: ", body.size(),
                      "\r\n");
    }
    if (!keep_alive) util::StrAppend(&answer, "Connection: close\r\n");
    util::StrAppend(&answer, "\r\n", status != 204 ? body : "");
    return answer;
  }

  static void FakeRecd(std::string_view method, std::string_view path, int* status,
                       std::string* body) {
    if (method == "POST" && path == "/v1/admin/tenants") {
      *status = 201;
      *body = R"({"tenant":{"id":"fake"},)"
              R"("keys":{"server":"recd_server_fake","ingest":"recd_ingest_fake"}})";
    } else if (method == "PUT" && path.starts_with("/v1/admin/tenants/")) {
      *status = 201;
      *body = R"({"model":{"version":"fake"}})";
    } else if (method == "DELETE") {
      *status = 204;
      body->clear();
    } else if (path.starts_with("/v1/recommendations") || path.ends_with("/similar")) {
      *body = R"({"items":[],"model_version":null,"strategy":"popular","request_id":"x"})";
    } else if (path.starts_with("/v1/users/") && method == "GET") {
      *body = R"({"user":"u1","events":[]})";
    } else if (path == "/v1/events") {
      *body = R"({"accepted":1,"rejected":[]})";
    }
  }

  const bool fake_recd_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int64_t> total_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<TrivialServer>> TrivialServer::Start(bool fake_recd) {
  auto impl = std::make_unique<Impl>(fake_recd);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<TrivialServer>(new TrivialServer(std::move(impl)));
}

TrivialServer::TrivialServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrivialServer::~TrivialServer() { impl_->Stop(); }
uint16_t TrivialServer::port() const { return impl_->port(); }
std::map<std::string, int64_t> TrivialServer::Counts() const { return impl_->Counts(); }
int64_t TrivialServer::total_requests() const { return impl_->total(); }

}  // namespace recd::bench
