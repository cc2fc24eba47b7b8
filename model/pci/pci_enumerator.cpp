#include "model/pci/pci_enumerator.hpp"

#include <cassert>

namespace aerov::model::pci {

namespace {

constexpr uint64_t k4GiB = 1ull << 32;
constexpr uint16_t kAbsentVendor = 0xFFFF;

uint16_t bar_register(uint8_t index) { return static_cast<uint16_t>(reg::kBar0 + 4 * index); }

// Writes all-ones, reads back the size mask, restores the original value.
uint32_t probe_dword(PciBus& bus, Bdf bdf, uint16_t offset) {
  const uint32_t original = bus.config_read(bdf, offset, 4);
  bus.config_write(bdf, offset, 4, 0xFFFF'FFFFu);
  const uint32_t mask = bus.config_read(bdf, offset, 4);
  bus.config_write(bdf, offset, 4, original);
  return mask;
}

// Sizes every memory BAR; the caller has turned decode off.
std::vector<AssignedBar> size_bars(PciBus& bus, Bdf bdf) {
  std::vector<AssignedBar> bars;
  for (uint8_t index = 0; index < PciFunction::kBarCount; ++index) {
    const uint32_t low = probe_dword(bus, bdf, bar_register(index));
    if (low == 0 || (low & reg::kBarIoSpace)) continue;  // unimplemented or I/O
    AssignedBar bar;
    bar.index = index;
    bar.is_64bit = (low & reg::kBarTypeMask) == reg::kBarType64;
    bar.prefetchable = (low & reg::kBarPrefetchable) != 0;
    // A 32-bit BAR's mask is sign-extended: its upper half is all address.
    uint64_t mask = 0xFFFF'FFFF'0000'0000ull | (low & ~reg::kBarFlagsMask);
    if (bar.is_64bit) {
      if (index + 1 >= PciFunction::kBarCount) break;  // malformed: no upper half
      mask = uint64_t{probe_dword(bus, bdf, bar_register(index + 1))} << 32 |
             (low & ~reg::kBarFlagsMask);
      ++index;
    }
    bar.size = ~mask + 1;
    if (mask == 0 || (bar.size & (bar.size - 1)) != 0) continue;  // not a valid mask
    bars.push_back(bar);
  }
  return bars;
}

class WindowAllocator {
 public:
  explicit WindowAllocator(MmioWindow window) : window_(window), used_(0) {
    // Trim a window that runs past 2^64 so base + used_ never wraps.
    if (window_.size != 0 && window_.size - 1 > ~window_.base) window_.size = ~window_.base;
  }

  // Next naturally aligned free address for `size` bytes, or 0 if none.
  uint64_t allocate(uint64_t size) {
    assert(size != 0 && (size & (size - 1)) == 0);
    if (window_.size == 0) return 0;
    const uint64_t cursor = window_.base + used_;  // used_ <= size: no wrap
    const uint64_t aligned = (cursor + (size - 1)) & ~(size - 1);
    if (aligned < cursor || aligned == 0) return 0;  // wrapped past 2^64
    const uint64_t end_used = aligned - window_.base;
    if (end_used > window_.size || size > window_.size - end_used) return 0;
    used_ = end_used + size;
    return aligned;
  }

 private:
  MmioWindow window_;
  uint64_t used_;
};

EnumeratedFunction configure(PciBus& bus, Bdf bdf, WindowAllocator& low,
                             WindowAllocator& high, bool has_high) {
  EnumeratedFunction found;
  found.bdf = bdf;
  found.vendor_id = static_cast<uint16_t>(bus.config_read(bdf, reg::kVendorId, 2));
  found.device_id = static_cast<uint16_t>(bus.config_read(bdf, reg::kDeviceId, 2));
  found.header_type = static_cast<uint8_t>(bus.config_read(bdf, reg::kHeaderType, 1));
  const auto command = static_cast<uint16_t>(bus.config_read(bdf, reg::kCommand, 2));
  const uint16_t decode_bits = reg::kCommandMemorySpace | reg::kCommandIoSpace;
  // Decode stays off while BARs hold all-ones, so sizing never claims a
  // stray address range.
  bus.config_write(bdf, reg::kCommand, 2, command & static_cast<uint16_t>(~decode_bits));

  found.bars = size_bars(bus, bdf);
  bool all_placed = true;
  for (AssignedBar& bar : found.bars) {
    bar.address = bar.is_64bit && has_high ? high.allocate(bar.size) : low.allocate(bar.size);
    // A 32-bit BAR cannot hold an address at or above 4 GiB.
    if (!bar.is_64bit && bar.address != 0 && bar.address + (bar.size - 1) >= k4GiB) bar.address = 0;
    if (bar.address == 0) {
      all_placed = false;
      continue;
    }
    bus.config_write(bdf, bar_register(bar.index), 4, static_cast<uint32_t>(bar.address));
    if (bar.is_64bit) {
      bus.config_write(bdf, bar_register(bar.index + 1), 4, static_cast<uint32_t>(bar.address >> 32));
    }
  }
  if (all_placed) {
    bus.config_write(bdf, reg::kCommand, 2,
                     command | reg::kCommandMemorySpace | reg::kCommandBusMaster);
    found.enabled = true;
  }
  return found;
}

}  // namespace

Enumeration enumerate(PciBus& bus, const EnumerationConfig& config) {
  Enumeration result;
  WindowAllocator low(config.below_4g);
  WindowAllocator high(config.above_4g);
  const bool has_high = config.above_4g.size != 0;
  // Bounded: 256 buses x 32 devices x 8 functions.
  for (unsigned b = 0; b < 256; ++b) {
    for (uint8_t d = 0; d < Bdf::kDeviceCount; ++d) {
      const auto bus_number = static_cast<uint8_t>(b);
      if (bus.config_read(Bdf{bus_number, d, 0}, reg::kVendorId, 2) == kAbsentVendor) continue;
      const bool multi_function =
          bus.config_read(Bdf{bus_number, d, 0}, reg::kHeaderType, 1) & reg::kHeaderTypeMultiFunction;
      const uint8_t function_count = multi_function ? Bdf::kFunctionCount : 1;
      for (uint8_t f = 0; f < function_count; ++f) {
        const Bdf bdf{bus_number, d, f};
        if (bus.config_read(bdf, reg::kVendorId, 2) == kAbsentVendor) continue;
        result.functions.push_back(configure(bus, bdf, low, high, has_high));
        if (!result.functions.back().enabled) result.status = PciError::kNoSpace;
      }
    }
  }
  return result;
}

}  // namespace aerov::model::pci
