#include "transport/driver/virtio_pci_caps.hpp"

#include "transport/virtio_pci_regs.hpp"

namespace aerov::transport {

const char* to_string(CapError e) {
  switch (e) {
    case CapError::kNone: return "none";
    case CapError::kNoCapabilityList: return "no capability list";
    case CapError::kPointerMisaligned: return "capability pointer not 4-byte aligned";
    case CapError::kPointerOutOfRange: return "capability pointer inside the standard header";
    case CapError::kLoop: return "capability list loops";
    case CapError::kCapTooShort: return "virtio capability too short";
    case CapError::kBadBar: return "capability names an unusable BAR";
    case CapError::kRegionOutsideBar: return "capability region outside its BAR";
    case CapError::kRegionTooSmall: return "capability region smaller than its structure";
    case CapError::kMissingCommon: return "no common configuration capability";
    case CapError::kMissingNotify: return "no notify capability";
    case CapError::kMissingIsr: return "no ISR capability";
    case CapError::kMissingDevice: return "no device configuration capability";
    case CapError::kStrictLayout: return "strict mode: BAR0 layout differs from the contract";
    case CapError::kStrictMultiplier: return "strict mode: notify_off_multiplier is not 4";
    case CapError::kStrictBar: return "strict mode: BAR0 is not a 64-bit 16 KiB memory BAR";
  }
  return "unknown";
}

namespace {

// 256 bytes of config space hold at most 48 capabilities past the header.
constexpr uint32_t kMaxCaps = (256 - 0x40) / 4;

struct Found {
  bool present;
  CapRegion region;
};

uint8_t cfg8(PciAccess& pci, uint32_t off) {
  return static_cast<uint8_t>(pci.config_read(static_cast<uint16_t>(off), 1));
}

uint32_t cfg32(PciAccess& pci, uint32_t off) {
  return pci.config_read(static_cast<uint16_t>(off), 4);
}

CapError check_region(PciAccess& pci, const CapRegion& r, uint32_t min_length) {
  BarInfo bar{};
  if (r.bar > 5 || !pci.bar_info(r.bar, &bar) || !bar.memory || bar.length == 0) {
    return CapError::kBadBar;
  }
  if (static_cast<uint64_t>(r.offset) + r.length > bar.length) return CapError::kRegionOutsideBar;
  if (r.length < min_length) return CapError::kRegionTooSmall;
  return CapError::kNone;
}

bool same(const CapRegion& r, uint32_t offset, uint32_t length) {
  return r.bar == 0 && r.offset == offset && r.length == length;
}

CapError check_strict(PciAccess& pci, const VirtioPciCaps& c) {
  BarInfo bar{};
  if (!pci.bar_info(0, &bar) || !bar.memory || !bar.is_64bit || bar.length != bar0::kSize) {
    return CapError::kStrictBar;
  }
  if (!same(c.common, bar0::kCommonOffset, bar0::kCommonLength) ||
      !same(c.notify, bar0::kNotifyOffset, bar0::kNotifyLength) ||
      !same(c.isr, bar0::kIsrOffset, bar0::kIsrLength) ||
      !same(c.device, bar0::kDeviceOffset, bar0::kDeviceLength)) {
    return CapError::kStrictLayout;
  }
  if (c.notify_off_multiplier != bar0::kNotifyOffMultiplier) return CapError::kStrictMultiplier;
  return CapError::kNone;
}

}  // namespace

CapError parse_virtio_caps(PciAccess& pci, ValidationMode mode, VirtioPciCaps* out) {
  if ((pci.config_read(reg::kStatus, 2) & reg::kStatusCapabilitiesList) == 0) {
    return CapError::kNoCapabilityList;
  }
  Found found[4] = {};
  uint32_t multiplier = 0;
  uint64_t visited = 0;  // bit i: a capability at offset 0x40 + 4i was seen
  uint32_t ptr = cfg8(pci, reg::kCapabilitiesPointer);
  if (ptr == 0) return CapError::kNoCapabilityList;
  for (uint32_t n = 0; ptr != 0; ++n) {
    if ((ptr & 3) != 0) return CapError::kPointerMisaligned;
    if (ptr < 0x40) return CapError::kPointerOutOfRange;
    const uint64_t bit = 1ull << ((ptr - 0x40) / 4);
    if ((visited & bit) != 0 || n >= kMaxCaps) return CapError::kLoop;
    visited |= bit;
    const uint8_t id = cfg8(pci, ptr);
    const uint32_t next = cfg8(pci, ptr + 1);
    if (id == reg::kCapIdVendorSpecific) {
      const uint8_t cap_len = cfg8(pci, ptr + 2);
      const uint8_t type = cfg8(pci, ptr + kVirtioCapCfgType);
      const bool notify = type == static_cast<uint8_t>(VirtioCapType::kNotify);
      if (cap_len < (notify ? kVirtioNotifyCapLenMin : kVirtioCapLenMin) || ptr + cap_len > 256) {
        return CapError::kCapTooShort;
      }
      // Only the first capability of each type counts (virtio 1.2 4.1.4);
      // types we do not use (PCI_CFG, shared memory, vendor) are skipped.
      if (type >= 1 && type <= 4 && !found[type - 1].present) {
        found[type - 1].present = true;
        found[type - 1].region = CapRegion{cfg8(pci, ptr + kVirtioCapBar),
                                           cfg32(pci, ptr + kVirtioCapOffset),
                                           cfg32(pci, ptr + kVirtioCapLength)};
        if (notify) multiplier = cfg32(pci, ptr + kVirtioCapNotifyMultiplier);
      }
    }
    ptr = next;
  }
  const CapError missing[4] = {CapError::kMissingCommon, CapError::kMissingNotify,
                               CapError::kMissingIsr, CapError::kMissingDevice};
  // Smallest useful structure of each: common config fields, one 16-bit
  // doorbell, the ISR byte; device config may be empty.
  const uint32_t min_length[4] = {common::kSize, 2, 1, 0};
  for (int t = 0; t < 4; ++t) {
    if (!found[t].present) return missing[t];
    if (const CapError e = check_region(pci, found[t].region, min_length[t]); e != CapError::kNone) {
      return e;
    }
  }
  VirtioPciCaps caps{found[0].region, found[1].region, found[2].region, found[3].region,
                     multiplier};
  if (mode == ValidationMode::kStrict) {
    if (const CapError e = check_strict(pci, caps); e != CapError::kNone) return e;
  }
  *out = caps;
  return CapError::kNone;
}

}  // namespace aerov::transport
