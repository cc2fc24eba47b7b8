#include "drivers/host/model_pci_access.hpp"

namespace aerov::drivers::host {

uint32_t ModelPciAccess::config_read(uint16_t offset, uint8_t width) {
  return bus_.config_read(function_.bdf, offset, width);
}

void ModelPciAccess::config_write(uint16_t offset, uint8_t width, uint32_t value) {
  bus_.config_write(function_.bdf, offset, width, value);
}

const model::pci::AssignedBar* ModelPciAccess::find_bar(uint8_t bar) const {
  for (const auto& b : function_.bars) {
    if (b.index == bar && b.address != 0) return &b;
  }
  return nullptr;
}

uint32_t ModelPciAccess::mmio_read(uint8_t bar, uint32_t offset, uint8_t width) {
  const auto* b = find_bar(bar);
  if (b == nullptr || offset + width > b->size) return 0xFFFFFFFFu;  // master abort
  return static_cast<uint32_t>(bus_.mmio_read(b->address + offset, width));
}

void ModelPciAccess::mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) {
  const auto* b = find_bar(bar);
  if (b == nullptr || offset + width > b->size) return;
  bus_.mmio_write(b->address + offset, width, value);
}

bool ModelPciAccess::bar_info(uint8_t bar, transport::BarInfo* out) {
  const auto* b = find_bar(bar);
  if (b == nullptr) return false;
  *out = transport::BarInfo{b->size, true, b->is_64bit};
  return true;
}

}  // namespace aerov::drivers::host
