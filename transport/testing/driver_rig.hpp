// The machine every device-side test rig builds on: guest RAM below and
// above 4 GiB, a PCI bus with one virtio-pci function, a recorded INTx line
// and MSI sink, firmware enumeration, and the driver end (VirtioPciDriver
// over ModelPciAccess). Driver and device meet only through config space,
// BAR0 MMIO, guest memory and interrupts.
//
// A device rig derives from DriverRig, builds its device model and plugs it
// in (plug()); DriverRig then does what is the same for every device: the
// STAT-3 bring-up with one ring per queue (a real DriverQueue, or a raw
// RingBuilder ring written descriptor by descriptor: a hostile driver),
// chains tagged by slot, raw chains and tables, and guest memory and BAR0
// peek/poke. The device rig keeps only what is specific to its device.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "drivers/host/model_pci_access.hpp"
#include "model/irq/intx_line.hpp"
#include "model/irq/msi_message.hpp"
#include "model/memory/guest_memory.hpp"
#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_enumerator.hpp"
#include "transport/device/virtio_pci_function.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "transport/virtio_pci_regs.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace aerov::transport::testing {

// How bring_up() lays out one queue.
struct QueuePlan {
  uint64_t ring_gpa = 0;
  bool raw = false;                 // a RingBuilder ring instead of a DriverQueue
  uint64_t raw_scratch_bytes = 0;   // RingBuilder scratch after the ring
  uint64_t indirect_gpa = 0;        // DriverQueue indirect pool (indirect_max != 0)...
  uint64_t indirect_end = 0;        // ...which must end by here
  uint16_t indirect_max = 0;        // entries per indirect table (0: none)
  uint16_t vector = kNoVector;      // queue_msix_vector
};

// A descriptor for raw_chain() / raw_table(): NEXT is added by them.
struct RawDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;  // kDescFWrite, kDescFIndirect
};

// One chain the driver took back: its slot and used.len.
struct UsedSlot {
  uint16_t slot;
  uint32_t len;
};

class DriverRig {
 public:
  static constexpr uint64_t kRamBytes = 64ull << 20;
  static constexpr uint64_t kHighRam = 1ull << 32;

  DriverRig(const DriverRig&) = delete;
  DriverRig& operator=(const DriverRig&) = delete;

  // ---- driver end -----------------------------------------------------------
  // The driver attaches (strict capability parse) and resets the device:
  // where bring_up() starts, and where a hostile driver takes over.
  TransportError attach_and_reset();
  // attach (strict), reset, negotiate `wanted`, program queue q per plans[q],
  // DRIVER_OK (STAT-3, DRV-1).
  TransportError bring_up(uint64_t wanted, std::span<const QueuePlan> plans);
  // queue_size, ring in guest memory, setup_queue: one queue of bring_up().
  TransportError setup_queue(uint16_t q, const QueuePlan& plan);

  // Chains on the DriverQueue of queue q, tagged with a slot (< the slot
  // count given at construction).
  virtqueue::DriverStatus add_chain(uint16_t q, uint16_t slot, std::span<const virtqueue::Segment> segs);
  // Publishes and rings q's doorbell if the device wants it.
  void kick(uint16_t q);
  // Every chain of q the driver can take back now.
  std::vector<UsedSlot> take_used(uint16_t q);
  // After a reset: the slots of every chain of q still outstanding.
  std::vector<uint16_t> detach_unused(uint16_t q);

  // ---- raw rings (QueuePlan::raw) -------------------------------------------
  // Writes descs at descriptor indices first, first+1, ... linked by NEXT,
  // makes `first` available on q and rings its doorbell unless notify is false.
  uint16_t raw_chain(uint16_t q, std::span<const RawDesc> descs, uint16_t first = 0,
                     bool notify = true);
  // Writes an indirect table in q's scratch memory (entries linked by NEXT).
  uint64_t raw_table(uint16_t q, std::span<const RawDesc> descs);
  std::optional<virtqueue::VirtqUsedElem> raw_used(uint16_t q, uint16_t position) const;

  // ---- host side ------------------------------------------------------------
  bool needs_reset() { return driver.needs_reset(); }
  std::vector<uint8_t> peek(uint64_t gpa, uint64_t len) const;
  void poke(uint64_t gpa, std::span<const uint8_t> bytes);
  void fill(uint64_t gpa, uint8_t byte, uint64_t len);
  // Device config bytes through the driver's generation-checked read.
  std::vector<uint8_t> read_config(uint32_t offset, uint32_t len);
  // BAR0 register accesses as a (possibly hostile) driver makes them.
  uint32_t bar0_read(uint32_t offset, uint8_t width) { return pci->mmio_read(0, offset, width); }
  void bar0_write(uint32_t offset, uint8_t width, uint32_t value) {
    pci->mmio_write(0, offset, width, value);
  }
  uint64_t bar0_address() const { return enumeration.functions[0].bars[0].address; }
  bool intx_level() const { return intx.level(); }

  model::GuestMemory memory;
  model::pci::PciBus bus;
  model::irq::IntxLine intx;
  std::vector<bool> intx_levels;               // every level change, in order
  std::function<void(bool)> on_intx;           // called on every level change, after recording
  std::vector<model::irq::MsiMessage> msis;    // every delivered message
  std::unique_ptr<VirtioPciFunction> function;
  model::pci::Enumeration enumeration;
  std::optional<drivers::host::ModelPciAccess> pci;  // set once enumerated
  VirtioPciDriver driver;
  uint64_t features = 0;
  // One per queue, never resized: the DriverQueue, or the raw ring when
  // its plan says raw.
  std::vector<virtqueue::DriverQueue> queues;
  std::vector<std::optional<virtqueue::testing::RingBuilder>> raw_rings;

 protected:
  // `name` prefixes every failure ("blk rig: ..."); slots[q] is how many
  // chains add_chain() can tag on queue q, and slots.size() the queue count.
  DriverRig(std::string name, std::vector<uint16_t> slots);
  ~DriverRig() = default;

  // Builds the function around `device` and attaches it at `bdf`; unless
  // enumerate is false, firmware enumerates the bus (64-bit BARs above
  // 4 GiB) and pci is set.
  void plug(VirtioDevice& device, const PciIdentity& identity, model::pci::Bdf bdf,
            uint16_t msix_vectors = 0, bool enumerate = true);
  // Throws std::runtime_error("<name>: what") unless ok.
  void require(bool ok, const char* what) const;

 private:
  std::string name_;
  std::vector<std::vector<virtqueue::DescState>> states_;
  std::vector<std::vector<uint8_t>> cookies_;  // &cookies_[q][slot] is a chain's cookie
};

}  // namespace aerov::transport::testing
