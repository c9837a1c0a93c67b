// Register-only loops of the two instructions the AVX2 batch kernels are made of, measuring
// what this core can issue: the compute bound of a batch pass (docs/BENCHMARKS.md). Call only
// when the CPU supports AVX2 and FMA (compute_peak.cc is the one file built with them).
#pragma once

#include <cstdint>

namespace recd::bench {

// Runs `rounds` x 10 independent 256-bit FMAs; returns the FMA count.
uint64_t FmaPeakAvx2(uint64_t rounds);
// Runs `rounds` x 10 independent vpmaddwd + vpaddd pairs; returns the pair count. Each chain
// is madd then add (about 6 cycles), so a core with two vpmaddwd pipes would need more than
// 10 chains to show its peak: exact for one pipe (Zen 2), up to ~17 % low with two.
uint64_t MaddPeakAvx2(uint64_t rounds);

}  // namespace recd::bench
