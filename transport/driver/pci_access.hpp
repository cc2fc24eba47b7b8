// What the transport's driver end needs from the OS: the PCI function's
// configuration space, its memory BARs, a per-device lock and a short stall.
// The Windows glue implements it with WDK calls (config space through the
// bus interface, BARs mapped from the CM_RESOURCE_LIST, a spin lock,
// KeStallExecutionProcessor); drivers/host implements it on the machine
// model. Freestanding: virtual calls only, no RTTI, no deleting destructor.
#pragma once

#include <stdint.h>

namespace aerov::transport {

struct BarInfo {
  uint64_t length;  // bytes decoded; 0 when the BAR is absent
  bool memory;      // memory (not I/O) BAR
  bool is_64bit;
};

class PciAccess {
 public:
  // width is 1, 2 or 4; offset < 256.
  virtual uint32_t config_read(uint16_t offset, uint8_t width) = 0;
  virtual void config_write(uint16_t offset, uint8_t width, uint32_t value) = 0;
  // width is 1, 2 or 4; offset + width <= the BAR's length.
  virtual uint32_t mmio_read(uint8_t bar, uint32_t offset, uint8_t width) = 0;
  virtual void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) = 0;
  // Fills *out for BAR `bar` (0..5); false when there is no such resource.
  virtual bool bar_info(uint8_t bar, BarInfo* out) = 0;
  // CFG-1: selector sequences (feature select, queue select) are device
  // global; the transport holds this lock across each sequence.
  virtual void lock() = 0;
  virtual void unlock() = 0;
  virtual void stall_us(uint32_t microseconds) = 0;

 protected:
  ~PciAccess() = default;
};

// RAII for PciAccess::lock (no exceptions, so plain scope exit suffices).
class PciLock {
 public:
  explicit PciLock(PciAccess& pci) : pci_(pci) { pci_.lock(); }
  ~PciLock() { pci_.unlock(); }
  PciLock(const PciLock&) = delete;
  PciLock& operator=(const PciLock&) = delete;

 private:
  PciAccess& pci_;
};

}  // namespace aerov::transport
