// A minimal firmware/OS-style PCI enumerator, for tests and for the host-side
// OS services that stand in for Windows' PnP manager. It sees the bus only
// through config reads and writes, like real software.
//
// It scans every bus in BDF order (functions 1..7 only when function 0 has
// the multi-function bit), sizes each memory BAR with the all-ones protocol
// while decode is off, places BARs in BDF/BAR order at the first naturally
// aligned free address of their window, then turns on Memory Space and Bus
// Master. I/O BARs are skipped: this machine has no I/O space.
#pragma once

#include <cstdint>
#include <vector>

#include "model/pci/bdf.hpp"
#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_error.hpp"

namespace aerov::model::pci {

// Address 0 is never handed out: it stands for "unassigned".
struct MmioWindow {
  uint64_t base = 0;
  uint64_t size = 0;  // 0: no window
};

struct EnumerationConfig {
  MmioWindow below_4g;  // 32-bit BARs always, 64-bit BARs when above_4g is empty
  MmioWindow above_4g;  // 64-bit BARs
};

struct AssignedBar {
  uint8_t index = 0;
  uint64_t address = 0;  // 0 while unassigned
  uint64_t size = 0;
  bool is_64bit = false;
  bool prefetchable = false;
};

struct EnumeratedFunction {
  Bdf bdf;
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint8_t header_type = 0;
  std::vector<AssignedBar> bars;  // ascending index
  // Memory Space and Bus Master were turned on: every BAR got an address.
  bool enabled = false;
};

struct Enumeration {
  // kOk, or kNoSpace when some BAR did not fit (its function stays
  // disabled; the rest are still enumerated).
  PciError status = PciError::kOk;
  std::vector<EnumeratedFunction> functions;  // BDF order
};

Enumeration enumerate(PciBus& bus, const EnumerationConfig& config);

}  // namespace aerov::model::pci
