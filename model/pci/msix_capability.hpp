// The MSI-X capability structure in config space (PCI Local Bus 3.0 section
// 6.8.2): {id 0x11, next, u16 Message Control, u32 Table Offset/BIR,
// u32 PBA Offset/BIR}. Only the layout lives here; the state behind it is
// model/irq/msix_state.hpp. A function wires the two in its config-write
// hook: when a write touches Message Control, pass the new register value to
// MsixState::write_message_control.
#pragma once

#include <cstdint>
#include <optional>

#include "model/pci/config_space.hpp"

namespace aerov::model::pci {

struct MsixCapabilityLayout {
  uint16_t vector_count = 1;   // 1..2048
  uint8_t table_bar = 0;       // BIR
  uint32_t table_offset = 0;   // 8-byte aligned, inside table_bar
  uint8_t pba_bar = 0;
  uint32_t pba_offset = 0;     // 8-byte aligned, inside pba_bar
};

// Offsets inside the capability.
inline constexpr uint16_t kMsixMessageControl = 2;
inline constexpr uint16_t kMsixTableOffsetBir = 4;
inline constexpr uint16_t kMsixPbaOffsetBir = 8;

// Appends the capability with Message Control bits 15:14 writable and
// everything else read-only. nullopt on a malformed layout or no room.
std::optional<uint8_t> add_msix_capability(ConfigSpace& config, const MsixCapabilityLayout& layout);

// True when config access [offset, offset + width) overlaps the Message
// Control register of the capability at `capability`.
constexpr bool touches_msix_control(uint8_t capability, uint16_t offset, unsigned width) {
  const unsigned start = capability + kMsixMessageControl;
  return offset < start + 2 && start < offset + width;
}

}  // namespace aerov::model::pci
