// The memory-bandwidth floor for kernels_bench: the cheapest possible pass over N bytes.

#ifndef RECD_BENCH_KERNELS_STREAM_READ_H_
#define RECD_BENCH_KERNELS_STREAM_READ_H_

#include <cstddef>
#include <cstdint>

namespace recd::bench {

// Reads every byte of [p, p + bytes) once and folds them into a checksum, so the loads cannot
// be optimised away. `p` is 64-byte aligned and `bytes` a multiple of 16.
uint64_t StreamRead(const void* p, size_t bytes);

}  // namespace recd::bench

#endif  // RECD_BENCH_KERNELS_STREAM_READ_H_
