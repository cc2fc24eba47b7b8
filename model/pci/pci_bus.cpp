#include "model/pci/pci_bus.hpp"

#include <algorithm>

namespace aerov::model::pci {

namespace {

// The function attached at `key`, or nullptr.
PciFunction* attached(const std::vector<std::pair<uint16_t, PciFunction*>>& functions, uint16_t key) {
  const auto it = std::lower_bound(functions.begin(), functions.end(), key,
                                   [](const auto& entry, uint16_t k) { return entry.first < k; });
  return it != functions.end() && it->first == key ? it->second : nullptr;
}

}  // namespace

PciError PciBus::attach(Bdf bdf, PciFunction* function) {
  if (!bdf.valid()) return PciError::kBadBdf;
  if (function == nullptr) return PciError::kNullFunction;
  if (attached(functions_, bdf.key()) != nullptr) return PciError::kOccupied;
  functions_.emplace_back(bdf.key(), function);
  std::sort(functions_.begin(), functions_.end());
  devices_.set(bdf.key() / Bdf::kFunctionCount);
  return PciError::kOk;
}

PciFunction* PciBus::find(Bdf bdf) const {
  if (!bdf.valid() || !devices_.test(bdf.key() / Bdf::kFunctionCount)) return nullptr;
  PciFunction* function = attached(functions_, bdf.key());
  if (function == nullptr || bdf.function == 0) return function;
  const PciFunction* f0 = attached(functions_, Bdf{bdf.bus, bdf.device, 0}.key());
  if (f0 == nullptr) return nullptr;
  const bool multi_function = f0->config().header_type() & reg::kHeaderTypeMultiFunction;
  return multi_function ? function : nullptr;
}

uint32_t PciBus::present_config_read(Bdf bdf, uint16_t offset, unsigned width) const {
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
