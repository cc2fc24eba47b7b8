// Capability lists a driver may meet (contract CAP-1..CAP-4): the contract
// layout, QEMU's multi-BAR layout, and malformed lists from a hostile or
// broken device. Each case edits a config-space image and checks the exact
// CapError from the driver's parser, in strict and permissive mode.
#include <functional>

#include "conformance/suites/suites.hpp"
#include "transport/driver/virtio_pci_caps.hpp"
#include "transport/testing/config_image.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::conformance {
namespace {

using namespace aerov::transport;

using testing::ConfigImage;

// The contract's layout: caps at 0x40, 0x50, 0x64, 0x74 in BAR0.
ConfigImage contract_image() {
  ConfigImage m;
  m.cfg[reg::kStatus] = reg::kStatusCapabilitiesList;
  m.cfg[reg::kCapabilitiesPointer] = 0x40;
  m.bars[0] = BarInfo{bar0::kSize, true, true};
  m.cap(0x40, 0x50, VirtioCapType::kCommon, 0, 0x0000, 0x100);
  m.cap(0x50, 0x64, VirtioCapType::kNotify, 0, 0x1000, 0x100);
  m.cap(0x64, 0x74, VirtioCapType::kIsr, 0, 0x2000, 0x20);
  m.cap(0x74, 0x00, VirtioCapType::kDevice, 0, 0x3000, 0x100);
  return m;
}

// QEMU's modern layout: MSI-X first, virtio structures in BAR4 at 4 KiB
// strides, a PCI_CFG access capability, no BAR0.
ConfigImage qemu_image() {
  ConfigImage m;
  m.cfg[reg::kStatus] = reg::kStatusCapabilitiesList;
  m.cfg[reg::kCapabilitiesPointer] = 0x98;
  m.bars[1] = BarInfo{0x1000, true, false};
  m.bars[4] = BarInfo{0x4000, true, true};
  m.cfg[0x98] = reg::kCapIdMsix;
  m.cfg[0x99] = 0x84;
  m.cap(0x84, 0x70, VirtioCapType::kPci, 0, 0, 0);
  m.cap(0x70, 0x60, VirtioCapType::kNotify, 4, 0x3000, 0x1000, 4);
  m.cap(0x60, 0x50, VirtioCapType::kDevice, 4, 0x2000, 0x1000);
  m.cap(0x50, 0x40, VirtioCapType::kIsr, 4, 0x1000, 0x1000);
  m.cap(0x40, 0x00, VirtioCapType::kCommon, 4, 0x0000, 0x1000);
  return m;
}

struct CapCase {
  const char* name;
  std::function<ConfigImage()> image;
  ValidationMode mode;
  CapError expect;
};

ConfigImage edit(ConfigImage m, const std::function<void(ConfigImage&)>& f) {
  f(m);
  return m;
}

std::vector<CapCase> cases() {
  const auto P = ValidationMode::kPermissive;
  const auto S = ValidationMode::kStrict;
  const auto contract = [](std::function<void(ConfigImage&)> f) {
    return [f] { return edit(contract_image(), f); };
  };
  const auto none = [](ConfigImage&) {};
  return {
      {"contract-layout-strict", contract(none), S, CapError::kNone},
      {"contract-layout-permissive", contract(none), P, CapError::kNone},
      {"qemu-layout-permissive", qemu_image, P, CapError::kNone},
      {"qemu-layout-strict", qemu_image, S, CapError::kStrictBar},
      {"status-capability-bit-clear", contract([](auto& m) { m.cfg[reg::kStatus] = 0; }), P,
       CapError::kNoCapabilityList},
      {"capability-pointer-zero", contract([](auto& m) { m.cfg[reg::kCapabilitiesPointer] = 0; }), P,
       CapError::kNoCapabilityList},
      {"first-pointer-misaligned", contract([](auto& m) { m.cfg[reg::kCapabilitiesPointer] = 0x42; }),
       P, CapError::kPointerMisaligned},
      {"next-pointer-misaligned", contract([](auto& m) { m.cfg[0x51] = 0x65; }), P,
       CapError::kPointerMisaligned},
      {"pointer-into-header", contract([](auto& m) { m.cfg[0x41] = 0x20; }), P,
       CapError::kPointerOutOfRange},
      {"self-loop", contract([](auto& m) { m.cfg[0x51] = 0x50; }), P, CapError::kLoop},
      {"loop-back-to-first", contract([](auto& m) { m.cfg[0x75] = 0x40; }), P, CapError::kLoop},
      {"cap-len-15", contract([](auto& m) { m.cfg[0x42] = 15; }), P, CapError::kCapTooShort},
      {"notify-cap-len-19", contract([](auto& m) { m.cfg[0x52] = 19; }), P,
       CapError::kCapTooShort},
      {"cap-runs-past-config-space",
       contract([](auto& m) {
         m.cfg[0x75] = 0xF8;
         m.cfg[0xF8] = reg::kCapIdVendorSpecific;
         m.cfg[0xFA] = 16;
       }),
       P, CapError::kCapTooShort},
      {"bar-index-6", contract([](auto& m) { m.cfg[0x64 + kVirtioCapBar] = 6; }), P,
       CapError::kBadBar},
      {"bar-absent", contract([](auto& m) { m.cfg[0x64 + kVirtioCapBar] = 2; }), P,
       CapError::kBadBar},
      {"io-bar", contract([](auto& m) { m.bars[0].memory = false; }), P, CapError::kBadBar},
      {"region-past-bar-end",
       contract([](auto& m) { m.put32(0x74 + kVirtioCapOffset, 0x3F80); }), P,
       CapError::kRegionOutsideBar},
      {"region-offset-wraps",
       contract([](auto& m) { m.put32(0x74 + kVirtioCapOffset, 0xFFFFFFF0); }), P,
       CapError::kRegionOutsideBar},
      {"common-shorter-than-its-fields",
       contract([](auto& m) { m.put32(0x40 + kVirtioCapLength, 0x30); }), P,
       CapError::kRegionTooSmall},
      {"missing-common", contract([](auto& m) { m.cfg[reg::kCapabilitiesPointer] = 0x50; }), P,
       CapError::kMissingCommon},
      {"missing-notify", contract([](auto& m) { m.cfg[0x41] = 0x64; }), P,
       CapError::kMissingNotify},
      {"missing-isr", contract([](auto& m) { m.cfg[0x51] = 0x74; }), P, CapError::kMissingIsr},
      {"missing-device", contract([](auto& m) { m.cfg[0x65] = 0; }), P, CapError::kMissingDevice},
      {"strict-device-cfg-moved",
       contract([](auto& m) { m.put32(0x74 + kVirtioCapOffset, 0x2800); }), S,
       CapError::kStrictLayout},
      {"strict-multiplier-2", contract([](auto& m) { m.put32(0x50 + 16, 2); }), S,
       CapError::kStrictMultiplier},
      {"permissive-multiplier-0", contract([](auto& m) { m.put32(0x50 + 16, 0); }), P,
       CapError::kNone},
      {"strict-bar-32-bit", contract([](auto& m) { m.bars[0].is_64bit = false; }), S,
       CapError::kStrictBar},
      {"first-capability-of-a-type-wins",
       contract([](auto& m) {
         m.cfg[0x75] = 0x90;
         m.cap(0x90, 0, VirtioCapType::kCommon, 5, 0, 0x100);  // unusable duplicate
       }),
       S, CapError::kNone},
      {"unknown-cfg-type-skipped",
       contract([](auto& m) {
         m.cfg[0x75] = 0x90;
         m.cap(0x90, 0, static_cast<VirtioCapType>(8), 9, 0, 0);
       }),
       S, CapError::kNone},
  };
}

Outcome run_case(const CapCase& c) {
  Outcome out;
  ConfigImage m = c.image();
  VirtioPciCaps caps{};
  const CapError e = parse_virtio_caps(m, c.mode, &caps);
  out.expect(e == c.expect, std::string("expected '") + to_string(c.expect) + "', got '" +
                                to_string(e) + "'");
  return out;
}

}  // namespace

std::vector<Check> transport_capability_checks() {
  std::vector<Check> checks;
  for (const CapCase& c : cases()) {
    checks.push_back({std::string("transport.capabilities.") + c.name, {"CAP-2", "CAP-3", "CAP-4"},
                      [c] { return run_case(c); }});
  }
  return checks;
}

}  // namespace aerov::conformance
