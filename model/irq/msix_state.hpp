// MSI-X capability state of one function (PCI Local Bus 3.0 section 6.8.2;
// contract IRQ-4): the vector table, the Pending Bit Array and the two
// writable Message Control bits.
//
// The owner maps the table and PBA into one of its BARs and forwards accesses
// with offsets relative to each structure, and forwards config writes of the
// Message Control register (see model/pci/msix_capability.hpp). Everything a
// guest can reach is bounds-checked: bad offsets and widths read 0 and drop
// writes, out-of-range vectors are dropped.
#pragma once

#include <cstdint>
#include <vector>

#include "model/irq/msi_message.hpp"

namespace aerov::model::irq {

enum class MsixOutcome : uint8_t {
  kDelivered = 0,  // the message went to the sink
  kLatched,        // masked, disabled or unprogrammed: the PBA bit is set
  kDropped,        // kNoVector or a vector beyond the table
};

class MsixState {
 public:
  static constexpr uint16_t kMaxVectors = 2048;  // 11-bit Table Size field
  static constexpr uint16_t kNoVector = 0xFFFF;  // virtio VIRTIO_MSI_NO_VECTOR
  static constexpr uint32_t kEntryBytes = 16;

  // Message Control register (capability bytes 2..3).
  static constexpr uint16_t kControlTableSizeMask = 0x07FF;  // N - 1, read-only
  static constexpr uint16_t kControlFunctionMask = 1u << 14;
  static constexpr uint16_t kControlEnable = 1u << 15;

  // DWORD offsets inside one table entry.
  static constexpr uint32_t kEntryAddressLo = 0x0;
  static constexpr uint32_t kEntryAddressHi = 0x4;
  static constexpr uint32_t kEntryData = 0x8;
  static constexpr uint32_t kEntryVectorControl = 0xC;
  static constexpr uint32_t kVectorControlMaskBit = 1u << 0;

  // vector_count is clamped to 1..kMaxVectors, the range the Table Size field
  // can express; a constructor has no other way to report a bad count.
  explicit MsixState(uint16_t vector_count, MsiSink sink = {});

  void set_sink(MsiSink sink) { sink_ = std::move(sink); }

  uint16_t vector_count() const { return static_cast<uint16_t>(entries_.size()); }
  uint32_t table_bytes() const { return vector_count() * kEntryBytes; }
  // The PBA is whole QWORDs, one bit per vector.
  uint32_t pba_bytes() const { return static_cast<uint32_t>(pba_.size() * 8); }

  // Back to the power-on state: disabled, not function-masked, every entry
  // masked with zero address and data, nothing pending.
  void reset();

  uint16_t message_control() const;
  // Only Enable and Function Mask are writable. Turning either on the
  // deliverable side delivers latched messages.
  void write_message_control(uint16_t value);
  bool enabled() const { return enabled_; }
  bool function_masked() const { return function_masked_; }

  // Aligned 4-byte or 8-byte accesses only: the spec leaves anything else
  // undefined; here it reads 0 and writes are dropped. An 8-byte access covers
  // two DWORDs, low first (address lo+hi, or data + vector control).
  uint64_t table_read(uint64_t offset, unsigned width) const;
  void table_write(uint64_t offset, unsigned width, uint64_t value);
  // The PBA is read-only, so there is no pba_write: the owner drops writes.
  uint64_t pba_read(uint64_t offset, unsigned width) const;

  // A device-side cause for `vector`.
  MsixOutcome signal(uint16_t vector);
  // For a device whose cause went away while latched (spec: "the function
  // must clear the Pending bit"), so unmasking sends no stale message.
  void clear_pending(uint16_t vector);
  bool pending(uint16_t vector) const;
  bool vector_masked(uint16_t vector) const;  // true for out-of-range vectors

 private:
  struct Entry {
    uint32_t address_lo = 0;
    uint32_t address_hi = 0;
    uint32_t data = 0;
    uint32_t vector_control = kVectorControlMaskBit;
  };

  bool deliverable(uint16_t vector) const;
  void deliver(uint16_t vector);
  void deliver_pending();
  uint32_t read_dword(uint32_t offset) const;
  void write_dword(uint32_t offset, uint32_t value);
  void set_pending(uint16_t vector, bool pending);

  MsiSink sink_;
  std::vector<Entry> entries_;  // sized once, at construction
  std::vector<uint64_t> pba_;
  bool enabled_ = false;
  bool function_masked_ = false;
};

}  // namespace aerov::model::irq
