#include "sim/memory_shadow.hpp"

#include <cstring>
#include <stdexcept>

#include "traces/trace_event.hpp"

namespace aerov::sim {

MemoryShadow::MemoryShadow(const model::GuestMemory& memory, std::vector<Range> ranges)
    : memory_(memory), ranges_(std::move(ranges)) {
  for (const auto& [gpa, end] : ranges_) {
    const uint8_t* p = memory_.translate(gpa, end - gpa);
    if (p == nullptr) throw std::runtime_error("memory shadow: range is not guest RAM");
    copies_.emplace_back(p, p + (end - gpa));
  }
}

void MemoryShadow::sync(const Change& change) {
  constexpr size_t kBlock = 4096;
  for (size_t r = 0; r < ranges_.size(); ++r) {
    const uint64_t base = ranges_[r].first;
    std::vector<uint8_t>& copy = copies_[r];
    const uint8_t* live = memory_.translate(base, copy.size());
    for (size_t at = 0; at < copy.size(); at += kBlock) {
      const size_t n = std::min(kBlock, copy.size() - at);
      if (std::memcmp(live + at, copy.data() + at, n) == 0) continue;
      // Runs of differing bytes inside the block (a run may end at its edge).
      size_t i = at;
      while (i < at + n) {
        if (live[i] == copy[i]) {
          ++i;
          continue;
        }
        // A run ends after kGap equal bytes, so random data (where bytes
        // match by chance) still makes few, long runs.
        constexpr size_t kGap = 16;
        size_t j = i;
        size_t same = 0;
        for (size_t k = i; k < at + n && same < kGap; ++k) {
          if (live[k] != copy[k]) {
            j = k + 1;
            same = 0;
          } else {
            ++same;
          }
        }
        std::memcpy(copy.data() + i, live + i, j - i);
        change(base + i, std::span<const uint8_t>(live + i, j - i));
        i = j;
      }
    }
  }
}

void MemoryShadow::apply(model::GuestMemory& memory, uint64_t gpa, std::span<const uint8_t> bytes) {
  memory.write(gpa, bytes.data(), bytes.size());
  for (size_t r = 0; r < ranges_.size(); ++r) {
    const auto [lo, hi] = ranges_[r];
    for (size_t i = 0; i < bytes.size(); ++i) {
      const uint64_t a = gpa + i;
      if (a >= lo && a < hi) copies_[r][a - lo] = bytes[i];
    }
  }
}

uint64_t MemoryShadow::hash() const {
  uint64_t h = traces::kFnvOffset;
  for (const auto& c : copies_) h = traces::fnv1a64(c, h);
  return h;
}

}  // namespace aerov::sim
