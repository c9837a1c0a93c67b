// Minimal leveled logging to stderr and CHECK macros (Debian 12's abseil has no absl/log).
// Thread-safe: each line is formatted first and written with one write(2).
#pragma once

#include <sstream>
#include <string_view>

namespace recd::util {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kFatal = 4 };

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();  // Writes the line; aborts for kFatal.
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Swallows the stream expression when the level is filtered out.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace recd::util

#define RECD_LOG(level)                                                              \
  (::recd::util::LogLevel::k##level < ::recd::util::MinLogLevel())                   \
      ? (void)0                                                                      \
      : ::recd::util::LogVoidify() &                                                 \
            ::recd::util::LogMessage(::recd::util::LogLevel::k##level, __FILE__, __LINE__) \
                .stream()

// A broken invariant: say why it cannot happen, then abort.
#define RECD_CHECK(cond)                                                              \
  (cond) ? (void)0                                                                    \
         : ::recd::util::LogVoidify() &                                               \
               ::recd::util::LogMessage(::recd::util::LogLevel::kFatal, __FILE__, __LINE__) \
                       .stream()                                                      \
                   << "Check failed: " #cond " "
