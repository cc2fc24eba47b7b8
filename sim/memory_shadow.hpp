// A copy of the guest RAM a run uses, to see what changed since the last
// look: the recorder turns the changes into mem_write (driver) and
// dma_write (device) events, the replayer into the dma_write events its
// device model produced. Ranges are fixed at construction and split into
// 4 KiB blocks counted from each range's start.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "model/memory/guest_memory.hpp"

namespace aerov::sim {

class MemoryShadow {
 public:
  using Range = std::pair<uint64_t, uint64_t>;  // [gpa, end)
  using Span = model::GuestMemory::Span;
  using Change = std::function<void(uint64_t gpa, std::span<const uint8_t> bytes)>;
  static constexpr size_t kBlock = 4096;

  // Copies the ranges now. Throws std::runtime_error if one is not RAM.
  MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges);
  // For RAM that add_ram() made (zero) and that nothing wrote since except
  // inside `written` (the dirty log since then): copies only those bytes,
  // so a replay of a small run does not pay for the whole range.
  MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges,
               std::span<const Span> written);

  // Calls `change` for every run of bytes that differ from the copy, in
  // address order, and takes them into the copy. A run never crosses a
  // block edge, and it ends after 16 equal bytes, so random data (where
  // bytes match by chance) still makes few, long runs. `bytes` views the
  // copy: valid, and unchanged, until the next sync, sync_spans or apply.
  void sync(const Change& change);
  // The same, looking only at the bytes in `spans` (the memory's dirty
  // log, any order, overlaps allowed). Equal to sync() when nothing outside
  // those spans changed.
  void sync_spans(std::span<const Span> spans, const Change& change);
  // Writes `bytes` to guest memory and to the copy (a replayed mem_write),
  // bypassing guest memory's dirty log where the range is in one region.
  // `host`: memory.translate(gpa, bytes.size()) when the caller has it.
  void apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes,
             uint8_t* host = nullptr);
  // The state hash (equal to memory right after a sync()): FNV-1a 64 over
  // the blocks' hashes as little-endian u64s, in address order; a block's
  // hash is FNV-1a 64 over its little-endian 64-bit words. Only blocks
  // changed since the last call are hashed again; nothing changed, nothing
  // is. A run of all-zero blocks is folded in a few steps, not 8 per block
  // (see ZeroRunFold in the .cpp).
  uint64_t hash();
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  struct Unmap {
    size_t size;
    void operator()(uint8_t* p) const;
  };
  struct Copy {
    uint64_t base;
    uint64_t size;
    std::unique_ptr<uint8_t, Unmap> bytes;  // fresh mmap: untouched pages cost nothing
    std::vector<uint64_t> block_hash;
    // Bit sets over the blocks (bit b of word b / 64): block_hash needs
    // recomputing; block_hash is not the zero block's. hash() visits only
    // their set bits.
    std::vector<uint64_t> stale;
    std::vector<uint64_t> nonzero;
  };
  void mark_stale(Copy& c, size_t block) {
    c.stale[block / 64] |= uint64_t{1} << (block % 64);
    changed_ = true;
  }
  // Syncs [lo, hi) of one block of `c` (offsets from c.base).
  void sync_range(Copy& c, const uint8_t* live, size_t lo, size_t hi, const Change& change);

  const model::GuestMemory& memory_;
  std::vector<Range> ranges_;
  std::vector<Copy> copies_;
  std::vector<Range> pieces_;  // sync_spans' scratch: [lo, hi) offsets in one copy
  struct Pending {
    const uint8_t* bytes;
    size_t copy;
    size_t block;
  };
  std::vector<Pending> pending_;  // hash()'s scratch: changed blocks to hash
  uint64_t hash_ = 0;     // the last hash()
  bool changed_ = true;   // some block is stale since then
};

}  // namespace aerov::sim
