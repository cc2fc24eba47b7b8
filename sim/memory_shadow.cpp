#include "sim/memory_shadow.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "traces/trace_event.hpp"

namespace aerov::sim {

MemoryShadow::MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges)
    : memory_(memory), ranges_(std::move(ranges)) {
  for (const auto& [gpa, end] : ranges_) {
    const uint8_t* p = memory_.translate(gpa, end - gpa);
    if (p == nullptr) throw std::runtime_error("memory shadow: range is not guest RAM");
    const size_t blocks = (end - gpa + kBlock - 1) / kBlock;
    copies_.push_back(Copy{gpa, std::vector<uint8_t>(p, p + (end - gpa)),
                           std::vector<uint64_t>(blocks), std::vector<uint8_t>(blocks, 1)});
  }
}

namespace {

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// True when some byte of v is zero (the classic bit trick).
bool has_zero_byte(uint64_t v) {
  return ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull) != 0;
}

// A block's hash: FNV-1a 64 taken over 64-bit words instead of bytes
// (8 times fewer multiplies), each word read little-endian; a last partial
// word is zero-padded.
uint64_t block_hash(const uint8_t* p, size_t n) {
  uint64_t h = traces::kFnvOffset;
  size_t i = 0;
  static_assert(std::endian::native == std::endian::little, "words are read little-endian");
  for (; i + 8 <= n; i += 8) h = (h ^ load64(p + i)) * 0x100000001b3ull;
  if (i < n) {
    uint64_t w = 0;
    for (size_t b = n; b-- > i;) w = (w << 8) | p[b];
    h = (h ^ w) * 0x100000001b3ull;
  }
  return h;
}

bool all_zero(const uint8_t* p, size_t n) {
  size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    uint64_t any = 0;
    for (size_t k = 0; k < 256; k += 8) any |= load64(p + i + k);
    if (any != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Most of a run's RAM stays zero: those blocks share one hash, and telling
// a zero block is far cheaper than hashing it.
uint64_t hash_of_block(const uint8_t* p, size_t n) {
  static const uint64_t zero_block = [] {
    static const uint8_t zeros[MemoryShadow::kBlock] = {};
    return block_hash(zeros, MemoryShadow::kBlock);
  }();
  if (n == MemoryShadow::kBlock && all_zero(p, n)) return zero_block;
  return block_hash(p, n);
}

// The first index in [i, end) where a and b differ, or `end`.
size_t first_difference(const uint8_t* a, const uint8_t* b, size_t i, size_t end) {
#if defined(__SSE2__)
  for (; i + 64 <= end; i += 64) {
    const auto eq = [&](size_t k) {
      return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + k)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + k)));
    };
    const __m128i all = _mm_and_si128(_mm_and_si128(eq(0), eq(16)), _mm_and_si128(eq(32), eq(48)));
    if (_mm_movemask_epi8(all) != 0xffff) break;
  }
  for (; i + 16 <= end; i += 16) {
    const unsigned same = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)))));
    if (same != 0xffff) return i + static_cast<size_t>(std::countr_one(same));
  }
#endif
  for (; i + 8 <= end; i += 8) {
    if (const uint64_t x = load64(a + i) ^ load64(b + i); x != 0) {
      return i + static_cast<size_t>(std::countr_zero(x)) / 8;  // little-endian words
    }
  }
  while (i < end && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

void MemoryShadow::sync_block(Copy& c, const uint8_t* live, size_t block, const Change& change) {
  const size_t at = block * kBlock;
  const size_t end = at + std::min(kBlock, c.bytes.size() - at);
  uint8_t* copy = c.bytes.data();
  size_t i = first_difference(live, copy, at, end);
  if (i == end) return;
  c.stale[block] = 1;
  while (i < end) {
    // The run: from i to just after the last differing byte before 16
    // equal bytes in a row (or the block's end). Whole words that differ
    // in every byte, or in none, are stepped over at once.
    constexpr size_t kGap = 16;
    size_t j = i;
    size_t same = 0;
    size_t k = i;
    while (k < end && same < kGap) {
      if (k + 8 <= end) {
        const uint64_t x = load64(live + k) ^ load64(copy + k);
        if (x == 0) {
          same += 8;
          k += 8;
          continue;
        }
        if (!has_zero_byte(x)) {
          same = 0;
          k += 8;
          j = k;
          continue;
        }
      }
      if (live[k] != copy[k]) {
        j = k + 1;
        same = 0;
      } else {
        ++same;
      }
      ++k;
    }
    std::memcpy(copy + i, live + i, j - i);
    change(c.base + i, std::span<const uint8_t>(live + i, j - i));
    i = first_difference(live, copy, j, end);
  }
}

void MemoryShadow::sync(const Change& change) {
  for (Copy& c : copies_) {
    const uint8_t* live = memory_.translate(c.base, c.bytes.size());
    for (size_t b = 0; b < c.stale.size(); ++b) sync_block(c, live, b, change);
  }
}

void MemoryShadow::sync_pages(std::span<const uint64_t> pages, const Change& change) {
  constexpr uint64_t kPage = model::GuestMemory::kPageSize;
  for (Copy& c : copies_) {
    const uint64_t end = c.base + c.bytes.size();
    const uint8_t* live = memory_.translate(c.base, c.bytes.size());
    size_t next = 0;  // first block not yet looked at: keeps address order, no repeats
    for (const uint64_t page : pages) {
      const uint64_t lo = std::max(page * kPage, c.base);
      const uint64_t hi = std::min(page * kPage + kPage, end);
      if (lo >= hi) continue;
      const size_t last = static_cast<size_t>((hi - 1 - c.base) / kBlock);
      for (size_t b = std::max(next, static_cast<size_t>((lo - c.base) / kBlock)); b <= last; ++b) {
        sync_block(c, live, b, change);
      }
      next = std::max(next, last + 1);
    }
  }
}

void MemoryShadow::apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes) {
  // Through the host pointer, so the dirty log keeps naming only what the
  // device wrote: memory and copy agree here.
  if (uint8_t* p = memory.translate(gpa, bytes.size()); p != nullptr) {
    std::memcpy(p, bytes.data(), bytes.size());
  } else {
    memory.write(gpa, bytes.data(), bytes.size());
  }
  const uint64_t end = gpa + bytes.size();
  for (Copy& c : copies_) {
    const uint64_t lo = std::max(gpa, c.base);
    const uint64_t hi = std::min(end, c.base + c.bytes.size());
    if (lo >= hi) continue;
    std::memcpy(c.bytes.data() + (lo - c.base), bytes.data() + (lo - gpa), hi - lo);
    for (uint64_t b = (lo - c.base) / kBlock; b <= (hi - 1 - c.base) / kBlock; ++b) c.stale[b] = 1;
  }
}

uint64_t MemoryShadow::hash() {
  uint64_t h = traces::kFnvOffset;
  for (Copy& c : copies_) {
    for (size_t b = 0; b < c.stale.size(); ++b) {
      if (c.stale[b] != 0) {
        const size_t at = b * kBlock;
        const size_t n = std::min(kBlock, c.bytes.size() - at);
        c.block_hash[b] = hash_of_block(c.bytes.data() + at, n);
        c.stale[b] = 0;
      }
      // fnv1a64 over the block hash's 8 little-endian bytes, inline.
      for (int i = 0; i < 8; ++i) {
        h = (h ^ static_cast<uint8_t>(c.block_hash[b] >> (8 * i))) * 0x100000001b3ull;
      }
    }
  }
  return h;
}

}  // namespace aerov::sim
