// Durations and latencies as people write them: "30s", "500ms", "1m30s", "2h". Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recd::bench {

// Parses one or more `<number><unit>` terms (units ns, us, ms, s, m, h; the number may have a
// fraction) into nanoseconds. Errors (InvalidArgument) say what is wrong, e.g. "unknown unit
// 'x' in \"30x\"". Negative and empty durations are refused; zero ("0s") is allowed.
absl::StatusOr<int64_t> ParseDurationNs(std::string_view text);

// A short human form of a duration: "30s", "1.5s", "250ms", "2m", "1h30m".
std::string FormatDurationNs(int64_t ns);

// A latency in microseconds for tables: "850us", "1.25ms", "12.3ms", "1.52s".
std::string FormatLatencyUs(double us);

// Whole-string decimal number (no spaces, no trailing bytes).
bool ParseDouble(std::string_view text, double* out);
// Removes `prefix` (`suffix`) from `*text` if present; true if it did.
bool ConsumePrefix(std::string_view* text, std::string_view prefix);
bool ConsumeSuffix(std::string_view* text, std::string_view suffix);

}  // namespace recd::bench
