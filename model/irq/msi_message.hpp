// One MSI/MSI-X message as the CPU side receives it: a DWORD write of `data`
// to `address`. The interrupt controller model decodes the address; devices
// never do.
#pragma once

#include <cstdint>
#include <functional>

namespace aerov::model::irq {

struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
  friend bool operator==(const MsiMessage&, const MsiMessage&) = default;
};

// The CPU-side receiver of message writes.
using MsiSink = std::function<void(const MsiMessage&)>;

}  // namespace aerov::model::irq
