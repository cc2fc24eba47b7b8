// Errors of the PCI model's set-up calls (guest accesses never fail: they
// read all-ones or are dropped, as on real hardware).
#pragma once

#include <cstdint>
#include <string_view>

namespace aerov::model::pci {

enum class PciError : uint8_t {
  kOk = 0,
  kBadBdf,       // device >= 32 or function >= 8
  kOccupied,     // a function is already attached at that address
  kNullFunction, // attach(nullptr)
  kBadBar,       // bad index, size, or overlap with a 64-bit BAR's upper half
  kNoSpace,      // the enumerator's MMIO window cannot hold a BAR
};

constexpr std::string_view to_string(PciError e) {
  switch (e) {
    case PciError::kOk: return "ok";
    case PciError::kBadBdf: return "bad bus/device/function";
    case PciError::kOccupied: return "address occupied";
    case PciError::kNullFunction: return "null function";
    case PciError::kBadBar: return "bad BAR";
    case PciError::kNoSpace: return "MMIO window exhausted";
  }
  return "unknown";
}

}  // namespace aerov::model::pci
