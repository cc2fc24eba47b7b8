#include "conformance/qtest/qtest_os_services.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace aerov::conformance::qtest {

namespace w7 = drivers::windows7;

namespace {
constexpr uint16_t kConfigAddress = 0xCF8;
constexpr uint16_t kConfigData = 0xCFC;
constexpr uint16_t kVirtioVendor = 0x1AF4;
constexpr uint16_t kCommand = 0x04;
constexpr uint16_t kCommandIo = 1u << 0;
constexpr uint16_t kCommandMemory = 1u << 1;
constexpr uint16_t kCommandBusMaster = 1u << 2;
constexpr uint16_t kFirstBar = 0x10;

uint32_t address_of(uint8_t device, uint16_t offset) {
  return 0x8000'0000u | uint32_t{device} << 11 | (offset & 0xFCu);
}
}  // namespace

void QtestOsServices::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

FoundFunction QtestOsServices::find(QtestClient& qt, uint16_t device_id) {
  for (uint8_t dev = 0; dev < 32; ++dev) {
    qt.outl(kConfigAddress, address_of(dev, 0));
    const uint32_t id = qt.inl(kConfigData);
    if ((id & 0xFFFF) != kVirtioVendor || (id >> 16) != device_id) continue;
    qt.outl(kConfigAddress, address_of(dev, 8));
    const auto revision = static_cast<uint8_t>(qt.inl(kConfigData) & 0xFF);
    return FoundFunction{dev, device_id, revision};
  }
  char buf[80];
  std::snprintf(buf, sizeof buf, "no PCI function 1af4:%04x on bus 0", device_id);
  qt.fail(buf);
}

QtestOsServices::QtestOsServices(QtestClient& qt, uint8_t device, uint64_t dma_gpa,
                                 uint32_t dma_bytes)
    : qt_(qt), device_(device), dma_gpa_(dma_gpa), dma_bytes_(dma_bytes),
      mirror_(static_cast<uint8_t*>(std::aligned_alloc(4096, (dma_bytes + 4095) & ~4095u))),
      image_(dma_bytes, 0) {
  if (mirror_ == nullptr || (dma_gpa & 4095) != 0) qt_.fail("DMA window setup");
  std::memset(mirror_.get(), 0, dma_bytes);
}

void QtestOsServices::select(uint16_t offset) {
  qt_.outl(kConfigAddress, address_of(device_, offset));
}

uint32_t QtestOsServices::config_read(uint16_t offset, uint8_t width) {
  if (offset >= 256 || (width != 1 && width != 2 && width != 4)) return 0xFFFF'FFFFu;
  select(offset);
  const auto port = static_cast<uint16_t>(kConfigData + (offset & 3));
  if (width == 1) return qt_.inb(port);
  if (width == 2) return qt_.inw(port);
  return qt_.inl(port);
}

void QtestOsServices::config_write(uint16_t offset, uint8_t width, uint32_t value) {
  if (offset >= 256 || (width != 1 && width != 2 && width != 4)) return;
  select(offset);
  const auto port = static_cast<uint16_t>(kConfigData + (offset & 3));
  if (width == 1) qt_.outb(port, static_cast<uint8_t>(value));
  if (width == 2) qt_.outw(port, static_cast<uint16_t>(value));
  if (width == 4) qt_.outl(port, value);
}

void QtestOsServices::assign_resources() {
  uint64_t mmio_next = kMmioWindowBase;
  uint32_t io_next = kIoWindowBase;
  for (uint8_t i = 0; i < 6; ++i) {
    const uint16_t at = static_cast<uint16_t>(kFirstBar + 4 * i);
    const uint32_t original = config_read(at, 4);
    config_write(at, 4, 0xFFFF'FFFFu);
    const uint32_t low_mask = config_read(at, 4);
    config_write(at, 4, original);
    if (low_mask == 0 || low_mask == 0xFFFF'FFFFu) continue;  // not implemented
    Bar& bar = bars_[i];
    if ((low_mask & 1) != 0) {  // I/O
      bar.size = (~(low_mask & ~3u) & 0xFFFFu) + 1;
      io_next = static_cast<uint32_t>((io_next + bar.size - 1) & ~(bar.size - 1));
      bar.address = io_next;
      io_next += static_cast<uint32_t>(bar.size);
      config_write(at, 4, static_cast<uint32_t>(bar.address));
      continue;
    }
    bar.memory = true;
    bar.is_64bit = ((low_mask >> 1) & 3) == 2;
    uint64_t mask = low_mask & ~0xFull;
    if (bar.is_64bit && i < 5) {
      const uint16_t high_at = static_cast<uint16_t>(at + 4);
      const uint32_t high_original = config_read(high_at, 4);
      config_write(high_at, 4, 0xFFFF'FFFFu);
      mask |= uint64_t{config_read(high_at, 4)} << 32;
      config_write(high_at, 4, high_original);
    } else {
      mask |= 0xFFFF'FFFF'0000'0000ull;
    }
    bar.size = ~mask + 1;
    mmio_next = (mmio_next + bar.size - 1) & ~(bar.size - 1);
    bar.address = mmio_next;
    mmio_next += bar.size;
    config_write(at, 4, static_cast<uint32_t>(bar.address) | (low_mask & 0xF));
    if (bar.is_64bit) {
      config_write(static_cast<uint16_t>(at + 4), 4, static_cast<uint32_t>(bar.address >> 32));
      ++i;  // the upper half is not a BAR of its own
    }
  }
  const uint32_t command = config_read(kCommand, 2);
  config_write(kCommand, 2, command | kCommandIo | kCommandMemory | kCommandBusMaster);
}

void QtestOsServices::route_intx(uint8_t irq) {
  constexpr uint8_t kPiix3 = 1;
  constexpr uint16_t kPirqRouteControl = 0x60;
  constexpr uint16_t kInterruptLine = 0x3C;
  qt_.outl(kConfigAddress, address_of(kPiix3, 0));
  if (qt_.inl(kConfigData) != 0x7000'8086u) qt_.fail("no PIIX3 at 00:01.0 to route INTx");
  for (uint16_t pirq = 0; pirq < 4; ++pirq) {
    const auto at = static_cast<uint16_t>(kPirqRouteControl + pirq);
    qt_.outl(kConfigAddress, address_of(kPiix3, at));
    qt_.outb(static_cast<uint16_t>(kConfigData + (at & 3)), irq);
  }
  config_write(kInterruptLine, 1, irq);
}

bool QtestOsServices::bar_info(uint8_t bar, transport::BarInfo* out) {
  if (bar >= 6 || bars_[bar].size == 0 || out == nullptr) return false;
  *out = transport::BarInfo{bars_[bar].size, bars_[bar].memory, bars_[bar].is_64bit};
  return true;
}

uint32_t QtestOsServices::mmio_read(uint8_t bar, uint32_t offset, uint8_t width) {
  if (bar >= 6 || !bars_[bar].memory || uint64_t{offset} + width > bars_[bar].size) {
    return 0xFFFF'FFFFu;  // master abort
  }
  const auto value = static_cast<uint32_t>(qt_.mmio_read(bars_[bar].address + offset, width));
  if (pull_armed_) {
    pull_armed_ = false;
    pull();
  }
  return value;
}

void QtestOsServices::mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) {
  if (bar >= 6 || !bars_[bar].memory || uint64_t{offset} + width > bars_[bar].size) return;
  push();  // the device may look at rings and buffers from this write on
  qt_.mmio_write(bars_[bar].address + offset, width, value);
}

void QtestOsServices::push() {
  const uint8_t* mirror = mirror_.get();
  uint8_t* image = image_.data();
  uint32_t at = 0;
  while (at < dma_used_) {
    const uint32_t block = std::min(kSyncBlockBytes, dma_used_ - at);
    if (std::memcmp(mirror + at, image + at, block) == 0) {
      at += block;  // the common case: nothing written here
      continue;
    }
    // Byte-exact runs only, never the equal bytes between them: those may
    // be stale here because the device wrote them in the guest since the
    // last pull (a status byte next to the one the core just set).
    const uint32_t end = at + block;
    while (at < end) {
      if (mirror[at] == image[at]) {
        ++at;
        continue;
      }
      uint32_t run_end = at + 1;
      while (run_end < dma_used_ && mirror[run_end] != image[run_end]) ++run_end;
      qt_.memwrite(dma_gpa_ + at, mirror + at, run_end - at);
      std::memcpy(image + at, mirror + at, run_end - at);
      ++pushes_;
      pushed_bytes_ += run_end - at;
      at = run_end;
    }
  }
}

void QtestOsServices::pull() {
  push();
  if (dma_used_ == 0) return;
  const std::vector<uint8_t> guest = qt_.memread(dma_gpa_, dma_used_);
  std::memcpy(mirror_.get(), guest.data(), dma_used_);
  std::memcpy(image_.data(), guest.data(), dma_used_);
  ++pulls_;
}

bool QtestOsServices::alloc_dma(uint32_t bytes, uint32_t alignment, w7::DmaRegion* out) {
  if (out == nullptr || bytes == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > 4096) {
    return false;
  }
  const uint64_t start = (uint64_t{dma_used_} + alignment - 1) & ~uint64_t{alignment - 1};
  if (start + bytes > dma_bytes_) return false;
  // Zero-filled in both copies: the guest RAM of a fresh qtest machine is.
  std::memset(mirror_.get() + start, 0, bytes);
  dma_used_ = static_cast<uint32_t>(start + bytes);
  *out = w7::DmaRegion{mirror_.get() + start, dma_gpa_ + start};
  return true;
}

void QtestOsServices::log(w7::LogLevel level, const char* message, const uint64_t* args,
                          uint8_t num_args) {
  static constexpr const char* kLevels[] = {"error", "warning", "info", "trace"};
  std::string line = kLevels[static_cast<int>(level) & 3];
  line += ": ";
  line += message != nullptr ? message : "";
  const uint8_t n = num_args < kMaxLogArgs ? num_args : kMaxLogArgs;
  for (uint8_t i = 0; args != nullptr && i < n; ++i) {
    char buf[24];
    std::snprintf(buf, sizeof buf, " 0x%llx", static_cast<unsigned long long>(args[i]));
    line += buf;
  }
  log_.push_back(std::move(line));
}

}  // namespace aerov::conformance::qtest
