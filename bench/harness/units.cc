#include "bench/harness/units.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/strings.h"

namespace recd::bench {
namespace {

// Nanoseconds per unit; nullopt-like 0 for an unknown unit.
int64_t UnitNs(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return 0;
}

}  // namespace

absl::StatusOr<int64_t> ParseDurationNs(std::string_view text) {
  const std::string quoted = util::StrCat("\"", text, "\"");
  if (text.empty()) return absl::InvalidArgumentError("empty duration; write e.g. \"30s\"");
  if (text[0] == '-') {
    return absl::InvalidArgumentError(util::StrCat("negative duration ", quoted));
  }
  // Each term is digits[.digits] followed by a unit; a sum of terms ("1m30s") is allowed.
  long double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t num_start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == num_start) {
      return absl::InvalidArgumentError(util::StrCat("expected a number at offset ", num_start,
                                                     " in ", quoted, "; write e.g. \"30s\""));
    }
    const std::string number(text.substr(num_start, i - num_start));
    char* end = nullptr;
    const long double value = std::strtold(number.c_str(), &end);
    if (end != number.c_str() + number.size() ||
        std::count(number.begin(), number.end(), '.') > 1) {
      return absl::InvalidArgumentError(util::StrCat("bad number '", number, "' in ", quoted));
    }
    const size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      return absl::InvalidArgumentError(
          util::StrCat("missing unit in ", quoted, " (use ns, us, ms, s, m or h)"));
    }
    const int64_t unit_ns = UnitNs(unit);
    if (unit_ns == 0) {
      return absl::InvalidArgumentError(
          util::StrCat("unknown unit '", unit, "' in ", quoted, " (use ns, us, ms, s, m or h)"));
    }
    total += value * static_cast<long double>(unit_ns);
  }
  // Ten years is far beyond any benchmark and keeps arithmetic on the result safe.
  if (total > 3.2e17L)
    return absl::InvalidArgumentError(util::StrCat("duration too long ", quoted));
  return static_cast<int64_t>(std::llround(total));
}

std::string FormatDurationNs(int64_t ns) {
  if (ns == 0) return "0s";
  if (ns % 3'600'000'000'000 == 0) return util::StrCat(ns / 3'600'000'000'000, "h");
  if (ns >= 3'600'000'000'000 && ns % 60'000'000'000 == 0) {
    return util::StrCat(ns / 3'600'000'000'000, "h", (ns % 3'600'000'000'000) / 60'000'000'000,
                        "m");
  }
  if (ns % 60'000'000'000 == 0) return util::StrCat(ns / 60'000'000'000, "m");
  if (ns % 1'000'000'000 == 0) return util::StrCat(ns / 1'000'000'000, "s");
  if (ns >= 1'000'000'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ns) / 1e9);
    return buf;
  }
  if (ns % 1'000'000 == 0) return util::StrCat(ns / 1'000'000, "ms");
  if (ns % 1'000 == 0) return util::StrCat(ns / 1'000, "us");
  return util::StrCat(ns, "ns");
}

std::string FormatLatencyUs(double us) {
  char buf[32];
  if (!std::isfinite(us)) return "-";
  if (us < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fus", us);
  } else if (us < 10'000) {
    std::snprintf(buf, sizeof buf, "%.2fms", us / 1e3);
  } else if (us < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
  }
  return buf;
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (!text->starts_with(prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* text, std::string_view suffix) {
  if (!text->ends_with(suffix)) return false;
  text->remove_suffix(suffix.size());
  return true;
}

}  // namespace recd::bench
