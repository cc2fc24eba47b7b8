// libFuzzer target: the driver's virtio capability parser (contract CAP-2,
// CAP-3, CAP-4) on arbitrary config spaces. A device is hostile; whatever
// its 256 bytes say, the parser must end (bounded walk), never read outside
// config space, and accept only layouts whose every region lies inside a
// usable BAR.
//
// Input: 256 bytes of config space, then per BAR 0..5 a le64 length and a
// flags byte (bit 0 memory, bit 1 64-bit). Short inputs are zero-padded.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "transport/driver/virtio_pci_caps.hpp"

namespace {

using namespace aerov::transport;

struct FuzzPci final : PciAccess {
  uint8_t cfg[256] = {};
  BarInfo bars[6] = {};
  uint32_t config_read(uint16_t off, uint8_t w) override {
    if (off + w > 256) {  // the parser must never ask past config space
      std::fprintf(stderr, "invariant: config read past 256 bytes (%u+%u)\n", off, w);
      std::abort();
    }
    uint32_t v = 0;
    std::memcpy(&v, cfg + off, w);
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
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant: %s\n", what);
    std::abort();
  }
}

void check_region(FuzzPci& pci, const CapRegion& r, uint32_t min_length) {
  BarInfo bar{};
  check(pci.bar_info(r.bar, &bar) && bar.memory, "accepted region names an unusable BAR");
  check(uint64_t{r.offset} + r.length <= bar.length, "accepted region runs past its BAR");
  check(r.length >= min_length, "accepted region shorter than its structure");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t input[256 + 6 * 9] = {};
  std::memcpy(input, data, size < sizeof input ? size : sizeof input);
  FuzzPci pci;
  std::memcpy(pci.cfg, input, 256);
  for (int b = 0; b < 6; ++b) {
    const uint8_t* p = input + 256 + 9 * b;
    std::memcpy(&pci.bars[b].length, p, 8);
    pci.bars[b].memory = (p[8] & 1) != 0;
    pci.bars[b].is_64bit = (p[8] & 2) != 0;
  }
  VirtioPciCaps permissive{}, strict{};
  const CapError ep = parse_virtio_caps(pci, ValidationMode::kPermissive, &permissive);
  const CapError es = parse_virtio_caps(pci, ValidationMode::kStrict, &strict);
  if (ep == CapError::kNone) {
    check_region(pci, permissive.common, 56);
    check_region(pci, permissive.notify, 2);
    check_region(pci, permissive.isr, 1);
    check_region(pci, permissive.device, 0);
  }
  // Strict is permissive plus layout checks: it can only be stricter.
  check(es == CapError::kNone ? ep == CapError::kNone : true, "strict accepted, permissive refused");
  if (es == CapError::kNone) {
    check(std::memcmp(&strict, &permissive, sizeof strict) == 0, "modes disagree on the layout");
    check(strict.common.offset == 0 && strict.notify.offset == 0x1000 &&
              strict.isr.offset == 0x2000 && strict.device.offset == 0x3000 &&
              strict.notify_off_multiplier == 4,
          "strict accepted a layout other than BAR-2");
  }
  return 0;
}
