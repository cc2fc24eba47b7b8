// A one-disk CoreMachine for the Windows 7 blk core tests: the real
// virtio-blk device model on a RamDisk (optionally behind a FaultyDisk) and
// a BlkCore.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "drivers/windows7/common/blk_core.hpp"
#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "drivers/host/testing/core_machine.hpp"

namespace aerov::drivers::testing {

namespace w7 = windows7;
using host::testing::CoreMachine;

struct BlkMachineOptions {
  uint64_t disk_sectors = 8192;
  uint32_t seg_max = 126;
  // Wrap the RamDisk in a FaultyDisk (no write cache, so the RamDisk holds
  // every completed write) for latency, reordering and injected errors.
  bool faulty = false;
  model::backends::FaultyDiskOptions faulty_options{};
  uint64_t hide_features = 0;
  uint16_t pending_capacity = 512;
  // MSI-X (IRQ-4): table entries of the function (0: no capability), and
  // messages the platform grants before init (programmed and enabled when
  // the function has the capability).
  uint16_t msix_vectors = 0;
  uint16_t grant_messages = 0;
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

class BlkMachine : public CoreMachine {
 public:
  explicit BlkMachine(const BlkMachineOptions& options = {});
  BlkMachine(const BlkMachine&) = delete;
  BlkMachine& operator=(const BlkMachine&) = delete;

  w7::BlkError init();

  // Runs the device (backend latency) and the interrupt handlers until
  // nothing changes; at most max_rounds rounds. Recorded MSI-X messages go
  // to core.message_interrupt(data); an asserted INTx line to interrupt().
  void service(int max_rounds = 100000);
  // One interrupt if the line is up.
  bool interrupt_if_asserted();
  // Hands every recorded MSI-X message to the core; how many there were.
  int deliver_messages();

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

  std::unique_ptr<model::backends::RamDisk> ram;
  std::unique_ptr<model::backends::FaultyDisk> faulty;
  std::unique_ptr<model::devices::BlkDevice> device;
  w7::BlkCore core;
  std::vector<w7::BlkRequest*> pending;
  std::deque<TestRequest> requests;        // stable addresses
  std::vector<TestRequest*> completion_order;
  uint64_t stray_completions = 0;          // callbacks for unknown requests

 private:
  static void on_complete(void* context, w7::BlkRequest* request, w7::BlkResult result);

  BlkMachineOptions options_;
};

}  // namespace aerov::drivers::testing
