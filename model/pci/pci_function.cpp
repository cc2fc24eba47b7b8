#include "model/pci/pci_function.hpp"

#include <bit>
#include <cassert>

namespace aerov::model::pci {

namespace {

constexpr uint16_t bar_register(uint8_t index) { return static_cast<uint16_t>(reg::kBar0 + 4 * index); }

}  // namespace

PciError PciFunction::declare_bar(uint8_t index, const BarSpec& spec) {
  const bool is_64 = spec.type == BarType::kMemory64;
  const uint64_t max_size = is_64 ? kMaxBar64Size : kMaxBar32Size;
  if (index >= kBarCount || (is_64 && index + 1 >= kBarCount)) return PciError::kBadBar;
  if (!std::has_single_bit(spec.size) || spec.size < kMinBarSize || spec.size > max_size) {
    return PciError::kBadBar;
  }
  const bool taken = bars_[index] || (is_64 && bars_[index + 1]) ||
                     (index > 0 && bars_[index - 1] && bars_[index - 1]->type == BarType::kMemory64);
  if (taken) return PciError::kBadBar;

  bars_[index] = spec;
  // Address bits below the size are read-only zero, so writing all-ones
  // reads back ~(size - 1) with the type bits: the sizing protocol.
  const uint64_t address_mask = ~(spec.size - 1);
  uint32_t flags = is_64 ? reg::kBarType64 : 0;
  if (spec.prefetchable) flags |= reg::kBarPrefetchable;
  config_.set_u32(bar_register(index), flags);
  config_.set_write_mask(bar_register(index), 4,
                         static_cast<uint32_t>(address_mask) & ~reg::kBarFlagsMask);
  if (is_64) {
    config_.set_u32(bar_register(index + 1), 0);
    config_.set_write_mask(bar_register(index + 1), 4, static_cast<uint32_t>(address_mask >> 32));
  }
  return PciError::kOk;
}

std::optional<BarSpec> PciFunction::bar_spec(uint8_t index) const {
  if (index >= kBarCount) return std::nullopt;
  return bars_[index];
}

uint64_t PciFunction::bar_address(uint8_t index) const {
  if (index >= kBarCount || !bars_[index]) return 0;
  uint64_t address = config_.u32(bar_register(index)) & ~reg::kBarFlagsMask;
  if (bars_[index]->type == BarType::kMemory64) {
    address |= uint64_t{config_.u32(bar_register(index + 1))} << 32;
  }
  // The write mask keeps the base aligned to the size, so base + size - 1
  // cannot wrap.
  assert(address % bars_[index]->size == 0);
  return address;
}

void PciFunction::set_intx_status(bool asserted) {
  const uint16_t status = config_.status() & static_cast<uint16_t>(~reg::kStatusInterrupt);
  config_.set_u16(reg::kStatus, asserted ? status | reg::kStatusInterrupt : status);
}

uint32_t PciFunction::config_read(uint16_t offset, unsigned width) {
  if (!ConfigSpace::access_ok(offset, width)) return static_cast<uint32_t>(all_ones(width));
  return on_config_read(offset, width, config_.read(offset, width));
}

void PciFunction::config_write(uint16_t offset, unsigned width, uint32_t value) {
  if (!ConfigSpace::access_ok(offset, width)) return;
  config_.write(offset, width, value);
  on_config_write(offset, width, value);
}

uint64_t PciFunction::mmio_read(uint8_t bar, uint64_t offset, unsigned width) {
  if (!memory_space_enabled() || !bar_contains(bar, offset, width)) return all_ones(width);
  return on_mmio_read(bar, offset, width) & all_ones(width);
}

bool PciFunction::mmio_write(uint8_t bar, uint64_t offset, unsigned width, uint64_t value) {
  if (!memory_space_enabled() || !bar_contains(bar, offset, width)) return false;
  on_mmio_write(bar, offset, width, value & all_ones(width));
  return true;
}

uint64_t PciFunction::on_mmio_read(uint8_t, uint64_t, unsigned) { return 0; }
void PciFunction::on_mmio_write(uint8_t, uint64_t, unsigned, uint64_t) {}
uint32_t PciFunction::on_config_read(uint16_t, unsigned, uint32_t value) { return value; }
void PciFunction::on_config_write(uint16_t, unsigned, uint32_t) {}

}  // namespace aerov::model::pci
