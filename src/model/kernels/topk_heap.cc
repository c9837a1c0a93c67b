// The top-k heap, built for baseline x86-64 and called by every ISA file. It is out of line on
// purpose: after the first k rows only a few rows per thousand beat the heap root (about
// k * ln(n / k) in total for random order), so a call per candidate costs nothing measurable,
// and keeping it here means no ISA-specific copy of shared code can reach other callers.

#include <cmath>

#include "model/kernels/internal.h"

namespace recd::kernels::internal {
namespace {

// True when `a` ranks below `b`: lower score, or equal score and higher row.
inline bool Worse(const ScoredRow& a, const ScoredRow& b) {
  return a.score < b.score || (a.score == b.score && a.row > b.row);
}

// Restores the heap below `i` (worst entry at the root) for a heap of `n` entries.
void SiftDown(ScoredRow* heap, uint32_t n, uint32_t i) {
  const ScoredRow x = heap[i];
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && Worse(heap[child + 1], heap[child])) ++child;
    if (!Worse(heap[child], x)) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = x;
}

void SiftUp(ScoredRow* heap, uint32_t i) {
  const ScoredRow x = heap[i];
  while (i > 0) {
    const uint32_t parent = (i - 1) / 2;
    if (!Worse(x, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = x;
}

}  // namespace

void TopKInit(TopKState* st, ScoredRow* out, uint32_t k, Exclusions ex) {
  st->heap = out;
  st->k = k;
  st->size = 0;
  st->ex = ex.rows;
  st->ex_end = ex.rows == nullptr ? nullptr : ex.rows + ex.count;
  // k == 0 starts "full" with an unbeatable threshold, so the SIMD loops never offer a row.
  st->full = k == 0;
  st->threshold = k == 0 ? INFINITY : -INFINITY;
}

void TopKOffer(TopKState* st, float score, uint32_t row) {
  // NaN would break the heap order; rank it below every real score instead.
  if (std::isnan(score)) score = -INFINITY;
  // Rows ascend, so an equal score loses to the root (which has the lower row).
  if (st->full && !(score > st->threshold)) return;
  // The exclusion cursor only moves forward: rows ascend, and exclusions are sorted.
  while (st->ex != st->ex_end && *st->ex < row) ++st->ex;
  if (st->ex != st->ex_end && *st->ex == row) return;
  if (!st->full) {
    st->heap[st->size] = ScoredRow{score, row};
    SiftUp(st->heap, st->size);
    ++st->size;
    if (st->size == st->k) {
      st->full = true;
      st->threshold = st->heap[0].score;
    }
    return;
  }
  st->heap[0] = ScoredRow{score, row};
  SiftDown(st->heap, st->size, 0);
  st->threshold = st->heap[0].score;
}

void TopKOfferMask(TopKState* st, const float* scores, uint32_t base_row, uint32_t mask) {
  while (mask != 0) {
    const int i = __builtin_ctz(mask);
    mask &= mask - 1;
    TopKOffer(st, scores[i], base_row + static_cast<uint32_t>(i));
  }
}

size_t TopKFinish(TopKState* st) {
  // Heapsort: repeatedly move the worst entry to the back, leaving the array best-first.
  for (uint32_t n = st->size; n > 1; --n) {
    const ScoredRow worst = st->heap[0];
    st->heap[0] = st->heap[n - 1];
    st->heap[n - 1] = worst;
    SiftDown(st->heap, n - 1, 0);
  }
  return st->size;
}

bool SegmentedInit(SegmentedTopK* seg, uint32_t streams, uint32_t rows, size_t row_bytes,
                   uint32_t block, uint32_t k, Exclusions ex) {
  if (k == 0 || k > kSegmentedMaxK || streams < 2 || streams > kMaxScanStreams) return false;
  if (static_cast<size_t>(rows) * row_bytes < kSegmentedMinBytes) return false;
  const uint32_t len = rows / streams / block * block;
  if (len == 0) return false;
  seg->streams = streams;
  seg->len = len;
  const uint32_t* ex_end = ex.rows == nullptr ? nullptr : ex.rows + ex.count;
  const uint32_t* cursor = ex.rows;
  for (uint32_t s = 0; s < streams; ++s) {
    seg->begin[s] = s * len;
    // Exclusions ascend, so each segment's list starts where the previous one's rows end.
    while (cursor != ex_end && *cursor < seg->begin[s]) ++cursor;
    const Exclusions tail{cursor, static_cast<size_t>(ex_end - cursor)};
    TopKInit(&seg->st[s], seg->heaps[s], k, tail);
  }
  return true;
}

size_t SegmentedFinish(SegmentedTopK* seg, uint32_t k, ScoredRow* out) {
  uint32_t size[kMaxScanStreams];
  uint32_t next[kMaxScanStreams] = {};
  for (uint32_t s = 0; s < seg->streams; ++s) {
    size[s] = static_cast<uint32_t>(TopKFinish(&seg->st[s]));
  }
  size_t n = 0;
  for (; n < k; ++n) {
    int best = -1;
    for (uint32_t s = 0; s < seg->streams; ++s) {
      if (next[s] == size[s]) continue;
      if (best < 0 || Worse(seg->heaps[best][next[best]], seg->heaps[s][next[s]])) {
        best = static_cast<int>(s);
      }
    }
    if (best < 0) break;
    out[n] = seg->heaps[best][next[best]++];
  }
  return n;
}

}  // namespace recd::kernels::internal
