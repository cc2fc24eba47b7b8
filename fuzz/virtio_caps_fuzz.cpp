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

#include "fuzz/fuzz_check.hpp"
#include "transport/driver/virtio_pci_caps.hpp"
#include "transport/testing/config_image.hpp"

namespace {

using namespace aerov::transport;

using testing::ConfigImage;

void check_region(ConfigImage& pci, const CapRegion& r, uint32_t min_length) {
  BarInfo bar{};
  FUZZ_CHECK(pci.bar_info(r.bar, &bar) && bar.memory);
  FUZZ_CHECK(uint64_t{r.offset} + r.length <= bar.length);
  FUZZ_CHECK(r.length >= min_length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t input[256 + 6 * 9] = {};
  std::memcpy(input, data, size < sizeof input ? size : sizeof input);
  ConfigImage pci;
  std::memcpy(pci.cfg.data(), input, 256);
  for (int b = 0; b < 6; ++b) {
    const uint8_t* p = input + 256 + 9 * b;
    std::memcpy(&pci.bars[b].length, p, 8);
    pci.bars[b].memory = (p[8] & 1) != 0;
    pci.bars[b].is_64bit = (p[8] & 2) != 0;
  }
  VirtioPciCaps permissive{}, strict{};
  const CapError ep = parse_virtio_caps(pci, ValidationMode::kPermissive, &permissive);
  const CapError es = parse_virtio_caps(pci, ValidationMode::kStrict, &strict);
  FUZZ_CHECK(pci.reads_past_end == 0);  // the walk stays inside config space
  if (ep == CapError::kNone) {
    check_region(pci, permissive.common, 56);
    check_region(pci, permissive.notify, 2);
    check_region(pci, permissive.isr, 1);
    check_region(pci, permissive.device, 0);
  }
  // Strict is permissive plus layout checks: it can only be stricter.
  FUZZ_CHECK(es == CapError::kNone ? ep == CapError::kNone : true);
  if (es == CapError::kNone) {
    FUZZ_CHECK(std::memcmp(&strict, &permissive, sizeof strict) == 0);
    FUZZ_CHECK(strict.common.offset == 0 && strict.notify.offset == 0x1000 &&
              strict.isr.offset == 0x2000 && strict.device.offset == 0x3000 &&
              strict.notify_off_multiplier == 4);
  }
  return 0;
}
