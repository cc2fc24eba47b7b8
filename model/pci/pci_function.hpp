// The base every PCI device function derives from. It owns the function's
// config space and memory BARs and enforces the generic rules, so a device
// only implements its own registers:
//
//   on_mmio_read / on_mmio_write   BAR contents, called only for accesses
//                                  that lie wholly inside a declared BAR while
//                                  Memory Space is on (contract BAR-4);
//   on_config_read / on_config_write  device-specific config registers (e.g.
//                                  capability fields), after the generic
//                                  masked access.
//
// Values are little-endian in the low `width` bytes; width is 1, 2, 4 or 8.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "model/pci/all_ones.hpp"
#include "model/pci/config_space.hpp"
#include "model/pci/pci_error.hpp"

namespace aerov::model::pci {

enum class BarType : uint8_t {
  kMemory32 = 0,
  kMemory64,  // occupies BAR registers index and index + 1
};

struct BarSpec {
  uint64_t size = 0;  // power of two, >= kMinBarSize
  BarType type = BarType::kMemory32;
  bool prefetchable = false;
};

class PciFunction {
 public:
  static constexpr uint8_t kBarCount = 6;
  static constexpr uint64_t kMinBarSize = 16;          // PCI 3.0: 4 address bits are flags
  static constexpr uint64_t kMaxBar32Size = 1ull << 31;
  static constexpr uint64_t kMaxBar64Size = 1ull << 63;

  PciFunction() = default;
  virtual ~PciFunction() = default;
  PciFunction(const PciFunction&) = delete;
  PciFunction& operator=(const PciFunction&) = delete;

  ConfigSpace& config() { return config_; }
  const ConfigSpace& config() const { return config_; }

  // Declares a memory BAR: sets its read-only type bits and the write mask
  // that makes the sizing protocol work. BAR registers never declared read 0
  // and ignore writes, which is what "no I/O BAR" looks like.
  PciError declare_bar(uint8_t index, const BarSpec& spec);
  std::optional<BarSpec> bar_spec(uint8_t index) const;
  // The guest-assigned base (flag bits stripped); 0 for undeclared BARs.
  uint64_t bar_address(uint8_t index) const;

  bool memory_space_enabled() const { return config_.command() & reg::kCommandMemorySpace; }
  // Devices must not start DMA while this is false (contract BAR-4).
  bool bus_master_enabled() const { return config_.command() & reg::kCommandBusMaster; }
  // Command bit 10: the function must not drive INTx while set.
  bool intx_disabled() const { return config_.command() & reg::kCommandInterruptDisable; }
  // Status bit 3 mirrors the function's INTx state whether or not bit 10
  // lets it reach the pin.
  void set_intx_status(bool asserted);

  // Bus-side entry points (PciBus calls these). Bad accesses read all-ones
  // and drop writes, see ConfigSpace::access_ok.
  uint32_t config_read(uint16_t offset, unsigned width);
  void config_write(uint16_t offset, unsigned width, uint32_t value);

  // Guarded BAR access: forwarded to the device only if `bar` is declared,
  // Memory Space is on, width is 1/2/4/8 and [offset, offset + width) lies
  // inside the BAR. Otherwise reads return all-ones (as unclaimed MMIO does)
  // and writes are dropped; mmio_write returns whether it was forwarded.
  uint64_t mmio_read(uint8_t bar, uint64_t offset, unsigned width);
  bool mmio_write(uint8_t bar, uint64_t offset, unsigned width, uint64_t value);
  // Inline: every BAR access asks, in the bus's decode and here.
  bool bar_contains(uint8_t bar, uint64_t offset, unsigned width) const {
    if (bar >= kBarCount || !bars_[bar] || !(width == 1 || width == 2 || width == 4 || width == 8)) {
      return false;
    }
    const uint64_t size = bars_[bar]->size;
    return offset < size && width <= size - offset;  // no overflow: offset < size
  }

 protected:
  // Default device: BAR reads 0, writes ignored (contract BAR-3's choice).
  virtual uint64_t on_mmio_read(uint8_t bar, uint64_t offset, unsigned width);
  virtual void on_mmio_write(uint8_t bar, uint64_t offset, unsigned width, uint64_t value);
  // `value` is what config space holds; the return value is what the bus sees.
  virtual uint32_t on_config_read(uint16_t offset, unsigned width, uint32_t value);
  // Called after the masked write landed; `value` is the raw value written.
  virtual void on_config_write(uint16_t offset, unsigned width, uint32_t value);

 private:
  ConfigSpace config_;
  std::array<std::optional<BarSpec>, kBarCount> bars_;
};

}  // namespace aerov::model::pci
