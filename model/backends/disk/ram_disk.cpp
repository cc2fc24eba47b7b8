#include "model/backends/disk/ram_disk.hpp"

#include <algorithm>
#include <cstring>

#include "model/memory/copy_bytes.hpp"

namespace aerov::model::backends {

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
        model::copy_bytes(b.data + done, it->second.get() + within, n);
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
      model::copy_bytes(chunk.get() + within, b.data + done, n);
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
