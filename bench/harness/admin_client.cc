#include "bench/harness/admin_client.h"

#include <chrono>
#include <optional>

#include "bench/harness/request.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "simdjson.h"
#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Blocking calls built from async operations and io_context::run_for, which gives every call
// a deadline without a second thread.
class AdminClient::Connection {
 public:
  Connection(std::string address, uint16_t port) : socket_(io_) {
    error_code ec;
    endpoint_ = tcp::endpoint(asio::ip::make_address(address, ec), port);
  }

  absl::StatusOr<HttpAnswer> RoundTrip(const std::string& wire, int64_t timeout_ns) {
    absl::StatusOr<HttpAnswer> answer = TryOnce(wire, timeout_ns);
    // A kept-alive connection the server has since closed fails at once; retry once fresh.
    if (!answer.ok() && reused_ && absl::IsUnavailable(answer.status())) {
      answer = TryOnce(wire, timeout_ns);
    }
    return answer;
  }

 private:
  absl::StatusOr<HttpAnswer> TryOnce(const std::string& wire, int64_t timeout_ns) {
    reused_ = socket_.is_open();
    io_.restart();
    error_code result = asio::error::would_block;
    std::optional<http::response_parser<http::string_body>> parser;
    parser.emplace();
    parser->body_limit(256ull << 20);
    auto read = [&] {
      http::async_read(socket_, buffer_, *parser, [&](error_code ec, size_t) { result = ec; });
    };
    auto write = [&] {
      asio::async_write(socket_, asio::buffer(wire), [&](error_code ec, size_t) {
        if (ec) {
          result = ec;
        } else {
          read();
        }
      });
    };
    if (!socket_.is_open()) {
      socket_.async_connect(endpoint_, [&](error_code ec) {
        if (ec) {
          result = ec;
          return;
        }
        error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        write();
      });
    } else {
      write();
    }
    io_.run_for(std::chrono::nanoseconds(timeout_ns));
    if (result == asio::error::would_block) {
      Close();
      io_.restart();
      io_.run();  // lets the cancelled handlers finish before the locals they use go away
      return absl::DeadlineExceededError("admin call timed out");
    }
    if (result) {
      Close();
      return absl::UnavailableError(util::StrCat("admin call failed: ", result.message()));
    }
    HttpAnswer answer;
    answer.status = parser->get().result_int();
    answer.body = std::move(parser->get().body());
    if (!parser->get().keep_alive()) Close();
    return answer;
  }

  void Close() {
    error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
  }

  asio::io_context io_{1};
  tcp::socket socket_;
  tcp::endpoint endpoint_;
  boost::beast::flat_buffer buffer_;
  bool reused_ = false;
};

AdminClient::AdminClient(Target target, std::string address, std::string admin_token,
                         int64_t timeout_ns)
    : target_(std::move(target)),
      admin_token_(std::move(admin_token)),
      timeout_ns_(timeout_ns),
      connection_(std::make_unique<Connection>(std::move(address), target_.port)) {}

AdminClient::~AdminClient() = default;

absl::StatusOr<HttpAnswer> AdminClient::Call(std::string_view method, std::string_view path,
                                             std::string_view content_type, std::string_view body,
                                             std::string_view route, int64_t timeout_ns) {
  const std::string wire =
      SerializeRequest(method, path, target_, admin_token_, content_type, body);
  absl::StatusOr<HttpAnswer> answer =
      connection_->RoundTrip(wire, timeout_ns > 0 ? timeout_ns : timeout_ns_);
  if (answer.ok()) ++counts_[util::StrCat(method, " ", route)][answer->status];
  return answer;
}

namespace {

absl::Status Unexpected(std::string_view what, const HttpAnswer& answer) {
  std::string body = answer.body.substr(0, 300);
  const std::string message = util::StrCat(what, ": HTTP ", answer.status, " ", body);
  switch (answer.status) {
    case 401:
    case 403:
      return absl::PermissionDeniedError(util::StrCat(message, " (check --admin-token)"));
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return absl::AlreadyExistsError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace

absl::StatusOr<TenantKeys> ParseTenantKeys(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("onboarding answer is not JSON");
  }
  TenantKeys keys;
  std::string_view server, ingest;
  if (doc["keys"]["server"].get_string().get(server) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("onboarding answer lacks keys.server");
  }
  if (doc["keys"]["ingest"].get_string().get(ingest) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("onboarding answer lacks keys.ingest");
  }
  keys.server = std::string(server);
  keys.ingest = std::string(ingest);
  return keys;
}

absl::StatusOr<TenantKeys> AdminClient::CreateTenant(std::string_view id, std::string_view name,
                                                     std::string_view tier) {
  std::string body;
  util::JsonWriter json(&body);
  json.BeginObject().Key("id").String(id).Key("name").String(name).Key("tier").String(tier);
  json.EndObject();
  absl::StatusOr<HttpAnswer> answer =
      Call("POST", "/v1/admin/tenants", "application/json", body, "/v1/admin/tenants");
  if (!answer.ok()) return answer.status();
  if (answer->status != 201) return Unexpected(util::StrCat("onboarding ", id), *answer);
  return ParseTenantKeys(answer->body);
}

absl::Status AdminClient::SetQuotas(std::string_view id,
                                    const std::map<std::string, double>& quotas) {
  std::string body;
  util::JsonWriter json(&body);
  json.BeginObject().Key("quotas").BeginObject();
  for (const auto& [key, value] : quotas) {
    json.Key(key);
    if (value == static_cast<double>(static_cast<int64_t>(value))) {
      json.Int(static_cast<int64_t>(value));
    } else {
      json.Double(value);
    }
  }
  json.EndObject().EndObject();
  absl::StatusOr<HttpAnswer> answer =
      Call("PATCH", util::StrCat("/v1/admin/tenants/", PercentEncode(id)), "application/json", body,
           "/v1/admin/tenants/{id}");
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) return Unexpected(util::StrCat("setting quotas of ", id), *answer);
  return absl::OkStatus();
}

absl::Status AdminClient::UploadModel(std::string_view id, std::string_view version,
                                      std::string_view tar) {
  // Compiling a large model takes a while; allow far more than a normal call.
  absl::StatusOr<HttpAnswer> answer = Call(
      "PUT",
      util::StrCat("/v1/admin/tenants/", PercentEncode(id), "/models/", PercentEncode(version)),
      "application/x-tar", tar, "/v1/admin/tenants/{id}/models/{version}",
      std::max<int64_t>(timeout_ns_, 300'000'000'000));
  if (!answer.ok()) return answer.status();
  if (answer->status != 201) {
    return Unexpected(util::StrCat("uploading model ", version, " of ", id), *answer);
  }
  return absl::OkStatus();
}

absl::Status AdminClient::ActivateModel(std::string_view id, std::string_view version) {
  absl::StatusOr<HttpAnswer> answer =
      Call("POST",
           util::StrCat("/v1/admin/tenants/", PercentEncode(id), "/models/", PercentEncode(version),
                        "/activate"),
           "", "", "/v1/admin/tenants/{id}/models/{version}/activate",
           std::max<int64_t>(timeout_ns_, 120'000'000'000));
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return Unexpected(util::StrCat("activating model ", version, " of ", id), *answer);
  }
  return absl::OkStatus();
}

absl::Status AdminClient::DeleteTenant(std::string_view id) {
  absl::StatusOr<HttpAnswer> answer =
      Call("DELETE", util::StrCat("/v1/admin/tenants/", PercentEncode(id)), "", "",
           "/v1/admin/tenants/{id}");
  if (!answer.ok()) return answer.status();
  if (answer->status != 204 && answer->status != 404) {
    return Unexpected(util::StrCat("offboarding ", id), *answer);
  }
  return absl::OkStatus();
}

}  // namespace recd::bench
