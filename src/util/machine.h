// What machine this is, for benchmark setups and logs.
#pragma once

#include <string>

namespace recd::util {

// The CPU's "model name" from /proc/cpuinfo, or "unknown".
std::string CpuModelName();

}  // namespace recd::util
