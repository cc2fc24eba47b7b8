#include "sim/memory_shadow.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "traces/trace_event.hpp"

namespace aerov::sim {

namespace {

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
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

// block_hash of four whole blocks at once: the same values, but four
// independent chains keep the multiplier busy (one chain waits on each
// multiply's latency).
void block_hash_x4(const uint8_t* const p[4], uint64_t out[4]) {
  uint64_t h0 = traces::kFnvOffset, h1 = h0, h2 = h0, h3 = h0;
  for (size_t i = 0; i < MemoryShadow::kBlock; i += 8) {
    h0 = (h0 ^ load64(p[0] + i)) * 0x100000001b3ull;
    h1 = (h1 ^ load64(p[1] + i)) * 0x100000001b3ull;
    h2 = (h2 ^ load64(p[2] + i)) * 0x100000001b3ull;
    h3 = (h3 ^ load64(p[3] + i)) * 0x100000001b3ull;
  }
  out[0] = h0;
  out[1] = h1;
  out[2] = h2;
  out[3] = h3;
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

uint64_t zero_block_hash() {
  static const uint64_t hash = [] {
    static const uint8_t zeros[MemoryShadow::kBlock] = {};
    return block_hash(zeros, MemoryShadow::kBlock);
  }();
  return hash;
}

// Most of a run's RAM stays zero: those blocks share one hash, and telling
// a zero block is far cheaper than hashing it.
uint64_t hash_of_block(const uint8_t* p, size_t n) {
  if (n == MemoryShadow::kBlock && all_zero(p, n)) return zero_block_hash();
  return block_hash(p, n);
}

constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// The state hash's fold of one block hash: fnv1a64 over its 8
// little-endian bytes.
uint64_t fold_block(uint64_t h, uint64_t block) {
  for (int i = 0; i < 8; ++i) h = (h ^ static_cast<uint8_t>(block >> (8 * i))) * kFnvPrime;
  return h;
}

// Folding a run of k zero blocks without 8k dependent multiplies. A byte
// step (h ^ b) * P changes h's low 8 bits by the XOR only, so it equals
// (h + c) * P with c = ((h & 0xff) ^ b) - (h & 0xff), which depends on
// h & 0xff alone; and the low 8 bits of the result depend on those of h
// alone (mod 2^64 arithmetic carries upwards only). So k folds of the same
// block hash map h to h * P^(8k) + S_k[h & 0xff], and the low byte to
// L_k[h & 0xff], for tables S_k and L_k of 256 entries. Composition:
// S_(a+b)[l] = S_a[l] * P^(8b) + S_b[L_a[l]], L_(a+b)[l] = L_b[L_a[l]].
// The tables for k = 2^j are built once; a run of k blocks takes one
// step per set bit of k. Exact: the same value the 8k byte steps give.
struct ZeroRunFold {
  static constexpr int kLevels = 64;
  uint64_t power[kLevels];        // P^(8 * 2^j)
  uint64_t add[kLevels][256];     // S_(2^j)
  uint8_t low[kLevels][256];      // L_(2^j)

  explicit ZeroRunFold(uint64_t block) {
    uint64_t p8 = 1;
    for (int i = 0; i < 8; ++i) p8 *= kFnvPrime;
    power[0] = p8;
    for (unsigned l = 0; l < 256; ++l) {
      const uint64_t h = fold_block(l, block);  // any h with low byte l would do
      add[0][l] = h - l * p8;
      low[0][l] = static_cast<uint8_t>(h);
    }
    for (int j = 1; j < kLevels; ++j) {
      power[j] = power[j - 1] * power[j - 1];
      for (unsigned l = 0; l < 256; ++l) {
        const uint8_t mid = low[j - 1][l];
        add[j][l] = add[j - 1][l] * power[j - 1] + add[j - 1][mid];
        low[j][l] = low[j - 1][mid];
      }
    }
  }

  uint64_t apply(uint64_t h, uint64_t k) const {
    for (int j = 0; k != 0; ++j, k >>= 1) {
      if ((k & 1) != 0) h = h * power[j] + add[j][h & 0xff];
    }
    return h;
  }
};

// Folds k blocks whose hash is the zero block's.
uint64_t fold_zero_blocks(uint64_t h, uint64_t k) {
  if (k < 2) return k == 0 ? h : fold_block(h, zero_block_hash());
  static const auto table = std::make_unique<const ZeroRunFold>(zero_block_hash());
  return table->apply(h, k);
}

// sync(): a run of changed bytes ends after this many equal ones.
constexpr size_t kGap = 16;

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


// Bit t: byte t of a and b differ, for the 64 bytes at a and b.
uint64_t diff64(const uint8_t* a, const uint8_t* b) {
#if defined(__SSE2__)
  const auto eq = [&](size_t k) {
    return static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k))))));
  };
  return ~(eq(0) | eq(16) << 16 | eq(32) << 32 | eq(48) << 48);
#else
  uint64_t d = 0;
  for (size_t t = 0; t < 64; ++t) d |= static_cast<uint64_t>(a[t] != b[t]) << t;
  return d;
#endif
}

// Some aligned 8-byte word of the 64 bytes at a and b is equal. Random
// data (a disk block, a frame) has none, and with SSE2 this tells so
// without building diff64's byte mask and testing it for a zero byte.
bool any_equal_word(const uint8_t* a, const uint8_t* b) {
#if defined(__SSE2__)
  const __m128i ones = _mm_set1_epi32(-1);
  __m128i any = _mm_setzero_si128();
#pragma GCC unroll 4
  for (size_t k = 0; k < 64; k += 16) {
    const __m128i half = _mm_cmpeq_epi32(  // 4-byte halves that are equal
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k))),
        ones);
    any = _mm_or_si128(any, _mm_and_si128(half, _mm_shuffle_epi32(half, _MM_SHUFFLE(2, 3, 0, 1))));
  }
  return _mm_movemask_epi8(any) != 0;
#else
  const uint64_t d = diff64(a, b);
  return ((d - 0x0101010101010101ull) & ~d & 0x8080808080808080ull) != 0;  // a zero byte in d
#endif
}

// The same for n < 64 bytes; bits from n on are 0.
uint64_t diff_short(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t d = 0;
  size_t t = 0;
  for (; t + 8 <= n; t += 8) {
    const uint64_t x = load64(a + t) ^ load64(b + t);
    if (x == 0) continue;
    for (size_t k = 0; k < 8; ++k) d |= static_cast<uint64_t>((x >> (8 * k) & 0xff) != 0) << (t + k);
  }
  for (; t < n; ++t) d |= static_cast<uint64_t>(a[t] != b[t]) << t;
  return d;
}

// Bit p: kGap equal bytes (0 bits of d, a mask of differing bytes) start
// at byte p; with `open_end` the bytes past the mask's 64 count as equal.
uint64_t gap_starts(uint64_t d, bool open_end) {
  uint64_t w = ~d;  // after each step, bit p: 2s equal bytes start at p
#pragma GCC unroll 4  // gcc -O2 kept the loop, in a path taken per short synced range
  for (unsigned s = 1; s < kGap; s *= 2) w &= (w >> s) | (open_end ? ~(~uint64_t{0} >> s) : 0);
  return w;
}

// Where the run of changed bytes that starts at i (a byte that differs)
// ends: just after its last differing byte before kGap equal bytes in a
// row, or before `end` (the bytes from `end` on count as equal). That is
// the first p > i where kGap equal bytes start, with the bytes past `end`
// taken as equal. Looks at 64 bytes at a time: a 64-bit mask of the bytes
// that differ, and in it the starts of kGap set bits of its complement.
// `avail`: how far a and b may be read (end <= avail).
size_t run_end(const uint8_t* a, const uint8_t* b, size_t i, size_t end, size_t avail) {
  static_assert(kGap == 16, "the window test below finds 16 equal bytes");
  size_t q = i + 1;  // no window starts in (i, q)
  while (q < end) {
    const size_t n = end - q;
    const bool tail = n <= 64;  // the mask reaches `end`: what follows counts as equal
    // 16 equal bytes in a row hold 8 aligned ones (relative to q): a window
    // starting at or before 56 needs an equal aligned word.
    if (!tail && !any_equal_word(a + q, b + q)) {
      q += 57;
      continue;
    }
    uint64_t d = (n >= 64 || avail - q >= 64) ? diff64(a + q, b + q) : diff_short(a + q, b + q, n);
    if (n < 64) d &= (uint64_t{1} << n) - 1;
    uint64_t w = gap_starts(d, tail);
    if (!tail) w &= (uint64_t{1} << 49) - 1;  // windows that lie inside the 64 bytes
    if (w != 0) return q + static_cast<size_t>(std::countr_zero(w));
    if (tail) return end;
    q += 49;
  }
  return end;
}

}  // namespace

void MemoryShadow::Unmap::operator()(uint8_t* p) const { munmap(p, size); }

void MemoryShadow::sync_range(Copy& c, const uint8_t* live, size_t lo, size_t end,
                              const Change& change) {
  uint8_t* copy = c.bytes.get();
  if (end - lo <= 64 && c.size - lo >= 64) {
    // A short range (ring entries, small buffers): one 64-byte compare
    // gives every run. Bit t of d: byte lo + t differs (bytes from `end`
    // on count as equal); bit p of w: 16 equal bytes start at lo + p.
    const size_t n = end - lo;
    uint64_t d = diff64(live + lo, copy + lo);
    if (n < 64) d &= (uint64_t{1} << n) - 1;
    if (d == 0) return;
    mark_stale(c, lo / kBlock);
    const uint64_t w = gap_starts(d, true);
    while (d != 0) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(d));
      const uint64_t later = i < 63 ? w & (~uint64_t{0} << (i + 1)) : 0;
      const unsigned j = later != 0 ? static_cast<unsigned>(std::countr_zero(later)) : 64;
      std::memcpy(copy + lo + i, live + lo + i, j - i);
      change(c.base + lo + i, std::span<const uint8_t>(copy + lo + i, j - i));
      d = j < 64 ? d & (~uint64_t{0} << j) : 0;
    }
    return;
  }
  size_t i = first_difference(live, copy, lo, end);
  if (i == end) return;
  mark_stale(c, lo / kBlock);
  while (i < end) {
    const size_t j = run_end(live, copy, i, end, c.size);
    std::memcpy(copy + i, live + i, j - i);
    change(c.base + i, std::span<const uint8_t>(copy + i, j - i));
    i = first_difference(live, copy, j, end);
  }
}

void MemoryShadow::sync(const Change& change) {
  for (Copy& c : copies_) {
    const uint8_t* live = memory_.translate(c.base, c.size);
    for (size_t at = 0; at < c.size; at += kBlock) {
      sync_range(c, live, at, std::min<size_t>(at + kBlock, c.size), change);
    }
  }
}

// Each span is cut at block edges; pieces of one block less than kGap
// apart are joined (the equal bytes between them would join their runs in
// sync() too), so the runs come out exactly as sync() makes them.
void MemoryShadow::sync_spans(std::span<const Span> spans, const Change& change) {
  for (Copy& c : copies_) {
    if (c.size == 0) continue;
    pieces_.clear();
    for (const Span& s : spans) {
      const uint64_t lo = std::max(s.gpa, c.base);
      const uint64_t hi = std::min(s.gpa + std::min(s.len, ~uint64_t{0} - s.gpa), c.base + c.size);
      for (uint64_t at = lo; at < hi;) {
        const uint64_t edge = std::min(hi, c.base + ((at - c.base) / kBlock + 1) * kBlock);
        pieces_.emplace_back(at - c.base, edge - c.base);
        at = edge;
      }
    }
    if (pieces_.empty()) continue;
    if (pieces_.size() > 1) std::sort(pieces_.begin(), pieces_.end());
    const uint8_t* live = memory_.translate(c.base, c.size);
    Range run = pieces_.front();
    for (size_t p = 1; p < pieces_.size(); ++p) {
      const Range& next = pieces_[p];
      if (next.first / kBlock == run.first / kBlock && next.first < run.second + kGap) {
        run.second = std::max(run.second, next.second);
        continue;
      }
      sync_range(c, live, run.first, run.second, change);
      run = next;
    }
    sync_range(c, live, run.first, run.second, change);
  }
}

MemoryShadow::MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges,
                           std::span<const Span> written)
    : memory_(memory), ranges_(std::move(ranges)) {
  static const uint8_t zeros[kBlock] = {};
  for (const auto& [gpa, end] : ranges_) {
    if (end < gpa || memory_.translate(gpa, end - gpa) == nullptr) {
      throw std::runtime_error("memory shadow: range is not guest RAM");
    }
    const uint64_t size = end - gpa;
    const size_t blocks = (size + kBlock - 1) / kBlock;
    // Not calloc: glibc may hand back a reused chunk and zero all of it.
    const size_t mapped = std::max<uint64_t>(size, 1);
    void* bytes = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bytes == MAP_FAILED) throw std::bad_alloc();
    const size_t words = (blocks + 63) / 64;
    Copy c{gpa, size, {static_cast<uint8_t*>(bytes), Unmap{mapped}},
           std::vector<uint64_t>(blocks, hash_of_block(zeros, kBlock)), std::vector<uint64_t>(words, 0),
           std::vector<uint64_t>(words, 0)};
    if (size % kBlock != 0) {
      c.block_hash.back() = block_hash(zeros, size % kBlock);
      if (c.block_hash.back() != zero_block_hash()) c.nonzero.back() |= uint64_t{1} << ((blocks - 1) % 64);
    }
    copies_.push_back(std::move(c));
  }
  for (const Span& w : written) {
    for (Copy& c : copies_) {
      const uint64_t lo = std::max(w.gpa, c.base);
      const uint64_t hi = std::min(w.gpa + w.len, c.base + c.size);
      if (lo >= hi) continue;
      std::memcpy(c.bytes.get() + (lo - c.base), memory_.translate(lo, hi - lo), hi - lo);
      for (uint64_t b = (lo - c.base) / kBlock; b <= (hi - 1 - c.base) / kBlock; ++b) mark_stale(c, b);
    }
  }
}

MemoryShadow::MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges)
    : MemoryShadow(memory, std::move(ranges), {}) {
  for (Copy& c : copies_) {
    std::memcpy(c.bytes.get(), memory_.translate(c.base, c.size), c.size);
    for (size_t b = 0; b < c.block_hash.size(); ++b) mark_stale(c, b);
  }
}

void MemoryShadow::apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes,
                         uint8_t* host) {
  // Through the host pointer, so the dirty log keeps naming only what the
  // device wrote: memory and copy agree here.
  if (uint8_t* p = host != nullptr ? host : memory.translate(gpa, bytes.size()); p != nullptr) {
    std::memcpy(p, bytes.data(), bytes.size());
  } else {
    memory.write(gpa, bytes.data(), bytes.size());
  }
  const uint64_t end = gpa + bytes.size();
  for (Copy& c : copies_) {
    const uint64_t lo = std::max(gpa, c.base);
    const uint64_t hi = std::min(end, c.base + c.size);
    if (lo >= hi) continue;
    std::memcpy(c.bytes.get() + (lo - c.base), bytes.data() + (lo - gpa), hi - lo);
    for (uint64_t b = (lo - c.base) / kBlock; b <= (hi - 1 - c.base) / kBlock; ++b) mark_stale(c, b);
  }
}

uint64_t MemoryShadow::hash() {
  if (!changed_) return hash_;
  const uint64_t zero = zero_block_hash();
  const auto set_hash = [zero](Copy& c, size_t b, uint64_t value) {
    c.block_hash[b] = value;
    const uint64_t bit = uint64_t{1} << (b % 64);
    c.nonzero[b / 64] = value != zero ? c.nonzero[b / 64] | bit : c.nonzero[b / 64] & ~bit;
  };
  // Changed blocks first: the whole ones that are not zero are hashed four
  // at a time, four independent multiply chains instead of one.
  pending_.clear();
  for (size_t ci = 0; ci < copies_.size(); ++ci) {
    Copy& c = copies_[ci];
    for (size_t w = 0; w < c.stale.size(); ++w) {
      for (uint64_t bits = std::exchange(c.stale[w], 0); bits != 0; bits &= bits - 1) {
        const size_t b = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        const size_t at = b * kBlock;
        const size_t n = std::min<size_t>(kBlock, c.size - at);
        if (n == kBlock && !all_zero(c.bytes.get() + at, n)) {
          pending_.push_back({c.bytes.get() + at, ci, b});
        } else {
          set_hash(c, b, hash_of_block(c.bytes.get() + at, n));
        }
      }
    }
  }
  size_t k = 0;
  for (; k + 4 <= pending_.size(); k += 4) {
    const uint8_t* p[4] = {pending_[k].bytes, pending_[k + 1].bytes, pending_[k + 2].bytes,
                           pending_[k + 3].bytes};
    uint64_t out[4];
    block_hash_x4(p, out);
    for (size_t t = 0; t < 4; ++t) set_hash(copies_[pending_[k + t].copy], pending_[k + t].block, out[t]);
  }
  for (; k < pending_.size(); ++k) {
    set_hash(copies_[pending_[k].copy], pending_[k].block, block_hash(pending_[k].bytes, kBlock));
  }

  // The fold, visiting only blocks whose hash is not the zero block's
  // (only the value is folded, so any block with that hash folds as a
  // zero block); the runs between them are folded by fold_zero_blocks.
  uint64_t h = traces::kFnvOffset;
  uint64_t zeros = 0;  // zero blocks not folded yet
  for (const Copy& c : copies_) {
    size_t next = 0;  // first block not counted yet
    for (size_t w = 0; w < c.nonzero.size(); ++w) {
      for (uint64_t bits = c.nonzero[w]; bits != 0; bits &= bits - 1) {
        const size_t b = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        h = fold_block(fold_zero_blocks(h, zeros + (b - next)), c.block_hash[b]);
        zeros = 0;
        next = b + 1;
      }
    }
    zeros += c.block_hash.size() - next;
  }
  hash_ = fold_zero_blocks(h, zeros);
  changed_ = false;
  return hash_;
}

}  // namespace aerov::sim
