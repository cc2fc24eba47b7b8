// OsServices for driver cores running in user mode against the machine
// model: PCI through ModelPciAccess, DMA memory carved from a window of
// guest RAM given at construction (it may lie above 4 GiB, DMA-2), and a log
// kept in memory so tests can look at what the core reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/host/model_pci_access.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "model/memory/guest_memory.hpp"

namespace aerov::drivers::host {

struct LogEntry {
  windows7::LogLevel level;
  std::string message;
  std::vector<uint64_t> args;
};

// One register write, for tests that check the order of a sequence (STAT-3).
struct MmioWrite {
  uint8_t bar;
  uint32_t offset;
  uint8_t width;
  uint32_t value;
};

struct DmaAllocation {
  uint64_t pa;
  uint32_t bytes;
  uint32_t alignment;
};

class ModelOsServices final : public windows7::OsServices {
 public:
  // [window_gpa, window_gpa + window_bytes) must be guest RAM that nothing
  // else uses; allocations are handed out from it in order.
  ModelOsServices(model::pci::PciBus& bus, const model::pci::EnumeratedFunction& function,
                  model::GuestMemory& memory, uint64_t window_gpa, uint64_t window_bytes)
      : pci_(bus, function), memory_(memory), window_gpa_(window_gpa),
        window_bytes_(window_bytes) {}

  // PciAccess: ModelPciAccess does the work.
  uint32_t config_read(uint16_t offset, uint8_t width) override {
    return pci_.config_read(offset, width);
  }
  void config_write(uint16_t offset, uint8_t width, uint32_t value) override {
    pci_.config_write(offset, width, value);
  }
  uint32_t mmio_read(uint8_t bar, uint32_t offset, uint8_t width) override {
    return pci_.mmio_read(bar, offset, width);
  }
  void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) override {
    if (trace_mmio_) mmio_writes_.push_back(MmioWrite{bar, offset, width, value});
    pci_.mmio_write(bar, offset, width, value);
  }
  bool bar_info(uint8_t bar, transport::BarInfo* out) override { return pci_.bar_info(bar, out); }
  void lock() override { pci_.lock(); }
  void unlock() override { pci_.unlock(); }
  void stall_us(uint32_t us) override { pci_.stall_us(us); }

  // OsServices.
  bool alloc_dma(uint32_t bytes, uint32_t alignment, windows7::DmaRegion* out) override;
  void log(windows7::LogLevel level, const char* message, const uint64_t* args,
           uint8_t num_args) override;

  // Test controls and observation.
  void fail_allocations_after(int successes) { allocations_left_ = successes; }
  const std::vector<DmaAllocation>& allocations() const { return allocations_; }
  const std::vector<LogEntry>& log_entries() const { return log_; }
  bool logged(const std::string& substring) const;
  void trace_mmio(bool on) { trace_mmio_ = on; }
  const std::vector<MmioWrite>& mmio_writes() const { return mmio_writes_; }
  void clear_mmio_writes() { mmio_writes_.clear(); }
  int lock_depth() const { return pci_.lock_depth(); }
  uint64_t window_used() const { return used_; }

 private:
  ModelPciAccess pci_;
  model::GuestMemory& memory_;
  uint64_t window_gpa_;
  uint64_t window_bytes_;
  uint64_t used_ = 0;
  int allocations_left_ = -1;  // < 0: unlimited
  std::vector<DmaAllocation> allocations_;
  std::vector<LogEntry> log_;
  bool trace_mmio_ = true;
  std::vector<MmioWrite> mmio_writes_;
};

}  // namespace aerov::drivers::host
