// The simulation scenarios' payload data (blk sectors, net frames): word j
// (8 bytes, little-endian) of a payload is first + j * kWordStep, the last
// word cut where the payload ends. The words of one payload all differ
// (the step is odd), and another payload's, started from an independent
// first word, match only by a 2^-64 chance: a byte moved, lost, left stale
// or taken from another payload shows. Filling and checking cost one add
// per word, and a checker needs only the first word, not a stored copy.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aerov::sim {

inline constexpr uint64_t kWordStep = 0x9E3779B97F4A7C15ull;

// Writes bytes [offset, offset + n) of the payload starting with word
// `first` to out: a payload scattered over pieces is filled piece by piece.
void fill_words(uint8_t* out, size_t n, uint64_t first, size_t offset = 0);

// The index of the first of the n bytes at p that differs from the payload
// starting with word `first`; n if none does.
size_t words_mismatch(const uint8_t* p, size_t n, uint64_t first);

}  // namespace aerov::sim
