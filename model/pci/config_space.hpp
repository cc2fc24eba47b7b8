// 256 bytes of PCI configuration space for one function, with the per-byte
// write masks that make read-only bits read-only.
//
// Guest (bus) writes go through write(): for each byte, bits in the write
// mask take the new value, bits in the RW1C mask are cleared where a 1 is
// written, every other bit keeps its value. The device model itself sets
// contents and masks with the set_* calls, which ignore the masks. BAR
// registers need nothing special: their write masks leave the size bits and
// the type bits read-only, which is exactly the sizing protocol.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "model/pci/config_registers.hpp"

namespace aerov::model::pci {

class ConfigSpace {
 public:
  static constexpr uint16_t kSize = 256;

  // Zeroed, with the masks of a plain type 0 endpoint that has no I/O BARs:
  // Command bits 1, 2, 6, 8, 10 writable (bit 0 hardwired 0), Status error
  // bits RW1C, Cache Line Size and Interrupt Line writable.
  ConfigSpace();

  // Bus accesses must be naturally aligned with width 1, 2 or 4 (which also
  // keeps them inside one DWORD and inside the 256 bytes). Real config
  // mechanisms cannot issue anything else; we answer it like a master abort:
  // reads return all-ones, writes are dropped.
  static bool access_ok(uint16_t offset, unsigned width);
  uint32_t read(uint16_t offset, unsigned width) const;
  void write(uint16_t offset, unsigned width, uint32_t value);

  // Device-side access: unchecked masks, but offsets past the end are
  // ignored (reads give 0) so a device bug cannot corrupt memory.
  uint8_t u8(uint16_t offset) const { return static_cast<uint8_t>(load(offset, 1)); }
  uint16_t u16(uint16_t offset) const { return static_cast<uint16_t>(load(offset, 2)); }
  uint32_t u32(uint16_t offset) const { return load(offset, 4); }
  void set_u8(uint16_t offset, uint8_t value) { store(offset, 1, value); }
  void set_u16(uint16_t offset, uint16_t value) { store(offset, 2, value); }
  void set_u32(uint16_t offset, uint32_t value) { store(offset, 4, value); }
  void set_write_mask(uint16_t offset, unsigned width, uint32_t mask);
  void set_w1c_mask(uint16_t offset, unsigned width, uint32_t mask);

  // Standard header fields.
  void set_ids(uint16_t vendor_id, uint16_t device_id);
  void set_revision_id(uint8_t revision) { set_u8(reg::kRevisionId, revision); }
  void set_class_code(uint8_t base_class, uint8_t sub_class, uint8_t prog_if);
  void set_subsystem_ids(uint16_t subsystem_vendor_id, uint16_t subsystem_id);
  void set_multi_function(bool multi_function);
  void set_interrupt_pin(uint8_t pin) { set_u8(reg::kInterruptPin, pin); }  // 1 = INTA#
  uint16_t vendor_id() const { return u16(reg::kVendorId); }
  uint16_t device_id() const { return u16(reg::kDeviceId); }
  uint16_t command() const { return u16(reg::kCommand); }
  uint16_t status() const { return u16(reg::kStatus); }
  uint8_t header_type() const { return u8(reg::kHeaderType); }

  // Appends a capability {id, next, body...} at the next 4-byte aligned
  // offset from 0x40, links it from the previous one (or from 0x34) and sets
  // Status bit 4. Its bytes start read-only; the device opens the fields it
  // wants writable with set_write_mask. nullopt when it does not fit.
  std::optional<uint8_t> add_capability(uint8_t id, std::span<const uint8_t> body);

  // Changes whenever a byte that decides MMIO decoding may have changed
  // (Command, Header Type, the BAR registers), however it was written: a
  // bus that caches its decoding compares this instead of re-reading them.
  uint64_t decode_epoch() const { return decode_epoch_; }

 private:
  // Inline: the transport reads Command on every BAR access and doorbell.
  uint32_t load(uint32_t offset, unsigned width) const {
    static_assert(std::endian::native == std::endian::little, "config space is little-endian");
    if (width <= 4 && offset + width <= kSize) {  // the common case: one copy
      uint32_t value = 0;
      std::memcpy(&value, bytes_.data() + offset, width);
      return value;
    }
    return load_clipped(offset, width);
  }
  uint32_t load_clipped(uint32_t offset, unsigned width) const;
  void store(uint32_t offset, unsigned width, uint32_t value);

  std::array<uint8_t, kSize> bytes_{};
  std::array<uint8_t, kSize> write_mask_{};
  std::array<uint8_t, kSize> w1c_mask_{};
  uint16_t next_capability_ = reg::kFirstCapability;
  uint8_t last_capability_ = 0;  // 0: the list is empty
  uint64_t decode_epoch_ = 0;
};

}  // namespace aerov::model::pci
