// The copy every guest-buffer move goes through (DMA, RAM disk, the
// simulation's guest writes).
//
// memcpy in pieces below glibc's rep_movsb_threshold (4 KiB with AVX2), so
// glibc copies with its vector loop instead of `rep movsb`. On AMD EPYC
// (Zen) with Debian 12's glibc, `rep movsb` falls from ~40-70 GB/s to
// ~2 GB/s when the destination sits a few bytes past the source's alignment
// — what a guest buffer 8 bytes into a cache line (DMA-1) meets; measured
// by Baseline_MemcpyDst8 (bench/README.md). The vector loop runs at full
// speed for any alignment, and the extra calls cost ~1 ns per 2 KiB.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aerov::model {

void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n);

}  // namespace aerov::model
