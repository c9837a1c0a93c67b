// Per-thread scheduling attributes: names for profilers and nice values for tier isolation.
#pragma once

#include <string_view>

#include "recd/status.h"

namespace recd::util {

// Names the calling thread (truncated to the 15 characters Linux keeps).
void NameCurrentThread(std::string_view name);

// Sets the calling thread's nice value. Linux applies setpriority(PRIO_PROCESS, tid) to one
// thread. Raising it needs no privilege; lowering it below the process's does.
absl::Status SetCurrentThreadNice(int nice);

}  // namespace recd::util
