// A one-disk machine for virtio-blk tests and conformance checks: a
// DriverRig (guest RAM below and above 4 GiB, a PCI bus, a recorded INTx
// line, firmware enumeration, the driver end) whose virtio-pci function
// holds a BlkDevice. The driver and the device meet only through config
// space, BAR0 MMIO, guest memory and the interrupt line.
//
// Two ways to post requests:
//   * the real driver ring (DriverQueue): submit() / kick() / reap(), or
//     run() for one request start to finish;
//   * a raw ring written descriptor by descriptor (RingBuilder, a hostile
//     driver): raw_chain() / raw_table() and raw_used().
// Either way the doorbell is the driver's BAR0 write.
//
// Guest-physical layout: ring at kRingGpa, the driver's indirect pool at
// kIndirectGpa, one 32-byte slot per request (16-byte header at +0, status
// byte at +16) from kSlotGpa, and free space for data buffers from
// kDataGpa up to kRamBytes and from kHighRam up to kHighRam + kRamBytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "model/backends/disk/disk_backend.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "transport/testing/driver_rig.hpp"

namespace aerov::model::devices::testing {

struct BlkRigOptions {
  uint64_t disk_sectors = 4096;                // the rig's own RamDisk...
  backends::DiskBackend* backend = nullptr;    // ...unless this is set (kept alive by the caller)
  BlkDeviceOptions device{};
  bool raw_ring = false;       // program a RingBuilder ring instead of a DriverQueue
  uint16_t indirect_max = 0;   // DriverQueue indirect tables of this many entries (0: none)
  bool negotiate_indirect = true;
  bool bring_up = true;        // bring the device up in the constructor
};

// One completed request as the driver sees it.
struct BlkResult {
  bool completed = false;
  uint8_t status = 0;  // the byte in the request's status slot
  uint32_t used_len = 0;
};

// A descriptor for raw_chain(): NEXT is added by raw_chain itself.
using RawDesc = transport::testing::RawDesc;

class BlkRig : public transport::testing::DriverRig {
 public:
  static constexpr uint64_t kRingGpa = 0x10000;
  static constexpr uint64_t kRawScratchBytes = 0x20000;
  static constexpr uint64_t kIndirectGpa = 0x40000;  // 128 tables of up to 128 entries
  static constexpr uint64_t kSlotGpa = 0x80000;
  static constexpr uint64_t kSlotBytes = 32;
  static constexpr uint64_t kDataGpa = 0x100000;
  static constexpr uint8_t kStatusUnwritten = 0xEE;  // status slots start with this
  static constexpr model::pci::Bdf kBdf{0, 4, 0};

  explicit BlkRig(const BlkRigOptions& options = {});

  // attach, reset, negotiate, program the queue, DRIVER_OK (STAT-3, DRV-1).
  transport::TransportError bring_up();
  // STAT-4 recovery: reset the device, detach every outstanding request,
  // bring it up again. Returns the slots that never completed.
  std::vector<uint16_t> recover();

  // ---- requests through the real driver ring ------------------------------
  uint64_t header_addr(uint16_t slot) const { return kSlotGpa + kSlotBytes * slot; }
  uint64_t status_addr(uint16_t slot) const { return header_addr(slot) + 16; }
  void write_header(uint16_t slot, uint32_t type, uint64_t sector, uint32_t ioprio = 0);
  uint8_t status(uint16_t slot) const;

  // Header (slot), data segments, status (slot) as one chain; not yet
  // published. slot < 128 and not in flight.
  virtqueue::DriverStatus submit(uint16_t slot, uint32_t type, uint64_t sector,
                                 std::span<const virtqueue::Segment> data);
  // Any chain at all, for shapes submit() does not build; the cookie is slot.
  virtqueue::DriverStatus submit_segments(uint16_t slot, std::span<const virtqueue::Segment> segs);
  // Publishes and rings the doorbell if the device wants it.
  void kick();
  // Every completion the driver can take now: (slot, result).
  std::vector<std::pair<uint16_t, BlkResult>> reap();
  // Keeps serving (process_queue) until nothing is in flight in the device,
  // for backends that complete later; at most max_rounds rounds.
  void settle(int max_rounds = 10000);
  // One request start to finish in slot 0.
  BlkResult run(uint32_t type, uint64_t sector, std::span<const virtqueue::Segment> data);
  BlkResult run_segments(std::span<const virtqueue::Segment> segs);
  uint8_t read(uint64_t sector, uint64_t gpa, uint32_t bytes);
  uint8_t write(uint64_t sector, uint64_t gpa, uint32_t bytes);
  uint8_t flush();

  // ---- requests through a raw ring (options.raw_ring) ---------------------
  // Writes descs at descriptor indices first, first+1, ... linked by NEXT,
  // makes `first` available and rings the doorbell unless notify is false.
  uint16_t raw_chain(std::span<const RawDesc> descs, uint16_t first = 0, bool notify = true) {
    return DriverRig::raw_chain(0, descs, first, notify);
  }
  // Writes an indirect table in scratch memory (entries linked by NEXT).
  uint64_t raw_table(std::span<const RawDesc> descs) { return DriverRig::raw_table(0, descs); }
  std::optional<virtqueue::VirtqUsedElem> raw_used(uint16_t position) const {
    return DriverRig::raw_used(0, position);
  }
  uint16_t raw_used_idx() const { return raw->used_idx(); }
  void notify() { driver.notify(0); }

  // ---- host side (and DriverRig's peek/poke/fill) --------------------------
  // The backend's contents (no request may be in flight in it).
  std::vector<uint8_t> disk_bytes(uint64_t sector, uint64_t count);
  void set_disk_bytes(uint64_t sector, std::span<const uint8_t> bytes);

  std::unique_ptr<backends::RamDisk> ram_disk;
  backends::DiskBackend* disk = nullptr;
  std::unique_ptr<BlkDevice> device;
  // Driver ring, or the raw ring when options.raw_ring.
  virtqueue::DriverQueue& queue = queues[0];
  std::optional<virtqueue::testing::RingBuilder>& raw = raw_rings[0];

 private:
  BlkRigOptions options_;
  std::vector<virtqueue::Segment> scratch_segs_;
};

}  // namespace aerov::model::devices::testing
