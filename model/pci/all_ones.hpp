// What a master-aborted (unclaimed) read returns on PC hardware.
#pragma once

#include <cstdint>

namespace aerov::model::pci {

// All-ones in the low `width` bytes (width >= 8 gives all 64 bits).
constexpr uint64_t all_ones(unsigned width) {
  return width >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
}

}  // namespace aerov::model::pci
