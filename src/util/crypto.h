// Hashing and randomness for API keys: SHA-256, constant-time compare, CSPRNG tokens.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace recd::util {

// 32 raw bytes.
std::string Sha256(std::string_view data);
// Compares without an early exit, so timing does not reveal where inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// `n` characters drawn uniformly from `alphabet` with a CSPRNG (rejection sampling).
std::string RandomString(size_t n, std::string_view alphabet);

inline constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
inline constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string HexEncode(std::string_view bytes);

}  // namespace recd::util
