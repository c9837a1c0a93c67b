// Validation and formatting of the small text forms the API uses. Thread-safe, pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace recd::util {

// True if `s` is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without control
// characters U+0000-U+001F and U+007F-U+009F (SPEC 7.4).
bool IsValidId(std::string_view s);

// Length of the well-formed UTF-8 sequence at s[i] (no overlongs, no surrogates, at most
// U+10FFFF), 0 if there is none; `*cp` receives its code point.
size_t Utf8SequenceAt(std::string_view s, size_t i, uint32_t* cp);

// Days since 1970-01-01 for a UTC calendar date, and back (proleptic Gregorian).
int64_t DaysFromCivil(int y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int* y, unsigned* m, unsigned* d);
// "YYYY-MM-DD" -> days since epoch; nullopt if malformed or not a real date.
std::optional<int64_t> ParseIsoDate(std::string_view s);
std::string FormatIsoDate(int64_t days);
// Unix ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatIsoTimestamp(int64_t unix_ms);
// UTC day number of a Unix-ms instant (floors negative times correctly).
inline int64_t DayOfUnixMs(int64_t unix_ms) {
  return unix_ms >= 0 ? unix_ms / 86'400'000 : -((-unix_ms + 86'399'999) / 86'400'000);
}

}  // namespace recd::util
