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

// One register read, for tests that check what a core looks at (e.g. that an
// MSI-X core never reads ISR, IRQ-4).
struct MmioRead {
  uint8_t bar;
  uint32_t offset;
  uint8_t width;
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
    if (trace_mmio_) mmio_reads_.push_back(MmioRead{bar, offset, width});
    return pci_.mmio_read(bar, offset, width);
  }
  void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) override;
  bool bar_info(uint8_t bar, transport::BarInfo* out) override { return pci_.bar_info(bar, out); }
  void lock() override { pci_.lock(); }
  void unlock() override { pci_.unlock(); }
  void stall_us(uint32_t us) override { pci_.stall_us(us); }

  // OsServices.
  bool alloc_dma(uint32_t bytes, uint32_t alignment, windows7::DmaRegion* out) override;
  void log(windows7::LogLevel level, const char* message, const uint64_t* args,
           uint8_t num_args) override;
  uint16_t msix_messages_granted() override { return granted_; }

  // What firmware / Windows PnP does before the driver starts when it grants
  // `messages` MSI-X messages: programs table entries 0..messages-1 through
  // BAR0 (address 0xFEE00000, data = message number, unmasked) and sets
  // MSI-X Enable in the capability's Message Control. The core then learns
  // the count from msix_messages_granted(). With no MSI-X capability on the
  // function only the count is reported (a platform bug a core survives).
  // Not traced. Returns false when the function has no MSI-X capability.
  static constexpr uint64_t kMsiAddress = 0xFEE0'0000;
  bool grant_msix_messages(uint16_t messages);
  // Fault injection: the device "cannot allocate" MSI-X vectors >= `first`:
  // writes of such a vector to msix_config or queue_msix_vector reach the
  // device as NO_VECTOR, so the read-back is 0xFFFF (virtio 1.2 4.1.5.1.2).
  void refuse_msix_vectors_from(uint16_t first) { refuse_from_ = first; }
  // Offset of the MSI-X capability in config space (0 if none).
  uint8_t msix_capability();

  // Test controls and observation.
  void fail_allocations_after(int successes) { allocations_left_ = successes; }
  const std::vector<DmaAllocation>& allocations() const { return allocations_; }
  const std::vector<LogEntry>& log_entries() const { return log_; }
  bool logged(const std::string& substring) const;
  void trace_mmio(bool on) { trace_mmio_ = on; }
  const std::vector<MmioWrite>& mmio_writes() const { return mmio_writes_; }
  void clear_mmio_writes() { mmio_writes_.clear(); }
  const std::vector<MmioRead>& mmio_reads() const { return mmio_reads_; }
  void clear_mmio_reads() { mmio_reads_.clear(); }
  // Traced reads of [offset, offset + 1) in `bar` (e.g. BAR0 + 0x2000, ISR).
  size_t mmio_reads_at(uint8_t bar, uint32_t offset) const;
  int lock_depth() const { return pci_.lock_depth(); }
  uint64_t window_gpa() const { return window_gpa_; }
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
  std::vector<MmioRead> mmio_reads_;
  uint16_t granted_ = 0;
  uint32_t refuse_from_ = 0x10000;  // no vector refused
};

}  // namespace aerov::drivers::host
