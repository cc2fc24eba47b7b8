#include "model/pci/pci_bus.hpp"

namespace aerov::model::pci {

PciError PciBus::attach(Bdf bdf, PciFunction* function) {
  if (!bdf.valid()) return PciError::kBadBdf;
  if (function == nullptr) return PciError::kNullFunction;
  if (!functions_.try_emplace(bdf.key(), function).second) return PciError::kOccupied;
  devices_.set(bdf.key() / Bdf::kFunctionCount);
  return PciError::kOk;
}

PciFunction* PciBus::find(Bdf bdf) const {
  if (!bdf.valid() || !devices_.test(bdf.key() / Bdf::kFunctionCount)) return nullptr;
  const auto it = functions_.find(bdf.key());
  if (it == functions_.end()) return nullptr;
  if (bdf.function == 0) return it->second;
  const auto f0 = functions_.find(Bdf{bdf.bus, bdf.device, 0}.key());
  if (f0 == functions_.end()) return nullptr;
  const bool multi_function = f0->second->config().header_type() & reg::kHeaderTypeMultiFunction;
  return multi_function ? it->second : nullptr;
}

uint32_t PciBus::config_read(Bdf bdf, uint16_t offset, unsigned width) const {
  PciFunction* function = find(bdf);
  if (function == nullptr) return static_cast<uint32_t>(all_ones(width));
  return function->config_read(offset, width);
}

void PciBus::config_write(Bdf bdf, uint16_t offset, unsigned width, uint32_t value) {
  if (PciFunction* function = find(bdf)) function->config_write(offset, width, value);
}

// Epochs only grow and functions are never detached, so any change makes
// the sum grow.
uint64_t PciBus::decode_epoch() const {
  uint64_t epoch = functions_.size();
  for (const auto& [key, function] : functions_) epoch += function->config().decode_epoch();
  return epoch;
}

void PciBus::rebuild_windows() const {
  windows_.clear();
  for (const auto& [key, function] : functions_) {
    const Bdf bdf = Bdf::from_key(key);
    if (find(bdf) == nullptr || !function->memory_space_enabled()) continue;  // BAR-4
    for (uint8_t bar = 0; bar < PciFunction::kBarCount; ++bar) {
      if (const auto spec = function->bar_spec(bar)) {
        windows_.push_back(Window{function->bar_address(bar), spec->size, MmioTarget{bdf, function, bar, 0}});
      }
    }
  }
  windows_epoch_ = decode_epoch();
}

std::optional<MmioTarget> PciBus::decode(uint64_t address, unsigned width) const {
  if (decode_epoch() != windows_epoch_) rebuild_windows();
  for (const Window& w : windows_) {
    if (address < w.base || address - w.base >= w.size) continue;
    MmioTarget t = w.target;
    t.offset = address - w.base;
    // Starts inside this BAR: claimed whole or not at all.
    if (!t.function->bar_contains(t.bar, t.offset, width)) return std::nullopt;
    return t;
  }
  return std::nullopt;
}

uint64_t PciBus::mmio_read(uint64_t address, unsigned width) {
  const auto target = decode(address, width);
  if (!target) return all_ones(width);
  return target->function->mmio_read(target->bar, target->offset, width);
}

bool PciBus::mmio_write(uint64_t address, unsigned width, uint64_t value) {
  const auto target = decode(address, width);
  if (!target) return false;
  return target->function->mmio_write(target->bar, target->offset, width, value);
}

}  // namespace aerov::model::pci
