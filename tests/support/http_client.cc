#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "util/strings.h"

namespace recd::testing {

std::string HttpResult::Header(const std::string& name) const {
  auto it = headers.find(util::ToLower(name));
  return it == headers.end() ? "" : it->second;
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool HttpClient::Connect() {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{30, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return true;
}

HttpResult HttpClient::Send(const std::string& method, const std::string& target,
                            const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    if (util::ToLower(k) == "content-type") has_type = true;
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (!has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  return SendRaw(req);
}

HttpResult HttpClient::SendRaw(const std::string& bytes) {
  // A keep-alive connection the server closed meanwhile: reconnect once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!Connect()) return {};
    size_t sent = 0;
    bool ok = true;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        ok = false;
        break;
      }
      sent += static_cast<size_t>(n);
    }
    HttpResult r = ReadResponse();
    if (r.status != 0) {
      if (util::ToLower(r.Header("connection")) == "close") Close();
      return r;
    }
    Close();
    if (ok && attempt == 0 && sent == bytes.size()) continue;
    return r;
  }
  return {};
}

bool HttpClient::ReadMore() {
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

HttpResult HttpClient::ReadResponse() {
  HttpResult r;
  size_t end;
  for (;;) {
    end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) break;
    if (!ReadMore()) return {};
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  r.status = std::atoi(status_line.substr(9, 3).c_str());
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      r.headers[util::ToLower(line.substr(0, colon))] = v;
    }
    pos = e + 2;
  }
  if (r.status == 100) return ReadResponse();  // interim answer
  if (util::ToLower(r.Header("transfer-encoding")) == "chunked") {
    for (;;) {
      size_t le;
      while ((le = buffer_.find("\r\n")) == std::string::npos) {
        if (!ReadMore()) return {};
      }
      size_t size = std::stoul(buffer_.substr(0, le), nullptr, 16);
      buffer_.erase(0, le + 2);
      while (buffer_.size() < size + 2) {
        if (!ReadMore()) return {};
      }
      r.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
      if (size == 0) break;
    }
    return r;
  }
  size_t length = 0;
  if (!r.Header("content-length").empty()) length = std::stoul(r.Header("content-length"));
  while (buffer_.size() < length) {
    if (!ReadMore()) return {};
  }
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

}  // namespace recd::testing
