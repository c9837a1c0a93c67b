#include "bench/harness/load_engine.h"

#include <chrono>
#include <deque>
#include <optional>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "util/log.h"

namespace recd::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

asio::steady_timer::time_point ToTimePoint(int64_t ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

// Answers are read whole; recd's largest answers (k = 1000 items) are far below this.
constexpr uint64_t kMaxAnswerBytes = 64 << 20;
// After a failed connect a connection rests this long, so a dead server is not spun on.
constexpr int64_t kConnectBackoffNs = 50'000'000;

struct Pending {
  int64_t scheduled_ns = 0;
  int64_t dispatched_ns = 0;
  OutgoingRequest request;
};

struct Stream;

struct Conn {
  Conn(asio::io_context& io, Stream* owner) : socket(io), timer(io), stream(owner) {}
  tcp::socket socket;
  asio::steady_timer timer;
  boost::beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  Stream* stream;
  Pending pending;
  bool connected = false;
  bool busy = false;
  bool in_request = false;  // between Send and its answer or failure
  bool timed_out = false;
  uint64_t generation = 0;
};

struct Stream {
  Stream(asio::io_context& io, StreamPlan p) : plan(std::move(p)), arrival_timer(io) {}
  StreamPlan plan;
  std::optional<ArrivalSchedule> schedule;
  asio::steady_timer arrival_timer;
  int64_t next_arrival_ns = 0;  // absolute
  std::deque<Pending> backlog;
  std::vector<Conn*> idle;
  std::vector<std::unique_ptr<Conn>> conns;
  StreamStats stats;
  int64_t issued = 0;
  bool exhausted = false;
};

class Worker {
 public:
  Worker(const EngineConfig& config, std::vector<StreamPlan> plans, int64_t start_ns,
         const std::atomic<bool>* stop)
      : config_(config),
        io_(1),
        end_timer_(io_),
        poll_timer_(io_),
        start_ns_(start_ns),
        stop_(stop) {
    error_code ec;
    endpoint_ = tcp::endpoint(asio::ip::make_address(config.address, ec), config.port);
    RECD_CHECK(!ec) << "the caller resolves the target to a numeric address: " << config.address;
    for (StreamPlan& plan : plans) {
      auto stream = std::make_unique<Stream>(io_, std::move(plan));
      for (int i = 0; i < std::max(stream->plan.connections, 1); ++i) {
        stream->conns.push_back(std::make_unique<Conn>(io_, stream.get()));
      }
      streams_.push_back(std::move(stream));
    }
  }

  EngineResult Run() {
    // Open every connection before the start so the first requests do not pay for it.
    for (auto& stream : streams_) {
      for (auto& conn : stream->conns) PreConnect(conn.get());
    }
    end_timer_.expires_at(ToTimePoint(start_ns_));
    end_timer_.async_wait([this](error_code ec) {
      if (!ec) Start();
    });
    io_.run();
    EngineResult result;
    result.elapsed_ns = finish_ns_ - start_ns_;
    result.sending_ns = (ending_ns_ > 0 ? ending_ns_ : finish_ns_) - start_ns_;
    result.exhausted = exhausted_early_;
    result.overhead = std::move(overhead_);
    // The engine's dispatch lag is the merge of its streams' (same histogram configuration).
    for (auto& stream : streams_) {
      result.overhead.dispatch_lag_us.Merge(stream->stats.dispatch_lag_us).IgnoreError();
      result.streams.push_back(std::move(stream->stats));
    }
    return result;
  }

 private:
  void PreConnect(Conn* conn) {
    conn->busy = true;
    conn->socket.async_connect(endpoint_, [this, conn](error_code ec) {
      conn->busy = false;
      if (ec) {
        conn->socket.close(ec);
      } else {
        OnConnected(conn);
      }
      if (!started_)
        conn->stream->idle.push_back(conn);
      else
        Release(conn);
    });
  }

  void OnConnected(Conn* conn) {
    error_code ignored;
    conn->socket.set_option(tcp::no_delay(true), ignored);
    conn->connected = true;
    ++overhead_.connections_opened;
  }

  void Start() {
    started_ = true;
    for (auto& stream : streams_) {
      if (stream->plan.closed_loop) {
        std::vector<Conn*> idle;
        idle.swap(stream->idle);
        for (Conn* conn : idle) Release(conn);
        continue;
      }
      stream->schedule.emplace(stream->plan.arrival, stream->plan.rate, stream->plan.seed,
                               stream->plan.phase_ns);
      stream->next_arrival_ns = start_ns_ + stream->schedule->Next();
      ArmArrival(stream.get());
    }
    end_timer_.expires_at(ToTimePoint(start_ns_ + config_.duration_ns));
    end_timer_.async_wait([this](error_code ec) {
      if (!ec) BeginEnd();
    });
    Poll();
  }

  // Notices an external stop request between timer events.
  void Poll() {
    poll_timer_.expires_after(std::chrono::milliseconds(50));
    poll_timer_.async_wait([this](error_code ec) {
      if (ec || finished_) return;
      if (stop_ != nullptr && stop_->load(std::memory_order_relaxed) && !ending_) BeginEnd();
      if (!finished_) Poll();
    });
  }

  void ArmArrival(Stream* stream) {
    if (ending_ || stream->exhausted) return;
    stream->arrival_timer.expires_at(ToTimePoint(stream->next_arrival_ns));
    stream->arrival_timer.async_wait([this, stream](error_code ec) {
      if (!ec) OnArrivals(stream);
    });
  }

  bool LimitReached(const Stream* stream) const {
    return stream->plan.max_requests >= 0 && stream->issued >= stream->plan.max_requests;
  }

  // Dispatches every arrival that is due; a late timer sends the overdue ones at once, each
  // still timed from its own schedule.
  void OnArrivals(Stream* stream) {
    const int64_t now = SteadyNowNs();
    const int64_t end = start_ns_ + config_.duration_ns;
    while (!ending_ && stream->next_arrival_ns <= now && stream->next_arrival_ns < end) {
      Pending pending;
      if (LimitReached(stream) || !stream->plan.source->Next(&pending.request)) {
        MarkExhausted(stream);
        return;
      }
      ++stream->issued;
      pending.scheduled_ns = stream->next_arrival_ns;
      pending.dispatched_ns = now;
      stream->stats.dispatch_lag_us.Record((now - pending.scheduled_ns) / 1000);
      if (!stream->idle.empty()) {
        Conn* conn = stream->idle.back();
        stream->idle.pop_back();
        Send(conn, std::move(pending), now);
      } else if (stream->backlog.size() >= config_.max_backlog) {
        EndpointStats& es = stream->stats.endpoints[static_cast<int>(pending.request.endpoint)];
        ++es.failures[static_cast<int>(Failure::kOverflow)];
      } else {
        stream->backlog.push_back(std::move(pending));
        stream->stats.backlog_max = std::max<int64_t>(stream->stats.backlog_max,
                                                      static_cast<int64_t>(stream->backlog.size()));
      }
      stream->next_arrival_ns = start_ns_ + stream->schedule->Next();
    }
    if (stream->next_arrival_ns >= end) return;  // the end timer takes over
    ArmArrival(stream);
  }

  void MarkExhausted(Stream* stream) {
    stream->exhausted = true;
    for (auto& s : streams_) {
      if (!s->exhausted) return;
    }
    exhausted_early_ = true;
    BeginEnd();
  }

  void Send(Conn* conn, Pending pending, int64_t now) {
    conn->busy = true;
    conn->in_request = true;
    conn->pending = std::move(pending);
    if (!conn->stream->plan.closed_loop) {
      overhead_.connection_wait_us.Record((now - conn->pending.dispatched_ns) / 1000);
    }
    ++conn->stream->stats.endpoints[static_cast<int>(conn->pending.request.endpoint)].sent;
    ++inflight_;
    if (!conn->connected) {
      error_code ignored;
      conn->socket.close(ignored);
      conn->socket.async_connect(endpoint_, [this, conn](error_code ec) {
        if (ec) {
          Fail(conn, Failure::kConnect);
          return;
        }
        OnConnected(conn);
        Write(conn);
      });
      return;
    }
    Write(conn);
  }

  void Write(Conn* conn) {
    const uint64_t generation = ++conn->generation;
    conn->timed_out = false;
    conn->timer.expires_after(std::chrono::nanoseconds(config_.timeout_ns));
    conn->timer.async_wait([conn, generation](error_code ec) {
      if (ec || conn->generation != generation || !conn->busy) return;
      conn->timed_out = true;
      error_code ignored;
      conn->socket.close(ignored);  // the pending read fails and reports the timeout
    });
    asio::async_write(conn->socket, asio::buffer(conn->pending.request.wire),
                      [this, conn](error_code ec, size_t) {
                        if (ec) {
                          Fail(conn, conn->timed_out ? Failure::kTimeout : Failure::kIo);
                          return;
                        }
                        conn->parser.emplace();
                        conn->parser->body_limit(kMaxAnswerBytes);
                        http::async_read(conn->socket, conn->buffer, *conn->parser,
                                         [this, conn](error_code ec, size_t) { OnRead(conn, ec); });
                      });
  }

  void OnRead(Conn* conn, error_code ec) {
    conn->timer.cancel();
    if (ec) {
      Fail(conn, conn->timed_out ? Failure::kTimeout : Failure::kIo);
      return;
    }
    const int64_t now = SteadyNowNs();
    const auto& answer = conn->parser->get();
    const Pending& p = conn->pending;
    EndpointStats& es = conn->stream->stats.endpoints[static_cast<int>(p.request.endpoint)];
    const int64_t interval = (p.scheduled_ns - start_ns_) / config_.interval_ns;
    es.RecordAnswer(answer.result_int(), (now - p.scheduled_ns) / 1000, interval, p.request.events);
    if (!answer.keep_alive()) Disconnect(conn);
    conn->parser.reset();
    conn->in_request = false;
    --inflight_;
    Release(conn);
  }

  void Fail(Conn* conn, Failure failure) {
    conn->timer.cancel();
    EndpointStats& es =
        conn->stream->stats.endpoints[static_cast<int>(conn->pending.request.endpoint)];
    ++es.failures[static_cast<int>(failure)];
    Disconnect(conn);
    conn->in_request = false;
    --inflight_;
    if (failure == Failure::kConnect && !ending_) {
      // Rest before trying again, still counted busy so nothing is sent on it meanwhile.
      conn->timer.expires_after(std::chrono::nanoseconds(kConnectBackoffNs));
      conn->timer.async_wait([this, conn](error_code) { Release(conn); });
      return;
    }
    Release(conn);
  }

  void Disconnect(Conn* conn) {
    error_code ignored;
    conn->socket.close(ignored);
    conn->connected = false;
    conn->buffer.clear();
  }

  // A connection became free: give it the oldest waiting request, or (closed loop) the next.
  void Release(Conn* conn) {
    conn->busy = false;
    if (finished_) return;
    Stream* stream = conn->stream;
    const int64_t now = SteadyNowNs();
    if (!ending_ && !stream->backlog.empty()) {
      Pending pending = std::move(stream->backlog.front());
      stream->backlog.pop_front();
      Send(conn, std::move(pending), now);
      return;
    }
    if (!ending_ && stream->plan.closed_loop && !stream->exhausted) {
      Pending pending;
      if (LimitReached(stream) || !stream->plan.source->Next(&pending.request)) {
        stream->idle.push_back(conn);
        MarkExhausted(stream);
        return;
      }
      ++stream->issued;
      pending.scheduled_ns = now;
      pending.dispatched_ns = now;
      Send(conn, std::move(pending), now);
      return;
    }
    stream->idle.push_back(conn);
    if (ending_ && inflight_ == 0) Finish();
  }

  // Sending stops; answers in flight get the drain time.
  void BeginEnd() {
    if (ending_) return;
    ending_ = true;
    ending_ns_ = SteadyNowNs();
    for (auto& stream : streams_) {
      stream->arrival_timer.cancel();
      for (Pending& p : stream->backlog) {
        EndpointStats& es = stream->stats.endpoints[static_cast<int>(p.request.endpoint)];
        ++es.failures[static_cast<int>(Failure::kUnsent)];
      }
      stream->backlog.clear();
    }
    if (inflight_ == 0) {
      Finish();
      return;
    }
    end_timer_.expires_after(std::chrono::nanoseconds(config_.drain_ns));
    end_timer_.async_wait([this](error_code ec) {
      if (!ec) Finish();
    });
  }

  // Everything still open is closed; requests in flight are counted as timed out.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    finish_ns_ = SteadyNowNs();
    end_timer_.cancel();
    poll_timer_.cancel();
    for (auto& stream : streams_) {
      stream->arrival_timer.cancel();
      for (auto& conn : stream->conns) {
        if (conn->in_request) {
          EndpointStats& es =
              stream->stats.endpoints[static_cast<int>(conn->pending.request.endpoint)];
          ++es.failures[static_cast<int>(Failure::kTimeout)];
        }
        conn->timer.cancel();
        error_code ignored;
        conn->socket.close(ignored);
      }
    }
    io_.stop();
  }

  const EngineConfig& config_;
  asio::io_context io_;
  asio::steady_timer end_timer_;
  asio::steady_timer poll_timer_;
  tcp::endpoint endpoint_;
  std::vector<std::unique_ptr<Stream>> streams_;
  EngineOverhead overhead_;
  int64_t start_ns_;
  int64_t ending_ns_ = 0;
  int64_t finish_ns_ = 0;
  int64_t inflight_ = 0;
  const std::atomic<bool>* stop_;
  bool started_ = false;
  bool ending_ = false;
  bool finished_ = false;
  bool exhausted_early_ = false;
};

}  // namespace

EngineResult RunLoad(const EngineConfig& config, std::vector<StreamPlan> streams, int64_t start_ns,
                     const std::atomic<bool>* stop) {
  Worker worker(config, std::move(streams), start_ns, stop);
  return worker.Run();
}

}  // namespace recd::bench
