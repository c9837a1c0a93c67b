#include "http/server.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "util/strings.h"
#include "absl/synchronization/mutex.h"
#include "http/error_response.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/thread.h"

namespace recd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

Method ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::options: return Method::kOptions;
    case bhttp::verb::head: return Method::kHead;
    default: return Method::kOther;
  }
}

// A request the parser refused for its syntax (a bad request line, header, Content-Length or
// chunk), as opposed to a connection closed or cut short: worth a 400 before closing.
bool IsMalformedRequest(const beast::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::bad_line_ending:
    case bhttp::error::bad_method:
    case bhttp::error::bad_target:
    case bhttp::error::bad_version:
    case bhttp::error::bad_field:
    case bhttp::error::bad_value:
    case bhttp::error::bad_content_length:
    case bhttp::error::bad_transfer_encoding:
    case bhttp::error::bad_chunk:
    case bhttp::error::bad_chunk_extension:
    case bhttp::error::bad_obs_fold:
    case bhttp::error::multiple_content_length:
    case bhttp::error::unexpected_body:
      return true;
    default:
      return false;
  }
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// The media type of a Content-Type, lowercased (media types are case-insensitive, RFC 9110).
std::string MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  return util::ToLower(util::StripWhitespace(content_type.substr(0, semi)));
}

int64_t MonoNs() { return util::SystemClock::Get().MonotonicNs(); }

// CPU time of the calling thread: what a handler cost its pool thread (billed as cpu_ms).
int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router* router, Gatekeeper* gatekeeper,
       metering::MetricsRegistry* metrics)
      : options_(std::move(options)),
        router_(router),
        gatekeeper_(gatekeeper),
        ioc_(options_.io_threads),
        priority_ioc_(std::max(1, options_.priority_io_threads)),
        acceptor_(net::make_strand(ioc_)),
        request_id_prefix_(util::RandomString(8, util::kBase32Lower)) {
    requests_ = metrics->AddCounter("recd_http_requests_total",
                                    "HTTP requests answered, by route and status",
                                    {"route", "status"});
    latency_ = metrics->AddHistogram("recd_http_request_duration_seconds",
                                     "Time from headers read to answer written, by route",
                                     {"route"});
    queue_wait_ = metrics->AddHistogram("recd_queue_wait_seconds",
                                        "Time a request waited in its pool's queue, by tier",
                                        {"tier"});
    tier_latency_ = metrics->AddHistogram(
        "recd_tier_request_duration_seconds",
        "Time from headers read to answer written for admitted requests, by tier", {"tier"});
    tenant_latency_ = metrics->AddHistogram(
        "recd_tenant_request_duration_seconds",
        "Time from headers read to answer written for admitted tenant requests, by tenant "
        "(capped labels, SPEC 7.6) and tier",
        {"tenant", "tier"});
    refused_connections_ =
        metrics->AddCounter("recd_http_connections_refused_total",
                            "Connections answered 503 and closed at accept: over max_connections", {})
            ->Get({});
    metrics->AddGauge("recd_http_open_connections", "Open client connections", {}, [this] {
      return std::vector<metering::GaugeSample>{
          {{}, static_cast<double>(open_connections_.load())}};
    });
    metrics->AddGauge("recd_http_active_uploads",
                      "Model uploads whose body is being received", {}, [this] {
                        return std::vector<metering::GaugeSample>{
                            {{}, static_cast<double>(active_uploads_.load())}};
                      });
    metrics->AddGauge("recd_http_priority_connections",
                      "Open client connections served by the priority I/O lane", {}, [this] {
                        return std::vector<metering::GaugeSample>{
                            {{}, static_cast<double>(priority_connections_.load())}};
                      });
  }

  absl::Status Start();
  void BeginDrain();
  void Stop(int64_t grace_ms);

  class Session;
  friend class Session;
  void Track(const std::shared_ptr<Session>& session);

  ServerOptions options_;
  const Router* router_;
  Gatekeeper* gatekeeper_;
  net::io_context ioc_;           // the shared lane; accepts every connection
  net::io_context priority_ioc_;  // the priority lane
  tcp::acceptor acceptor_;
  // Keep run() going while nothing is pending on a context: the priority lane before its first
  // connection, the shared one while draining (the acceptor is closed, and a request whose
  // handler runs on a pool has nothing on the context until its answer is posted back).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> shared_work_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> priority_work_;
  std::vector<std::thread> threads_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> draining_{false};
  std::atomic<size_t> open_connections_{0};
  std::atomic<size_t> priority_connections_{0};
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> next_request_id_{0};
  std::atomic<uint64_t> next_upload_{0};
  metering::Counter* refused_connections_ = nullptr;
  std::atomic<size_t> active_uploads_{0};
  const std::string request_id_prefix_;
  metering::CounterFamily* requests_;
  metering::HistogramFamily* latency_;
  metering::HistogramFamily* queue_wait_;
  metering::HistogramFamily* tier_latency_;
  metering::HistogramFamily* tenant_latency_;

  absl::Mutex sessions_mu_;
  std::vector<std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(sessions_mu_);

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

// One connection. Every member is touched only on the connection's strand, except where a
// worker thread runs the handler with the request it was handed (then posts back).
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  // `buffer` holds bytes already read past the previous request (when the connection moves
  // lanes); `priority_lane` says which lane `socket`'s executor belongs to.
  Session(tcp::socket&& socket, Impl* server, beast::flat_buffer buffer, bool priority_lane)
      : stream_(std::move(socket)),
        server_(server),
        buffer_(std::move(buffer)),
        priority_lane_(priority_lane) {
    server_->open_connections_.fetch_add(1);
    if (priority_lane_) server_->priority_connections_.fetch_add(1);
  }
  ~Session() {
    EndRequest();  // idempotent; covers every path that drops the connection
    server_->open_connections_.fetch_sub(1);
    if (priority_lane_) server_->priority_connections_.fetch_sub(1);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::ReadHeader,
                                                                    shared_from_this()));
  }

  // From BeginDrain: idle connections close now, busy ones after their answer.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->CloseNow();
    });
  }

 private:
  void ReadHeader() {
    busy_ = false;
    if (server_->draining_.load()) return CloseNow();
    req_ = Request{};
    ticket_ = Ticket{};
    route_ = nullptr;
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(server_->options_.max_header_bytes));
    // Body limits depend on the route, so they are checked after routing (and again while
    // reading); the header parser must not refuse a large Content-Length on its own.
    header_parser_->body_limit(boost::none);
    stream_.expires_after(std::chrono::milliseconds(server_->options_.idle_timeout_ms));
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::header_limit || IsMalformedRequest(ec)) {
      busy_ = true;
      req_.request_id = NewRequestId();
      req_.admitted_mono_ns = MonoNs();
      return Refuse(
          ec == bhttp::error::header_limit
              ? TooLargeError("request headers exceed the limit")
              : absl::InvalidArgumentError(util::StrCat("malformed HTTP request: ", ec.message())));
    }
    if (ec) return CloseNow();  // EOF, timeout, reset: nobody to answer
    busy_ = true;
    server_->in_flight_.fetch_add(1);
    counted_in_flight_ = true;
    req_.admitted_mono_ns = MonoNs();
    req_.admitted_unix_ms = util::SystemClock::Get().NowMs();
    auto& msg = header_parser_->get();
    stream_.expires_after(std::chrono::milliseconds(server_->options_.read_timeout_ms));

    for (const auto& field : msg) {
      req_.headers.emplace_back(util::ToLower(std::string_view(field.name_string())),
                                std::string(field.value()));
    }
    auto rid = req_.Header("x-request-id");
    req_.request_id = rid && IsValidRequestId(*rid) ? std::string(*rid) : NewRequestId();
    keep_alive_ = msg.keep_alive();
    req_.method = ToMethod(msg.method());

    std::string_view target(msg.target().data(), msg.target().size());
    size_t qpos = target.find('?');
    req_.path = std::string(target.substr(0, qpos));
    auto segments = SplitPath(req_.path);
    // 400s that SPEC 7.4 orders after route, credentials, rate, size and media type (a malformed
    // path or query, a malformed X-Request-Timeout-Ms): noted here, refused after those checks.
    absl::Status deferred;
    if (segments.ok()) {
      req_.segments = std::move(*segments);
    } else {
      if (req_.path.empty() || req_.path[0] != '/') return Refuse(segments.status());
      // A malformed escape is a 400, after route, credentials and rate (SPEC 7.4): route on
      // the raw segments, admit, then refuse.
      deferred = segments.status();
      for (std::string_view raw : util::Split(std::string_view(req_.path).substr(1), '/')) {
        auto decoded = PercentDecode(raw, /*plus_is_space=*/false);
        req_.segments.push_back(decoded.ok() ? std::move(*decoded) : std::string(raw));
      }
    }
    RouteMatch match = server_->router_->Match(req_.method, req_.segments);
    if (match.route == nullptr) {
      if (!match.allow.empty()) {
        Response r = ErrorResponse(MethodNotAllowedError(
            util::StrCat(std::string_view(msg.method_string().data(), msg.method_string().size()),
                         " is not allowed on ", req_.path)));
        r.headers.emplace_back("Allow", match.allow);
        return RefuseWith(std::move(r));
      }
      return Refuse(absl::NotFoundError(util::StrCat("no route for ", req_.path)));
    }
    route_ = match.route;
    req_.params = std::move(match.params);
    // The request is admitted with the query pairs that decode: a good `?key=` still counts.
    if (qpos != std::string_view::npos)
      deferred.Update(ParseQuery(target.substr(qpos + 1), &req_.query));

    auto ticket = server_->gatekeeper_->Admit(*route_, req_);
    if (!ticket.ok()) return Refuse(ticket.status());
    ticket_ = std::move(*ticket);
    req_.deadline_mono_ns = ticket_.deadline_mono_ns;
    if (!priority_lane_ && server_->options_.priority_io_threads > 0 && ticket_.pool != nullptr &&
        (ticket_.ctx.admin || ticket_.ctx.principal.tenant != nullptr) &&
        ticket_.pool->nice() < server_->options_.io_nice) {
      move_lanes_ = true;  // after this answer, so the request in hand is not disturbed
    }
    // The other way (a tenant whose pool became nicer, e.g. by a `nice` override): answer and
    // close, so that the client's next connection starts on the shared lane.
    if (priority_lane_ && ticket_.pool != nullptr && ticket_.ctx.principal.tenant != nullptr &&
        ticket_.pool->nice() >= server_->options_.io_nice) {
      keep_alive_ = false;
    }

    const bool file_body = route_->body == BodyKind::kFile;
    const size_t limit =
        file_body ? server_->options_.max_upload_bytes : server_->options_.max_body_bytes;
    if (auto len = header_parser_->content_length(); len && *len > limit) {
      return Refuse(TooLargeError(util::StrCat("request body of ", *len,
                                               " bytes exceeds the limit of ", limit)));
    }
    if (file_body) {
      const std::string media = MediaType(req_.Header("content-type").value_or(""));
      if (media != "application/x-tar" && media != "application/gzip" &&
          media != "application/json") {
        return Refuse(UnsupportedMediaTypeError(
            "model uploads take application/x-tar, application/gzip or application/json"));
      }
    }
    deferred.Update(ticket_.deferred_error);
    if (!deferred.ok()) return Refuse(deferred);
    if (file_body) {
      // Each staged upload holds a file in the data dir and a control thread: cap them.
      if (server_->active_uploads_.fetch_add(1) >= server_->options_.max_concurrent_uploads) {
        server_->active_uploads_.fetch_sub(1);
        return Refuse(OverloadedError(util::StrCat("at most ",
                                                   server_->options_.max_concurrent_uploads,
                                                   " model uploads at once; retry later")));
      }
      counted_upload_ = true;
    }

    if (util::EqualsIgnoreCase(req_.Header("expect").value_or(""), "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       msg.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                           if (ec) return self->CloseNow();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    const bool has_body = header_parser_->chunked() || header_parser_->content_length().value_or(0) > 0;
    if (route_->body == BodyKind::kFile) {
      file_parser_.emplace(std::move(*header_parser_));
      file_parser_->body_limit(server_->options_.max_upload_bytes);
      req_.body_file = util::StrCat(server_->options_.upload_dir, "/upload-", ::getpid(), "-",
                                    server_->next_upload_.fetch_add(1), ".part");
      beast::error_code ec;
      file_parser_->get().body().open(req_.body_file.c_str(), beast::file_mode::write, ec);
      if (ec) {
        return Refuse(absl::UnavailableError(util::StrCat("cannot stage upload: ", ec.message())));
      }
      stream_.expires_after(std::chrono::milliseconds(server_->options_.upload_timeout_ms));
      bhttp::async_read(stream_, buffer_, *file_parser_,
                        beast::bind_front_handler(&Session::OnBody, shared_from_this()));
      return;
    }
    body_parser_.emplace(std::move(*header_parser_));
    body_parser_->body_limit(server_->options_.max_body_bytes);
    if (!has_body) return OnBody({}, 0);
    bhttp::async_read(stream_, buffer_, *body_parser_,
                      beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit || IsMalformedRequest(ec)) {
      DiscardUpload();
      return Refuse(ec == bhttp::error::body_limit
                        ? TooLargeError("request body exceeds the limit")
                        : absl::InvalidArgumentError(
                              util::StrCat("malformed HTTP request body: ", ec.message())));
    }
    if (ec) {
      DiscardUpload();
      return CloseNow();  // truncated or timed out: the client is gone
    }
    if (file_parser_) {
      file_parser_->get().body().close();
      file_parser_.reset();
    } else {
      req_.body = std::move(body_parser_->get().body());
      body_parser_.reset();
      req_.body.reserve(req_.body.size() + 64);  // simdjson reads up to 64 bytes past the end
    }
    Dispatch();
  }

  void Dispatch() {
    if (route_->on_io_thread) return Write(route_->handler(req_, ticket_.ctx));
    auto self = shared_from_this();
    const int64_t queued_at = MonoNs();
    bool queued = ticket_.pool->TrySubmit([self, queued_at] {
      const int64_t started = MonoNs();
      if (!self->ticket_.tier_label.empty()) {
        self->server_->queue_wait_->Get({self->ticket_.tier_label})
            ->Observe(static_cast<double>(started - queued_at) * 1e-9);
      }
      Response response;
      std::string_view reason;
      if (self->req_.deadline_mono_ns != 0 && started > self->req_.deadline_mono_ns) {
        response = ErrorResponse(OverloadedError("the request's deadline passed before it ran"));
        reason = "deadline";
      } else {
        const int64_t cpu_before = ThreadCpuNs();
        response = self->route_->handler(self->req_, self->ticket_.ctx);
        response.usage.cpu_ns += static_cast<uint64_t>(ThreadCpuNs() - cpu_before);
      }
      net::post(self->stream_.get_executor(), [self, r = std::move(response), reason]() mutable {
        self->refusal_ = reason;
        self->Write(std::move(r));
      });
    });
    if (!queued) {
      refusal_ = "overloaded";
      Write(ErrorResponse(OverloadedError("the pool's queue is full")));
    }
  }

  // An answer decided before the body was read: send it and close without reading the body.
  void Refuse(const absl::Status& status) { RefuseWith(ErrorResponse(status)); }
  void RefuseWith(Response r) {
    r.close = true;
    Write(std::move(r));
  }

  void Write(Response r) {
    const bool close = r.close || !keep_alive_ || server_->draining_.load();
    if (r.stream) return WriteStream(std::move(r), close);
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    if (!r.body.empty() || r.status != 204) res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Request-Id", req_.request_id);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(!close);
    res->prepare_payload();
    Observe(r.status);
    SetCompletion(r);
    // The work is done. Giving the slot back before the bytes go out means a client that has
    // its answer can send the next request at once, even with max_inflight = 1.
    ticket_.inflight_hold.reset();
    stream_.expires_after(std::chrono::milliseconds(server_->options_.read_timeout_ms));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, close](beast::error_code ec, std::size_t) {
                         self->Finish(ec, close);
                       });
  }

  void WriteStream(Response r, bool close) {
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Request-Id", req_.request_id);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(!close);
    res->chunked(true);
    Observe(r.status);
    SetCompletion(r);
    stream_body_ = std::move(r.stream);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    stream_.expires_after(std::chrono::milliseconds(server_->options_.read_timeout_ms));
    bhttp::async_write_header(
        stream_, *sr, [self = shared_from_this(), res, sr, close](beast::error_code ec, std::size_t) {
          if (ec) return self->Finish(ec, true);
          self->NextChunk(close);
        });
  }

  // Produces the next piece on the pool (it may read storage), writes it on the strand.
  void NextChunk(bool close) {
    auto self = shared_from_this();
    auto produce = [self, close] {
      auto chunk = std::make_shared<std::string>();
      const int64_t cpu_before = ThreadCpuNs();
      absl::StatusOr<bool> more = self->stream_body_(chunk.get());
      const auto cpu = static_cast<uint64_t>(ThreadCpuNs() - cpu_before);
      net::post(self->stream_.get_executor(), [self, chunk, more, close, cpu] {
        self->completion_usage_.cpu_ns += cpu;
        if (!more.ok()) {
          // Headers are gone already: the only honest signal left is an aborted stream.
          RECD_LOG(Error) << "stream " << self->req_.request_id << " failed: " << more.status();
          return self->Finish(beast::error_code(net::error::operation_aborted), true);
        }
        self->WriteChunk(chunk, *more, close);
      });
    };
    if (!ticket_.pool || !ticket_.pool->TrySubmit(produce)) {
      RECD_LOG(Warning) << "stream " << req_.request_id << " aborted: pool queue full";
      Finish(beast::error_code(net::error::operation_aborted), true);
    }
  }

  void WriteChunk(std::shared_ptr<std::string> chunk, bool more, bool close) {
    auto self = shared_from_this();
    auto after = [self, more, close](beast::error_code ec, std::size_t) {
      if (ec) return self->Finish(ec, true);
      if (more) return self->NextChunk(close);
      net::async_write(self->stream_, bhttp::make_chunk_last(),
                       [self, close](beast::error_code ec, std::size_t) {
                         self->stream_body_ = nullptr;
                         self->Finish(ec, close);
                       });
    };
    stream_.expires_after(std::chrono::milliseconds(server_->options_.read_timeout_ms));
    if (chunk->empty()) return after({}, 0);
    net::async_write(stream_, bhttp::make_chunk(net::buffer(*chunk)),
                     [chunk, after](beast::error_code ec, std::size_t n) { after(ec, n); });
  }

  void Finish(beast::error_code ec, bool close) {
    EndRequest();
    if (ec || close) return GracefulClose();
    if (move_lanes_) return MoveToPriorityLane();
    ReadHeader();
  }

  // Between requests (no operation pending): the socket leaves the shared lane's reactor and a
  // new session serves it on the priority lane, with whatever was read ahead. This session
  // ends when its last handler returns; the connection is counted by the new one.
  void MoveToPriorityLane() {
    beast::error_code ec;
    tcp::socket& socket = stream_.socket();
    const tcp::endpoint local = socket.local_endpoint(ec);
    if (ec) return CloseNow();
    const int fd = socket.release(ec);
    if (ec) return CloseNow();
    tcp::socket moved(net::make_strand(server_->priority_ioc_));
    moved.assign(local.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    auto next = std::make_shared<Session>(std::move(moved), server_, std::move(buffer_), true);
    server_->Track(next);
    next->Start();
  }

  // What the gatekeeper is told once the answer is out (billing, per-tenant metrics).
  void SetCompletion(const Response& r) {
    has_completion_ = true;
    completion_status_ = r.status;
    completion_usage_ = r.usage;
    completion_ingested_ = r.ingested;
  }

  void EndRequest() {
    if (has_completion_) {
      has_completion_ = false;
      server_->gatekeeper_->Complete(ticket_, completion_status_, completion_usage_,
                                     completion_ingested_, refusal_);
    }
    refusal_ = {};
    completion_usage_ = {};
    completion_ingested_ = {};
    ticket_ = Ticket{};  // releases in-flight accounting
    if (!req_.body_file.empty()) {
      // A handler moves the staged upload away when it keeps it; whatever is left is garbage.
      ::unlink(req_.body_file.c_str());
      req_.body_file.clear();
    }
    if (counted_upload_) {
      counted_upload_ = false;
      server_->active_uploads_.fetch_sub(1);
    }
    if (counted_in_flight_) {
      counted_in_flight_ = false;
      server_->in_flight_.fetch_sub(1);
    }
  }

  void Observe(int status) {
    const std::string_view route = route_ != nullptr ? std::string_view(route_->name) : "unmatched";
    char digits[16];
    const auto printed = std::to_chars(digits, digits + sizeof(digits), status);
    server_->requests_->Get({route, std::string_view(digits, printed.ptr - digits)})->Inc();
    const double seconds = static_cast<double>(MonoNs() - req_.admitted_mono_ns) * 1e-9;
    server_->latency_->Get({route})->Observe(seconds);
    if (!ticket_.tier_label.empty()) {
      server_->tier_latency_->Get({ticket_.tier_label})->Observe(seconds);
    }
    if (!ticket_.tenant_label.empty()) {
      server_->tenant_latency_->Get({ticket_.tenant_label, ticket_.tier_label})->Observe(seconds);
    }
  }

  // Half-close, then drain what the client still sends for a moment, so that it reads our
  // answer instead of a reset caused by unread body bytes.
  void GracefulClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return CloseNow();
    stream_.expires_after(std::chrono::seconds(2));
    DrainSome();
  }

  void DrainSome() {
    auto buf = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(net::buffer(*buf),
                            [self = shared_from_this(), buf](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > (4u << 20)) return self->CloseNow();
                              self->DrainSome();
                            });
  }

  void CloseNow() {
    EndRequest();
    DiscardUpload();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  void DiscardUpload() {
    if (file_parser_) {
      file_parser_->get().body().close();
      file_parser_.reset();
    }
  }

  std::string NewRequestId() {
    return util::StrCat(server_->request_id_prefix_, "-", server_->next_request_id_.fetch_add(1));
  }

  beast::tcp_stream stream_;
  Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  Request req_;
  Ticket ticket_;
  const Route* route_ = nullptr;
  BodyStream stream_body_;
  const bool priority_lane_;
  bool move_lanes_ = false;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool counted_in_flight_ = false;
  bool counted_upload_ = false;
  size_t drained_ = 0;
  bool has_completion_ = false;
  int completion_status_ = 0;
  metering::UsageDelta completion_usage_;
  IngestedCounts completion_ingested_;
  std::string_view refusal_;  // static strings only: "deadline", "overloaded"
};

absl::Status HttpServer::Impl::Start() {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.host, ec);
  if (ec) return absl::InvalidArgumentError(util::StrCat("listen host \"", options_.host, "\": ", ec.message()));
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        util::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  shared_work_.emplace(net::make_work_guard(ioc_));
  for (int i = 0; i < options_.io_threads; ++i) {
    threads_.emplace_back([this, i] {
      if (options_.io_nice != 0) {
        if (absl::Status s = util::SetCurrentThreadNice(options_.io_nice); !s.ok()) {
          RECD_LOG(Warning) << "I/O thread: " << s.message();
        }
      }
      if (absl::Status s = util::SetCurrentThreadCpus(options_.io_cpus); !s.ok()) {
        RECD_LOG(Warning) << "I/O thread: " << s.message();
      }
      // Named last: a thread found by its name already runs where and how it should.
      util::NameCurrentThread(util::StrCat("recd-io-", i));
      ioc_.run();
    });
  }
  if (options_.priority_io_threads > 0) {
    priority_work_.emplace(net::make_work_guard(priority_ioc_));
    for (int i = 0; i < options_.priority_io_threads; ++i) {
      threads_.emplace_back([this, i] {
        if (absl::Status s = util::SetCurrentThreadCpus(options_.priority_io_cpus); !s.ok()) {
          RECD_LOG(Warning) << "priority I/O thread: " << s.message();
        }
        util::NameCurrentThread(util::StrCat("recd-io-prio-", i));
        priority_ioc_.run();
      });
    }
  }
  return absl::OkStatus();
}

void HttpServer::Impl::Track(const std::shared_ptr<Session>& session) {
  absl::MutexLock lock(&sessions_mu_);
  // Forget closed sessions now and then so the list stays as long as the open ones.
  if (sessions_.size() > 2 * open_connections_.load() + 64) {
    std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  }
  sessions_.push_back(session);
}

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (draining_.load() || !acceptor_.is_open()) return;
  if (!ec) {
    if (open_connections_.load() >= options_.max_connections) {
      // Over the cap: refuse at once rather than queue. One best-effort non-blocking write of a
      // fixed answer (a fresh socket's buffer always has room), so the client learns why.
      static constexpr char kOverCap[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Retry-After: 1\r\nConnection: close\r\nContent-Length: 70\r\n\r\n"
          "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open connections\"}}\n";
      beast::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kOverCap, sizeof(kOverCap) - 1), ignored);
      // Closing with unread bytes sends RST, which can destroy the answer at the client: take
      // in whatever request already arrived.
      char unread[4096];
      socket.read_some(net::buffer(unread), ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      refused_connections_->Inc();
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), this, beast::flat_buffer(),
                                               /*priority_lane=*/false);
      Track(session);
      session->Start();
    }
  }
  DoAccept();
}

void HttpServer::Impl::BeginDrain() {
  if (draining_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  absl::MutexLock lock(&sessions_mu_);
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) s->CloseIfIdle();
  }
}

void HttpServer::Impl::Stop(int64_t grace_ms) {
  BeginDrain();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (in_flight_.load() > 0) {
    RECD_LOG(Warning) << in_flight_.load() << " requests still running after the grace period";
  }
  shared_work_.reset();
  priority_work_.reset();
  ioc_.stop();
  priority_ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

HttpServer::HttpServer(ServerOptions options, const Router* router, Gatekeeper* gatekeeper,
                       metering::MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, gatekeeper, metrics)) {}

HttpServer::~HttpServer() {
  if (!impl_->threads_.empty()) impl_->Stop(0);
}

absl::Status HttpServer::Start() { return impl_->Start(); }
uint16_t HttpServer::port() const { return impl_->port_.load(); }
void HttpServer::BeginDrain() { impl_->BeginDrain(); }
bool HttpServer::draining() const { return impl_->draining_.load(); }
void HttpServer::Stop(int64_t grace_ms) { impl_->Stop(grace_ms); }
size_t HttpServer::open_connections() const { return impl_->open_connections_.load(); }

}  // namespace recd::http
