#include "sim/payload_words.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace aerov::sim {

static_assert(std::endian::native == std::endian::little, "payload words are stored little-endian");

namespace {

#if defined(__SSE2__)
// Words x..x+3 as two vectors, and the step from one group of four to the
// next: filling and checking 32 bytes per step instead of 8 (the scalar
// loop's dependency on x capped filling at ~10 GB/s).
struct FourWords {
  explicit FourWords(uint64_t x)
      : lo(_mm_set_epi64x(static_cast<long long>(x + kWordStep), static_cast<long long>(x))),
        hi(_mm_add_epi64(lo, _mm_set1_epi64x(static_cast<long long>(2 * kWordStep)))) {}
  void next() {
    const __m128i step = _mm_set1_epi64x(static_cast<long long>(4 * kWordStep));
    lo = _mm_add_epi64(lo, step);
    hi = _mm_add_epi64(hi, step);
  }
  __m128i lo, hi;
};
#endif

}  // namespace

void fill_words(uint8_t* out, size_t n, uint64_t first, size_t offset) {
  if (n == 0) return;  // out may be null (an empty vector's data())
  uint64_t x = first + offset / 8 * kWordStep;
  size_t i = 0;
  if (const size_t skip = offset % 8; skip != 0) {  // the rest of a cut word
    uint8_t word[8];
    std::memcpy(word, &x, 8);
    i = std::min(n, 8 - skip);
    std::memcpy(out, word + skip, i);
    x += kWordStep;
  }
#if defined(__SSE2__)
  if (n - i >= 32) {
    FourWords v(x);
    const size_t start = i;
    for (; n - i >= 32; i += 32, v.next()) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), v.lo);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16), v.hi);
    }
    x += (i - start) / 8 * kWordStep;
  }
#endif
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
#if defined(__SSE2__)
  for (FourWords v(first); w + 4 <= count; w += 4, v.next()) {
    const auto at = [p, w](size_t k) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8 * w + k)); };
    const __m128i d = _mm_or_si128(_mm_xor_si128(at(0), v.lo), _mm_xor_si128(at(16), v.hi));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) != 0xffff) break;
  }
#else
  while (w + 4 <= count && (diff(w) | diff(w + 1) | diff(w + 2) | diff(w + 3)) == 0) w += 4;
#endif
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
