#include "model/backends/disk/ram_disk.hpp"

#include <algorithm>
#include <cstring>

namespace aerov::model::backends {

namespace {

// memcpy in pieces below glibc's rep_movsb_threshold (4 KiB with AVX2), so
// glibc copies with its vector loop instead of `rep movsb`. On AMD EPYC
// (Zen) `rep movsb` drops from ~40 GB/s to ~2 GB/s when dst - src modulo
// 4096 is a small positive number, which is what a 4 KiB-aligned chunk and
// a guest buffer 8 bytes into a cache line (DMA-1) produce; measured by
// bench/blk_stack_bench.cpp (bench/README.md). The vector loop runs at full
// speed for any alignment, and the extra calls cost ~1 ns per 2 KiB.
// Called through a pointer the compiler cannot see through: GCC expands a
// memcpy whose size it knows to be at most 2 KiB inline as `rep movsq`,
// which has the same problem.
void* (*volatile const g_memcpy)(void*, const void*, size_t) = &std::memcpy;

void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
  constexpr size_t kPiece = 2048;
  while (n != 0) {
    const size_t k = n < kPiece ? n : kPiece;
    g_memcpy(dst, src, k);
    dst += k;
    src += k;
    n -= k;
  }
}

}  // namespace

RamDisk::RamDisk(uint64_t sectors) : sectors_(std::min(sectors, kMaxSectors)) {}

DiskStatus RamDisk::read(uint64_t sector, std::span<const DiskBuffer> buffers) {
  uint64_t pos = sector * kSectorSize;  // cannot overflow: sector < kMaxSectors
  for (const DiskBuffer& b : buffers) {
    size_t done = 0;
    while (done < b.len) {
      const uint64_t within = pos % kChunkBytes;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(b.len - done, kChunkBytes - within));
      const auto it = chunks_.find(pos / kChunkBytes);
      if (it == chunks_.end()) {
        std::memset(b.data + done, 0, n);
      } else {
        copy_bytes(b.data + done, it->second.get() + within, n);
      }
      done += n;
      pos += n;
    }
  }
  return DiskStatus::kOk;
}

DiskStatus RamDisk::write(uint64_t sector, std::span<const DiskBuffer> buffers) {
  uint64_t pos = sector * kSectorSize;
  for (const DiskBuffer& b : buffers) {
    size_t done = 0;
    while (done < b.len) {
      const uint64_t within = pos % kChunkBytes;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(b.len - done, kChunkBytes - within));
      auto& chunk = chunks_[pos / kChunkBytes];
      if (!chunk) chunk = std::make_unique<uint8_t[]>(kChunkBytes);  // zeroed
      copy_bytes(chunk.get() + within, b.data + done, n);
      done += n;
      pos += n;
    }
  }
  return DiskStatus::kOk;
}

DiskStatus RamDisk::flush() {
  ++flushes_;
  return DiskStatus::kOk;
}

}  // namespace aerov::model::backends
