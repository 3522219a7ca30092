// A read-only view of contiguous values (C++17 has no std::span); shared by
// data/ (sequences of a dataset) and models/prompt/ (histories to render), so
// neither needs the other's headers.
//
//   core::Span<int32_t> hist{items.data() + begin, count};
//   for (int32_t item : hist) ...
#pragma once

#include <cstdint>

namespace llmsrec::core {

template <typename T>
struct Span {
  const T* ptr = nullptr;
  int64_t len = 0;
  const T* begin() const { return ptr; }
  const T* end() const { return ptr + len; }
  int64_t size() const { return len; }
  bool empty() const { return len == 0; }
  const T& operator[](int64_t i) const { return ptr[i]; }
  const T& back() const { return ptr[len - 1]; }
};

}  // namespace llmsrec::core
