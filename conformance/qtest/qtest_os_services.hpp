// OsServices for a driver core driving a device inside QEMU over qtest:
// what firmware and Windows PnP would do (find the function, size and
// place its BARs, enable decoding and bus mastering) and what the core
// asks of the OS at run time (config space, BAR MMIO, DMA memory).
//
// Configuration space is reached as on any PC: the address in 0xCF8, the
// data at 0xCFC + (offset & 3). BARs sit where this class put them;
// mmio_read/mmio_write become readb..readl/writeb..writel at BAR base +
// offset.
//
// DMA memory is the awkward part: the cores write rings and buffers
// through host pointers, but the device reads guest RAM inside another
// process. The window of guest RAM handed out by alloc_dma therefore has
// a host mirror, plus an image of what the guest is known to hold:
//   push()  sends exactly the bytes where mirror and image differ (runs
//           of them, `write`; 64-byte blocks that compare equal are
//           skipped) - done before every MMIO write, since a doorbell or
//           DRIVER_OK is when the device may look. Never whole blocks: a
//           byte the core did not touch may be stale in the mirror because
//           the device wrote it since the last pull (blk status bytes sit
//           side by side; sending a block undid completions). The price: a
//           byte rewritten with the value the image already holds is not
//           resent, so a device that skips writing a status byte could
//           leave the previous request's value (QEMU writes every one);
//   pull()  push()es, then reads the used part of the window back in one
//           `read` (one request, so the snapshot is consistent with the
//           device's own ordering). For INTx the harness arms
//           pull_after_next_mmio_read() before calling the core's
//           interrupt(): its first access is the read-to-acknowledge ISR
//           read, and the snapshot must be taken after it - one taken
//           before would miss a completion the ISR read acknowledged, and
//           with the line low nothing would ever deliver it.
// The device never writes what the driver is still writing (the ring
// protocol hands each byte to one side at a time), so whole-window
// copies cannot lose an update.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "conformance/qtest/qtest_client.hpp"
#include "drivers/windows7/common/os_services.hpp"

namespace aerov::conformance::qtest {

struct FoundFunction {
  uint8_t device;  // slot on bus 0 (function 0)
  uint16_t device_id;
  uint8_t revision;
};

class QtestOsServices final : public drivers::windows7::OsServices {
 public:
  static constexpr uint32_t kSyncBlockBytes = 64;  // compared at once; sent byte-exact
  static constexpr uint64_t kMmioWindowBase = 0xC000'0000;  // pc: inside the PCI hole below 4 GiB
  static constexpr uint16_t kIoWindowBase = 0xC000;

  // Scans bus 0 for vendor 0x1AF4 with `device_id`; throws if absent.
  static FoundFunction find(QtestClient& qt, uint16_t device_id);

  // `dma_gpa`/`dma_bytes`: guest RAM nothing else uses (page aligned).
  QtestOsServices(QtestClient& qt, uint8_t device, uint64_t dma_gpa, uint32_t dma_bytes);

  // Sizes every BAR, assigns naturally aligned addresses from the windows
  // above and enables memory, I/O and bus mastering in Command.
  void assign_resources();
  uint64_t bar_address(uint8_t bar) const { return bars_[bar].address; }
  // What firmware does for INTx on the pc machine: routes PIRQA..D in the
  // PIIX3 (00:01.0, registers 0x60..0x63) to ISA IRQ `irq` and writes it
  // to the function's Interrupt Line. With `irq_intercept_in ioapic` the
  // line's level then arrives as "IRQ raise/lower <irq>".
  void route_intx(uint8_t irq);

  void push();
  void pull();
  // One-shot: the next mmio_read() pull()s after reading.
  void pull_after_next_mmio_read() { pull_armed_ = true; }

  // PciAccess.
  uint32_t config_read(uint16_t offset, uint8_t width) override;
  void config_write(uint16_t offset, uint8_t width, uint32_t value) override;
  uint32_t mmio_read(uint8_t bar, uint32_t offset, uint8_t width) override;
  void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) override;
  bool bar_info(uint8_t bar, transport::BarInfo* out) override;
  void lock() override { ++lock_depth_; }
  void unlock() override { --lock_depth_; }
  void stall_us(uint32_t) override {}

  // OsServices.
  bool alloc_dma(uint32_t bytes, uint32_t alignment, drivers::windows7::DmaRegion* out) override;
  void log(drivers::windows7::LogLevel level, const char* message, const uint64_t* args,
           uint8_t num_args) override;

  const std::vector<std::string>& log_lines() const { return log_; }
  uint64_t pushes() const { return pushes_; }
  uint64_t pushed_bytes() const { return pushed_bytes_; }
  uint64_t pulls() const { return pulls_; }

 private:
  struct Bar {
    uint64_t address = 0;
    uint64_t size = 0;
    bool memory = false;
    bool is_64bit = false;
  };
  void select(uint16_t offset);

  QtestClient& qt_;
  uint8_t device_;
  uint64_t dma_gpa_;
  uint32_t dma_bytes_;
  uint32_t dma_used_ = 0;
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t[], FreeDeleter> mirror_;  // what the core sees
  std::vector<uint8_t> image_;                      // what the guest holds
  Bar bars_[6];
  int lock_depth_ = 0;
  bool pull_armed_ = false;
  std::vector<std::string> log_;
  uint64_t pushes_ = 0;
  uint64_t pushed_bytes_ = 0;
  uint64_t pulls_ = 0;
};

}  // namespace aerov::conformance::qtest
