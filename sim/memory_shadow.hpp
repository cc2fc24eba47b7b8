// A copy of the guest RAM a run uses, to see what changed since the last
// look: the recorder turns the changes into mem_write (driver) and
// dma_write (device) events, the replayer into the dma_write events its
// device model produced. Ranges are fixed at construction and split into
// 4 KiB blocks counted from each range's start.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "model/memory/guest_memory.hpp"

namespace aerov::sim {

class MemoryShadow {
 public:
  using Range = std::pair<uint64_t, uint64_t>;  // [gpa, end)
  using Change = std::function<void(uint64_t gpa, std::span<const uint8_t> bytes)>;
  static constexpr size_t kBlock = 4096;

  // Copies the ranges now. Throws std::runtime_error if one is not RAM.
  MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges);

  // Calls `change` for every run of bytes that differ from the copy, in
  // address order, and takes them into the copy. A run never crosses a
  // block edge, and it ends after 16 equal bytes, so random data (where
  // bytes match by chance) still makes few, long runs.
  void sync(const Change& change);
  // The same, looking only at the blocks that overlap `pages` (guest page
  // numbers, sorted; GuestMemory::take_dirty_pages()). Equal to sync() when
  // nothing outside those pages changed.
  void sync_pages(std::span<const uint64_t> pages, const Change& change);
  // Writes `bytes` to guest memory and to the copy (a replayed mem_write),
  // bypassing guest memory's dirty log where the range is in one region.
  void apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes);
  // The state hash (equal to memory right after a sync()): FNV-1a 64 over
  // the blocks' hashes as little-endian u64s, in address order; a block's
  // hash is FNV-1a 64 over its little-endian 64-bit words. Only blocks
  // changed since the last call are hashed again.
  uint64_t hash();
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  struct Copy {
    uint64_t base;
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> block_hash;
    std::vector<uint8_t> stale;  // block_hash needs recomputing
  };
  void sync_block(Copy& c, const uint8_t* live, size_t block, const Change& change);

  const model::GuestMemory& memory_;
  std::vector<Range> ranges_;
  std::vector<Copy> copies_;
};

}  // namespace aerov::sim
