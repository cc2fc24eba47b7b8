// A PCI function address: bus, device (0..31), function (0..7).
#pragma once

#include <compare>
#include <cstdint>

namespace aerov::model::pci {

struct Bdf {
  static constexpr uint8_t kDeviceCount = 32;
  static constexpr uint8_t kFunctionCount = 8;

  uint8_t bus = 0;
  uint8_t device = 0;
  uint8_t function = 0;

  constexpr bool valid() const { return device < kDeviceCount && function < kFunctionCount; }
  // bus:8 device:5 function:3, the order an enumerator scans in.
  constexpr uint16_t key() const {
    return static_cast<uint16_t>(bus << 8 | (device & 0x1F) << 3 | (function & 0x7));
  }
  static constexpr Bdf from_key(uint16_t key) {
    return Bdf{static_cast<uint8_t>(key >> 8), static_cast<uint8_t>(key >> 3 & 0x1F),
               static_cast<uint8_t>(key & 0x7)};
  }
  friend constexpr auto operator<=>(const Bdf&, const Bdf&) = default;
};

}  // namespace aerov::model::pci
