#include "model/memory/copy_bytes.hpp"

#include <cstring>

namespace aerov::model {

namespace {

// Called through a pointer the compiler cannot see through: GCC expands a
// memcpy whose size it knows to be at most 2 KiB inline as `rep movsq`,
// which has the same problem.
void* (*volatile const g_memcpy)(void*, const void*, size_t) = &std::memcpy;

}  // namespace

void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
  constexpr size_t kPiece = 2048;
  if (n <= kPiece) {  // most copies: one call, no loop
    if (n != 0) g_memcpy(dst, src, n);
    return;
  }
  while (n != 0) {
    const size_t k = n < kPiece ? n : kPiece;
    g_memcpy(dst, src, k);
    dst += k;
    src += k;
    n -= k;
  }
}

}  // namespace aerov::model
