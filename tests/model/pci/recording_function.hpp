// A PCI function for tests: BAR reads return a value that encodes (bar,
// offset) so routing is visible, and every forwarded write is recorded.
#pragma once

#include <cstdint>
#include <vector>

#include "model/pci/pci_function.hpp"

namespace aerov::model::pci::testing {

struct MmioWrite {
  uint8_t bar;
  uint64_t offset;
  unsigned width;
  uint64_t value;
  friend bool operator==(const MmioWrite&, const MmioWrite&) = default;
};

class RecordingFunction : public PciFunction {
 public:
  RecordingFunction(uint16_t vendor_id, uint16_t device_id) {
    config().set_ids(vendor_id, device_id);
    config().set_class_code(0x02, 0x00, 0x00);
    config().set_interrupt_pin(1);
  }

  // What a read of (bar, offset) returns before width truncation.
  static uint64_t pattern(uint8_t bar, uint64_t offset) {
    return 0xA500'0000'0000'0000ull | uint64_t{bar} << 48 | (offset & 0xFFFF'FFFF'FFFFull);
  }

  std::vector<MmioWrite> writes;
  unsigned reads = 0;

 protected:
  uint64_t on_mmio_read(uint8_t bar, uint64_t offset, unsigned) override {
    ++reads;
    return pattern(bar, offset);
  }
  void on_mmio_write(uint8_t bar, uint64_t offset, unsigned width, uint64_t value) override {
    writes.push_back({bar, offset, width, value});
  }
};

}  // namespace aerov::model::pci::testing
