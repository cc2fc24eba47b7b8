// The PCI segment the CPU sees: config space by bus/device/function and MMIO
// routed to whichever function's BAR decodes an address. Flat: any bus
// number may hold functions, no bridges are modelled.
//
// Deterministic answers to the edge cases:
// - Absent or hidden functions read all-ones (vendor 0xFFFF); writes drop.
// - Functions 1..7 of a device are visible only while function 0 is present
//   and has the multi-function bit (header type bit 7). Hiding them at the
//   bus makes every scanner, not just ours, see what a real enumerator sees.
// - Config accesses must be naturally aligned, width 1/2/4 (hence never
//   straddle a DWORD or run past byte 255); others read all-ones, writes drop.
// - MMIO is claimed only when every byte of the access lies in one enabled
//   BAR. Unclaimed reads, including accesses that straddle a BAR's edge,
//   return all-ones (a master abort on a PC); unclaimed writes are dropped.
// - If misprogrammed BARs overlap, the first function in BDF order and then
//   the lowest BAR index wins.
//
// Decoding walks a table of the enabled BAR windows, rebuilt only when a
// function is attached or a config byte that decides decoding changed
// (ConfigSpace::decode_epoch). Like the rest of the bus, not thread-safe.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "model/pci/bdf.hpp"
#include "model/pci/pci_error.hpp"
#include "model/pci/pci_function.hpp"

namespace aerov::model::pci {

struct MmioTarget {
  Bdf bdf;
  PciFunction* function = nullptr;
  uint8_t bar = 0;
  uint64_t offset = 0;  // from the BAR's base
};

class PciBus {
 public:
  // Non-owning: the machine owns its devices and outlives the bus's use.
  PciError attach(Bdf bdf, PciFunction* function);

  // The function at bdf if it is visible to software, else nullptr.
  PciFunction* find(Bdf bdf) const;

  // Inline: an enumerator probes all 8192 bus:device slots, and most
  // answer from devices_ alone.
  uint32_t config_read(Bdf bdf, uint16_t offset, unsigned width) const {
    if (!bdf.valid() || !devices_[bdf.key() / Bdf::kFunctionCount]) {
      return static_cast<uint32_t>(all_ones(width));
    }
    return present_config_read(bdf, offset, width);
  }
  void config_write(Bdf bdf, uint16_t offset, unsigned width, uint32_t value);

  std::optional<MmioTarget> decode(uint64_t address, unsigned width) const;
  uint64_t mmio_read(uint64_t address, unsigned width);
  // Returns whether a function claimed the write.
  bool mmio_write(uint64_t address, unsigned width, uint64_t value);

 private:
  struct Window {
    uint64_t base = 0;
    uint64_t size = 0;
    MmioTarget target;  // offset unused
  };
  uint32_t present_config_read(Bdf bdf, uint16_t offset, unsigned width) const;
  uint64_t decode_epoch() const;
  void rebuild_windows() const;

  // (Bdf::key(), function), sorted by key: scan order. A vector, as every
  // MMIO access walks it for decode_epoch().
  std::vector<std::pair<uint16_t, PciFunction*>> functions_;
  // Bit (Bdf::key() >> 3) set: that bus:device has a function attached.
  std::bitset<(1u << 16) / Bdf::kFunctionCount> devices_;
  // Enabled BARs of visible functions in decode order, valid while
  // decode_epoch() equals windows_epoch_.
  mutable std::vector<Window> windows_;
  mutable uint64_t windows_epoch_ = ~uint64_t{0};
};

}  // namespace aerov::model::pci
