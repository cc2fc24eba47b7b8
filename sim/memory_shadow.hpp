// A copy of the guest RAM a run uses, to see what changed since the last
// look: the recorder turns the changes into mem_write (driver) and
// dma_write (device) events, the replayer into the dma_write events its
// device model produced. Ranges are fixed at construction.
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

  // Copies the ranges now. Throws std::runtime_error if one is not RAM.
  MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges);

  // Calls `change` for every run of bytes that differ from the copy, in
  // address order, and takes them into the copy.
  void sync(const Change& change);
  // Writes `bytes` to guest memory and to the copy (a replayed mem_write).
  void apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes);
  // FNV-1a over the copy (equal to memory right after sync()).
  uint64_t hash() const;
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  const model::GuestMemory& memory_;
  std::vector<Range> ranges_;
  std::vector<std::vector<uint8_t>> copies_;
};

}  // namespace aerov::sim
