// A small blocking HTTP/1.1 client for integration tests: keep-alive, Content-Length and
// chunked answers. Speaks to the daemon exactly as any client would. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recd::testing {

struct HttpResult {
  int status = 0;  // 0: the connection failed or closed before an answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}
  ~HttpClient();

  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends raw bytes (a hand-made request) and reads one answer.
  HttpResult SendRaw(const std::string& bytes);
  // Reads the next answer without sending (after pipelined requests).
  HttpResult ReadNext() { return ReadResponse(); }
  void Close();

 private:
  bool Connect();
  HttpResult ReadResponse();
  bool ReadMore();

  uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace recd::testing
