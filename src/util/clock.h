// Time source, injected so that tests can move time (STYLE 13). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace recd::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, Unix milliseconds (event time, metering days, retention).
  virtual int64_t NowMs() const = 0;
  // Monotonic nanoseconds (deadlines, latency).
  virtual int64_t MonotonicNs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  int64_t MonotonicNs() const override;
  static const SystemClock& Get();
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  int64_t MonotonicNs() const override { return now_ms_.load() * 1'000'000; }
  void AdvanceMs(int64_t ms) { now_ms_ += ms; }
  void SetMs(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace recd::util
