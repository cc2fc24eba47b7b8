#include "drivers/host/model_os_services.hpp"

#include <algorithm>

#include "model/irq/msix_state.hpp"
#include "model/pci/msix_capability.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::drivers::host {

bool ModelOsServices::alloc_dma(uint32_t bytes, uint32_t alignment, windows7::DmaRegion* out) {
  if (out == nullptr || bytes == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > 4096) {
    return false;
  }
  if (allocations_left_ == 0) return false;
  const uint64_t start = (window_gpa_ + used_ + alignment - 1) & ~uint64_t{alignment - 1};
  if (start + bytes > window_gpa_ + window_bytes_) return false;
  uint8_t* host = memory_.translate(start, bytes);
  if (host == nullptr) return false;
  // Like a fresh uncached extension: zeroed. The host pointer has the same
  // alignment as the gpa because guest RAM regions are page-aligned
  // mappings of page-aligned host memory.
  std::fill(host, host + bytes, uint8_t{0});
  if (allocations_left_ > 0) --allocations_left_;
  used_ = start + bytes - window_gpa_;
  allocations_.push_back(DmaAllocation{start, bytes, alignment});
  *out = windows7::DmaRegion{host, start};
  return true;
}

void ModelOsServices::log(windows7::LogLevel level, const char* message, const uint64_t* args,
                          uint8_t num_args) {
  LogEntry e{level, message != nullptr ? message : "", {}};
  const uint8_t n = num_args < kMaxLogArgs ? num_args : kMaxLogArgs;
  if (args != nullptr) e.args.assign(args, args + n);
  log_.push_back(std::move(e));
}

bool ModelOsServices::logged(const std::string& substring) const {
  for (const auto& e : log_) {
    if (e.message.find(substring) != std::string::npos) return true;
  }
  return false;
}

}  // namespace aerov::drivers::host

namespace aerov::drivers::host {

void ModelOsServices::mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) {
  namespace common = transport::common;
  if (bar == 0 && width == 2 && value >= refuse_from_ && value != transport::kNoVector &&
      (offset == transport::bar0::kCommonOffset + common::kMsixConfig ||
       offset == transport::bar0::kCommonOffset + common::kQueueMsixVector)) {
    value = transport::kNoVector;  // the device could not take it
  }
  if (trace_mmio_) mmio_writes_.push_back(MmioWrite{bar, offset, width, value});
  pci_.mmio_write(bar, offset, width, value);
}

uint8_t ModelOsServices::msix_capability() {
  namespace reg = model::pci::reg;
  if ((pci_.config_read(reg::kStatus, 2) & reg::kStatusCapabilitiesList) == 0) return 0;
  uint8_t at = static_cast<uint8_t>(pci_.config_read(reg::kCapabilitiesPointer, 1) & 0xFC);
  for (int i = 0; i < 48 && at >= reg::kFirstCapability; ++i) {
    if (pci_.config_read(at, 1) == reg::kCapIdMsix) return at;
    at = static_cast<uint8_t>(pci_.config_read(at + 1u, 1) & 0xFC);
  }
  return 0;
}

bool ModelOsServices::grant_msix_messages(uint16_t messages) {
  using model::irq::MsixState;
  granted_ = messages;
  const uint8_t cap = msix_capability();
  if (cap == 0) return false;
  // Table Offset/BIR: the BAR and offset the table lives at.
  const uint32_t table = pci_.config_read(cap + model::pci::kMsixTableOffsetBir, 4);
  const auto bir = static_cast<uint8_t>(table & 7);
  const uint32_t base = table & ~uint32_t{7};
  for (uint16_t m = 0; m < messages; ++m) {
    const uint32_t entry = base + m * MsixState::kEntryBytes;
    pci_.mmio_write(bir, entry + MsixState::kEntryAddressLo, 4, static_cast<uint32_t>(kMsiAddress));
    pci_.mmio_write(bir, entry + MsixState::kEntryAddressHi, 4, 0);
    pci_.mmio_write(bir, entry + MsixState::kEntryData, 4, m);
    pci_.mmio_write(bir, entry + MsixState::kEntryVectorControl, 4, 0);  // unmasked
  }
  const uint16_t control_at = cap + model::pci::kMsixMessageControl;
  const uint32_t control = pci_.config_read(control_at, 2);
  pci_.config_write(control_at, 2, control | MsixState::kControlEnable);
  return true;
}

size_t ModelOsServices::mmio_reads_at(uint8_t bar, uint32_t offset) const {
  size_t n = 0;
  for (const auto& r : mmio_reads_) n += r.bar == bar && r.offset <= offset && offset < r.offset + r.width;
  return n;
}

}  // namespace aerov::drivers::host
