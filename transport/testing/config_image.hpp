// A device reduced to its config space and BAR resources: a PciAccess over a
// 256-byte image, for exercising the driver's capability parser with any
// layout, well-formed or hostile (conformance suite and fuzz target).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "transport/driver/pci_access.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::transport::testing {

struct ConfigImage final : PciAccess {
  std::array<uint8_t, 256> cfg{};
  std::array<BarInfo, 6> bars{};
  uint32_t reads_past_end = 0;  // a parser must never ask past byte 255

  uint32_t config_read(uint16_t off, uint8_t w) override {
    uint32_t v = 0;
    if (off + w <= 256) {
      std::memcpy(&v, &cfg[off], w);
    } else {
      ++reads_past_end;
    }
    return v;
  }
  void config_write(uint16_t, uint8_t, uint32_t) override {}
  uint32_t mmio_read(uint8_t, uint32_t, uint8_t) override { return 0; }
  void mmio_write(uint8_t, uint32_t, uint8_t, uint32_t) override {}
  bool bar_info(uint8_t bar, BarInfo* out) override {
    if (bar >= 6 || bars[bar].length == 0) return false;
    *out = bars[bar];
    return true;
  }
  void lock() override {}
  void unlock() override {}
  void stall_us(uint32_t) override {}

  void put32(uint32_t off, uint32_t v) { std::memcpy(&cfg[off], &v, 4); }
  // Writes a virtio capability at `at` linking to `next`.
  void cap(uint8_t at, uint8_t next, VirtioCapType type, uint8_t bar, uint32_t offset,
           uint32_t length, uint32_t multiplier = 4) {
    const bool notify = type == VirtioCapType::kNotify;
    cfg[at] = reg::kCapIdVendorSpecific;
    cfg[at + 1] = next;
    cfg[at + 2] = notify ? kVirtioNotifyCapLenMin : kVirtioCapLenMin;
    cfg[at + kVirtioCapCfgType] = static_cast<uint8_t>(type);
    cfg[at + kVirtioCapBar] = bar;
    put32(at + kVirtioCapOffset, offset);
    put32(at + kVirtioCapLength, length);
    if (notify) put32(at + kVirtioCapNotifyMultiplier, multiplier);
  }
};

}  // namespace aerov::transport::testing
