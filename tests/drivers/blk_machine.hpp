// A one-disk machine for the Windows 7 blk core tests: guest RAM below and
// above 4 GiB, a PCI bus with the real virtio-blk device model on the real
// virtio-pci transport, an INTx line, firmware enumeration, ModelOsServices
// (DMA memory from a window above 4 GiB) and a BlkCore. Driver core and
// device meet only through config space, BAR0, guest memory and INTx.
//
// A MaskedDevice sits between the transport and BlkDevice so a test can
// hide features (e.g. INDIRECT_DESC) the real device offers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "drivers/host/model_os_services.hpp"
#include "drivers/windows7/common/blk_core.hpp"
#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "model/irq/intx_line.hpp"
#include "model/memory/guest_memory.hpp"
#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_enumerator.hpp"
#include "transport/device/virtio_pci_function.hpp"

namespace aerov::drivers::testing {

namespace w7 = windows7;

class MaskedDevice final : public transport::VirtioDevice {
 public:
  MaskedDevice(transport::VirtioDevice& inner, uint64_t hide) : inner_(inner), hide_(hide) {}
  uint16_t device_type() const override { return inner_.device_type(); }
  uint64_t device_features() const override { return inner_.device_features() & ~hide_; }
  uint16_t num_queues() const override { return inner_.num_queues(); }
  uint16_t queue_size(uint16_t q) const override { return inner_.queue_size(q); }
  uint64_t config_read(uint32_t offset, unsigned width) override {
    return inner_.config_read(offset, width);
  }
  void config_write(uint32_t offset, unsigned width, uint64_t value) override {
    inner_.config_write(offset, width, value);
  }
  void activate(transport::DeviceTransport& t) override { inner_.activate(t); }
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override { inner_.queue_notify(q, t); }
  void reset() override { inner_.reset(); }

 private:
  transport::VirtioDevice& inner_;
  uint64_t hide_;
};

struct BlkMachineOptions {
  uint64_t disk_sectors = 8192;
  uint32_t seg_max = 126;
  // Wrap the RamDisk in a FaultyDisk (no write cache, so the RamDisk holds
  // every completed write) for latency, reordering and injected errors.
  bool faulty = false;
  model::backends::FaultyDiskOptions faulty_options{};
  uint64_t hide_features = 0;
  uint16_t pending_capacity = 512;
  bool init = true;
};

// One request the test owns: the BlkRequest and its SG list.
struct TestRequest {
  w7::BlkRequest req{};
  std::vector<w7::BlkSgElement> sg;
  std::vector<uint8_t> data;  // what a write wrote / what a read must return
  int completions = 0;
  w7::BlkResult result = w7::BlkResult::kSuccess;
};

class BlkMachine {
 public:
  static constexpr uint64_t kRamBytes = 64ull << 20;
  static constexpr uint64_t kHighRam = 1ull << 32;
  static constexpr uint64_t kDmaWindow = kHighRam;         // core's DMA memory
  static constexpr uint64_t kDmaWindowBytes = 4ull << 20;
  static constexpr model::pci::Bdf kBdf{0, 5, 0};

  explicit BlkMachine(const BlkMachineOptions& options = {});
  BlkMachine(const BlkMachine&) = delete;
  BlkMachine& operator=(const BlkMachine&) = delete;

  w7::BlkError init();

  // Runs the device (backend latency) and the interrupt handler until
  // nothing changes; at most max_rounds rounds.
  void service(int max_rounds = 100000);
  // One interrupt if the line is up.
  bool interrupt_if_asserted();

  // Guest buffers for data: alternating low and high RAM (DMA-2).
  uint64_t alloc_buffer(uint64_t bytes);
  // A request whose data lies in pieces of the given lengths, each in its
  // own buffer; a write's data is random (from seed) and copied to guest RAM.
  TestRequest& make(w7::BlkOp op, uint64_t sector, std::vector<uint32_t> piece_lengths,
                    uint32_t seed = 1);
  TestRequest& make_flush();
  w7::BlkError submit(TestRequest& r) { return core.submit(&r.req); }
  // The bytes a read request's buffers hold now.
  std::vector<uint8_t> buffer_bytes(const TestRequest& r) const;
  std::vector<uint8_t> disk_bytes(uint64_t sector, uint64_t count);

  // Where the core's ring and status bytes live (its DMA allocations).
  uint64_t ring_pa() const { return os->allocations().at(0).pa; }
  uint64_t used_pa() const;
  uint64_t status_pa(uint16_t slot) const;
  uint16_t used_idx() const;
  void poke_used(uint16_t position, uint32_t id, uint32_t len);

  model::GuestMemory memory;
  model::irq::IntxLine intx;
  model::pci::PciBus bus;
  std::unique_ptr<model::backends::RamDisk> ram;
  std::unique_ptr<model::backends::FaultyDisk> faulty;
  std::unique_ptr<model::devices::BlkDevice> device;
  std::unique_ptr<MaskedDevice> masked;
  std::unique_ptr<transport::VirtioPciFunction> function;
  model::pci::Enumeration enumeration;
  std::optional<host::ModelOsServices> os;
  w7::BlkCore core;
  std::vector<w7::BlkRequest*> pending;
  std::deque<TestRequest> requests;        // stable addresses
  std::vector<TestRequest*> completion_order;
  uint64_t stray_completions = 0;          // callbacks for unknown requests

 private:
  static void on_complete(void* context, w7::BlkRequest* request, w7::BlkResult result);

  BlkMachineOptions options_;
  uint64_t next_low_ = 0x100000;
  uint64_t next_high_ = kHighRam + kDmaWindowBytes;
  bool high_next_ = false;
};

}  // namespace aerov::drivers::testing
