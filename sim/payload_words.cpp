#include "sim/payload_words.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace aerov::sim {

static_assert(std::endian::native == std::endian::little, "payload words are stored little-endian");

void fill_words(uint8_t* out, size_t n, uint64_t first, size_t offset) {
  uint64_t x = first + offset / 8 * kWordStep;
  size_t i = 0;
  if (const size_t skip = offset % 8; skip != 0) {  // the rest of a cut word
    uint8_t word[8];
    std::memcpy(word, &x, 8);
    i = std::min(n, 8 - skip);
    std::memcpy(out, word + skip, i);
    x += kWordStep;
  }
  for (; n - i >= 8; i += 8, x += kWordStep) std::memcpy(out + i, &x, 8);
  std::memcpy(out + i, &x, n - i);
}

size_t words_mismatch(const uint8_t* p, size_t n, uint64_t first) {
  const size_t count = n / 8;  // whole words
  const auto diff = [&](size_t w) {
    uint64_t got;
    std::memcpy(&got, p + 8 * w, 8);
    return got ^ (first + w * kWordStep);
  };
  size_t w = 0;
  // Four words per branch; the exact byte is looked for only on a mismatch.
  while (w + 4 <= count && (diff(w) | diff(w + 1) | diff(w + 2) | diff(w + 3)) == 0) w += 4;
  for (; w < count; ++w) {
    if (const uint64_t d = diff(w); d != 0) return 8 * w + static_cast<size_t>(std::countr_zero(d)) / 8;
  }
  const uint64_t x = first + w * kWordStep;
  for (size_t i = 8 * w, b = 0; i < n; ++i, ++b) {
    if (p[i] != static_cast<uint8_t>(x >> (8 * b))) return i;
  }
  return n;
}

}  // namespace aerov::sim
