// Finds and validates the virtio-pci vendor capabilities (contract CAP-1 to
// CAP-4). The capability list comes from a device the driver does not
// trust: every pointer is checked before it is followed, the walk is bounded
// and loops are detected, and anything malformed is a CapError, never a
// crash (CAP-3).
#pragma once

#include <stdint.h>

#include "transport/driver/pci_access.hpp"

namespace aerov::transport {

enum class ValidationMode : uint8_t {
  kPermissive,  // any well-formed modern placement (e.g. QEMU's layout)
  kStrict,      // exactly the contract's BAR0 layout (BAR-1, BAR-2, NTF-1)
};

enum class CapError : uint8_t {
  kNone = 0,
  kNoCapabilityList,    // Status bit 4 clear or pointer 0
  kPointerMisaligned,   // a capability pointer not 4-byte aligned
  kPointerOutOfRange,   // a pointer into the standard header (< 0x40)
  kLoop,                // the list revisits a capability
  kCapTooShort,         // cap_len < 16 (notify: < 20), or past config space
  kBadBar,              // names a BAR that is absent, not memory, or > 5
  kRegionOutsideBar,    // offset + length beyond the BAR (or wrapping)
  kRegionTooSmall,      // a structure shorter than its fields
  kMissingCommon,
  kMissingNotify,
  kMissingIsr,
  kMissingDevice,
  kStrictLayout,        // strict mode: placement differs from BAR-2
  kStrictMultiplier,    // strict mode: notify_off_multiplier != 4
  kStrictBar,           // strict mode: BAR0 not a 64-bit memory BAR of 0x4000
};

const char* to_string(CapError e);

struct CapRegion {
  uint8_t bar;
  uint32_t offset;
  uint32_t length;
};

struct VirtioPciCaps {
  CapRegion common;
  CapRegion notify;
  CapRegion isr;
  CapRegion device;
  uint32_t notify_off_multiplier;
};

CapError parse_virtio_caps(PciAccess& pci, ValidationMode mode, VirtioPciCaps* out);

}  // namespace aerov::transport
