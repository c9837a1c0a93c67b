// A zero-initialised heap array of T whose base is 64-byte aligned, as the compiled format
// and the SIMD kernels want. Move-only; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace recd::model {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Returns an empty buffer (data() == nullptr) if the allocation fails; callers check.
  static AlignedBuffer Allocate(size_t count) {
    AlignedBuffer b;
    if (count == 0) return b;
    const size_t bytes = (count * sizeof(T) + 63) & ~size_t{63};
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) return b;
    std::memset(p, 0, bytes);
    b.data_.reset(static_cast<T*>(p));
    b.size_ = count;
    return b;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace recd::model
