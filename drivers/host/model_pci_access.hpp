// PciAccess for driver code running in user mode against the machine model:
// config space through the PCI bus, BAR accesses as MMIO at the addresses
// the enumerator assigned (as Windows hands a driver its resources). It is
// the only path from driver code to a device model.
#pragma once

#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_enumerator.hpp"
#include "transport/driver/pci_access.hpp"

namespace aerov::drivers::host {

class ModelPciAccess final : public transport::PciAccess {
 public:
  ModelPciAccess(model::pci::PciBus& bus, const model::pci::EnumeratedFunction& function)
      : bus_(bus), function_(function) {}

  uint32_t config_read(uint16_t offset, uint8_t width) override;
  void config_write(uint16_t offset, uint8_t width, uint32_t value) override;
  uint32_t mmio_read(uint8_t bar, uint32_t offset, uint8_t width) override;
  void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) override;
  bool bar_info(uint8_t bar, transport::BarInfo* out) override;
  void lock() override { ++lock_depth_; }
  void unlock() override { --lock_depth_; }
  void stall_us(uint32_t) override {}

  // Selector sequences must run under the lock (CFG-1); tests look here.
  int lock_depth() const { return lock_depth_; }

 private:
  const model::pci::AssignedBar* find_bar(uint8_t bar) const;

  model::pci::PciBus& bus_;
  model::pci::EnumeratedFunction function_;
  int lock_depth_ = 0;
};

}  // namespace aerov::drivers::host
