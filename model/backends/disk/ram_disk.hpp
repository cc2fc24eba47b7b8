// A disk held in process memory, sparse: 64 KiB chunks are allocated on
// first write and unwritten sectors read as zeroes, so a test can use a
// disk of terabytes (to probe ranges near the end) and pay only for what it
// writes.
//
// Durability (BLK-8): none beyond the life of the object. Every write is
// applied before its completion is queued, so a FLUSH trivially completes
// after every earlier completed write and the ordering BLK-8 asks for holds;
// but nothing survives the process, and FLUSH promises no more than that.
// Wrap it in FaultyDisk to model a volatile write cache and power loss.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "model/backends/disk/synchronous_disk.hpp"

namespace aerov::model::backends {

class RamDisk final : public SynchronousDisk {
 public:
  static constexpr uint64_t kChunkBytes = 64 * 1024;

  // sectors is clamped to kMaxSectors.
  explicit RamDisk(uint64_t sectors);

  uint64_t sector_count() const override { return sectors_; }

  uint64_t flushes() const { return flushes_; }
  uint64_t allocated_bytes() const { return chunks_.size() * kChunkBytes; }

 protected:
  DiskStatus read(uint64_t sector, std::span<const DiskBuffer> buffers) override;
  DiskStatus write(uint64_t sector, std::span<const DiskBuffer> buffers) override;
  DiskStatus flush() override;

 private:
  uint64_t sectors_;
  uint64_t flushes_ = 0;
  std::map<uint64_t, std::unique_ptr<uint8_t[]>> chunks_;  // chunk index -> bytes
};

}  // namespace aerov::model::backends
