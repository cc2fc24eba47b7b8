// virtio-pci transport, both ends (contract sections 1-4, VER-1, DRV-1/2).
// Identity checks read config space of a function built for every contract
// device; behaviour checks run the driver end (VirtioPciDriver over
// ModelPciAccess) or raw register accesses (a hostile driver) against the
// device end (VirtioPciFunction with a loopback device).
#include <cstring>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/suites/suites.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "transport/testing/scenario_text.hpp"
#include "transport/testing/virtio_pci_rig.hpp"
#include "transport/virtio_pci_regs.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::conformance {
namespace {

using namespace aerov::transport;
using testing::hex;
using testing::RigOptions;
using testing::VirtioPciRig;
namespace vq = aerov::virtqueue;

constexpr uint64_t kVersion1 = 1ull << vq::kFVersion1;
constexpr uint64_t kIndirect = 1ull << vq::kFRingIndirectDesc;

// ---- PCI identity (PCI-1..7) for every contract device and function ------

Outcome identity() {
  Outcome out;
  for (const auto& dev : contract::kDevices) {
    for (uint8_t f = 0; f < dev.num_functions; ++f) {
      testing::LoopbackDevice stub({8}, kVersion1);
      model::GuestMemory mem;
      const PciIdentity id = contract_identity(dev, dev.functions[f].function);
      VirtioPciFunction fn(stub, mem, id);
      const auto& c = fn.config();
      const std::string where = std::string(dev.name) + " function " +
                                std::to_string(dev.functions[f].function);
      out.expect(c.u16(reg::kVendorId) == 0x1AF4 && c.u16(reg::kSubsystemVendorId) == 0x1AF4,
                 where + ": vendor IDs (PCI-1)");
      out.expect(c.u16(reg::kDeviceId) == 0x1040 + dev.virtio_type && c.u16(reg::kDeviceId) >= 0x1040,
                 where + ": device ID " + hex(c.u16(reg::kDeviceId)) + " (PCI-2)");
      out.expect(c.u8(reg::kRevisionId) == 0x01, where + ": revision (PCI-3)");
      out.expect(c.u16(reg::kSubsystemId) == dev.functions[f].subsystem_id,
                 where + ": subsystem ID (PCI-4)");
      out.expect(c.u8(reg::kInterruptPin) == 1 && (c.u16(reg::kStatus) & reg::kStatusCapabilitiesList) != 0 &&
                     c.u8(reg::kCapabilitiesPointer) >= 0x40,
                 where + ": interrupt pin / capability list (PCI-5)");
      const bool multi = (c.u8(reg::kHeaderType) & 0x80) != 0;
      out.expect(multi == (dev.num_functions > 1 && dev.functions[f].function == 0),
                 where + ": multi-function bit (PCI-6)");
      out.expect(c.u8(reg::kProgIf) == dev.class_prog_if &&
                     c.u8(reg::kProgIf + 1) == dev.class_sub &&
                     c.u8(reg::kProgIf + 2) == dev.class_base,
                 where + ": class code (PCI-7)");
    }
  }
  return out;
}

// ---- BAR0 (BAR-1..4) -------------------------------------------------------

Outcome bar0_shape() {
  Outcome out;
  VirtioPciRig rig;
  const auto& f = rig.enumeration.functions[0];
  out.expect(f.bars.size() == 1 && f.bars[0].index == 0 && f.bars[0].is_64bit &&
                 f.bars[0].size == 0x4000,
             "BAR0 must be the only BAR, 64-bit memory, 0x4000 bytes (BAR-1)");
  for (uint16_t bar = 2; bar < 6; ++bar) {
    out.expect(rig.bus.config_read(VirtioPciRig::kBdf, reg::kBar0 + 4 * bar, 4) == 0,
               "BAR" + std::to_string(bar) + " must read 0 (no other BAR, no I/O BAR)");
  }
  VirtioPciDriver drv;
  out.expect(drv.attach(*rig.pci, ValidationMode::kStrict, 1) == TransportError::kNone,
             std::string("strict capability parse failed: ") + to_string(drv.cap_error()));
  return out;
}

Outcome undefined_offsets_read_zero() {
  Outcome out;
  VirtioPciRig d;
  out.expect(d.bring_up() == TransportError::kNone, "bring-up");
  const uint32_t probes[] = {0x0038, 0x00FC, 0x0100, 0x0800, 0x0FFC, 0x1100, 0x17FC,
                             0x2004, 0x2020, 0x2FFC, 0x3100, 0x3FFC};
  for (uint32_t off : probes) {
    for (uint8_t w : {1, 2, 4}) {
      d.bar0_write(off, w, 0xFFFFFFFF);
      const uint32_t v = d.bar0_read(off, w);
      out.expect(v == 0, "BAR0+" + hex(off) + " width " + std::to_string(w) + " read " + hex(v));
    }
  }
  out.expect(d.echo(0, 0x1234), "device stopped working after writes to undefined offsets");
  return out;
}

Outcome command_register_gating() {
  Outcome out;
  VirtioPciRig d;
  out.expect(d.bring_up() == TransportError::kNone, "bring-up");
  const auto cmd = static_cast<uint16_t>(d.pci->config_read(reg::kCommand, 2));
  d.pci->config_write(reg::kCommand, 2, cmd & ~reg::kCommandMemorySpace);
  out.expect(d.bar0_read(common::kNumQueues, 2) == 0xFFFF,
             "BAR0 answered with Memory Space off (BAR-4)");
  d.pci->config_write(reg::kCommand, 2, cmd & ~reg::kCommandBusMaster);
  const uint32_t served = d.device.served();
  d.echo(0, 7);
  out.expect(d.device.served() == served, "device did DMA with Bus Master off (BAR-4)");
  d.pci->config_write(reg::kCommand, 2, cmd);
  d.driver.notify(0);
  vq::UsedBuffer u{};
  out.expect(d.queues[0].get_used(&u) == vq::DriverStatus::kOk,
             "the pending request was not served once Bus Master was back");
  return out;
}

// ---- Common configuration (CFG, FEAT, STAT, Q) ----------------------------

Outcome feature_windows() {
  Outcome out;
  VirtioPciRig d;
  d.attach_and_reset();
  d.bar0_write(common::kDeviceFeatureSelect, 4, 1);
  out.expect(d.bar0_read(common::kDeviceFeature, 4) == (kVersion1 >> 32),
             "feature word 1 must hold VERSION_1");
  d.bar0_write(common::kDeviceFeatureSelect, 4, 2);
  out.expect(d.bar0_read(common::kDeviceFeature, 4) == 0, "feature select 2 must read 0 (CFG-2)");
  d.bar0_write(common::kDriverFeatureSelect, 4, 2);
  d.bar0_write(common::kDriverFeature, 4, 0xFFFFFFFF);
  d.bar0_write(common::kDriverFeatureSelect, 4, 0);
  out.expect(d.bar0_read(common::kDriverFeature, 4) == 0,
             "a write through driver feature select 2 landed somewhere (CFG-2)");
  return out;
}

Outcome features_ok_refusal() {
  Outcome out;
  const auto attempt = [](uint64_t features) {
    VirtioPciRig d;
    d.attach_and_reset();
    d.bar0_write(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver);
    for (uint32_t w = 0; w < 2; ++w) {
      d.bar0_write(common::kDriverFeatureSelect, 4, w);
      d.bar0_write(common::kDriverFeature, 4, static_cast<uint32_t>(features >> (32 * w)));
    }
    d.bar0_write(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    return (d.bar0_read(common::kDeviceStatus, 1) & kStatusFeaturesOk) != 0;
  };
  out.expect(attempt(kVersion1 | kIndirect), "valid features were refused");
  out.expect(!attempt(kVersion1 | (1ull << vq::kFRingEventIdx)),
             "FEATURES_OK accepted with EVENT_IDX, which is not offered (FEAT-2)");
  out.expect(!attempt(kIndirect), "FEATURES_OK accepted without VERSION_1 (FEAT-2)");
  VirtioPciRig d;
  out.expect(d.bring_up() == TransportError::kNone && (d.features & kVersion1) != 0,
             "the driver must always accept VERSION_1 (FEAT-1)");
  return out;
}

Outcome queue_select_out_of_range() {
  Outcome out;
  VirtioPciRig d;
  d.attach_and_reset();
  d.bar0_write(common::kQueueSelect, 2, 2);  // the rig has queues 0 and 1
  d.bar0_write(common::kQueueDesc, 4, 0x1000);
  d.bar0_write(common::kQueueEnable, 2, 1);
  out.expect(d.bar0_read(common::kQueueSize, 2) == 0 && d.bar0_read(common::kQueueNotifyOff, 2) == 0,
             "queue_size/queue_notify_off must read 0 past num_queues (CFG-3)");
  out.expect(d.bar0_read(common::kQueueDesc, 4) == 0 && d.bar0_read(common::kQueueEnable, 2) == 0,
             "writes past num_queues must be ignored (CFG-3)");
  out.expect(!d.function->queue_enabled(0) && !d.function->queue_enabled(1),
             "an out-of-range enable enabled a real queue");
  return out;
}

Outcome split_64bit_fields() {
  Outcome out;
  VirtioPciRig d;
  d.attach_and_reset();
  d.bar0_write(common::kQueueSelect, 2, 0);
  d.bar0_write(common::kQueueDesc, 4, 0x89ABCDE0);  // low then high
  d.bar0_write(common::kQueueDesc + 4, 4, 0x01234567);
  d.bar0_write(common::kQueueAvail + 4, 4, 0x00000002);  // high then low
  d.bar0_write(common::kQueueAvail, 4, 0x00001000);
  d.bus.mmio_write(d.bar0_address() + common::kQueueUsed, 8,
                   0x0000000300002000ull);  // one 8-byte access
  const auto rd64 = [&](uint32_t off) {
    return d.bar0_read(off, 4) | static_cast<uint64_t>(d.bar0_read(off + 4, 4)) << 32;
  };
  out.expect(rd64(common::kQueueDesc) == 0x0123456789ABCDE0ull, "queue_desc low/high (CFG-5)");
  out.expect(rd64(common::kQueueAvail) == 0x0000000200001000ull, "queue_avail high/low (CFG-5)");
  out.expect(rd64(common::kQueueUsed) == 0x0000000300002000ull, "queue_used 8-byte (CFG-5)");
  return out;
}

Outcome queue_programming() {
  Outcome out;
  VirtioPciRig d;
  out.expect(d.bring_up() == TransportError::kNone, "bring-up (Q-1)");
  d.bar0_write(common::kQueueSelect, 2, 0);
  const uint32_t desc = d.bar0_read(common::kQueueDesc, 4);
  d.bar0_write(common::kQueueDesc, 4, 0xDEAD0000);
  d.bar0_write(common::kQueueEnable, 2, 0);
  out.expect(d.bar0_read(common::kQueueDesc, 4) == desc,
             "queue address changed while the queue was enabled (Q-2)");
  out.expect(d.bar0_read(common::kQueueEnable, 2) == 1 && d.function->queue_enabled(0),
             "queue_enable accepted 0 (Q-2)");
  out.expect(d.echo(0, 0xA5A5) && d.echo(1, 0x5A5A), "programmed queues do not work (Q-1)");
  return out;
}

Outcome reset_clears_state() {
  Outcome out;
  VirtioPciRig d;
  d.bring_up();
  d.device.bump_counter();  // leaves ISR bit 1 pending, INTx asserted
  out.expect(d.intx_level(), "a config change did not assert INTx");
  out.expect(d.driver.reset() == TransportError::kNone, "reset did not complete");
  out.expect(!d.intx_level() && d.function->isr() == 0,
             "reset must clear pending interrupts and deassert INTx (STAT-2)");
  out.expect(!d.function->queue_enabled(0) && !d.function->queue_enabled(1) &&
                 d.function->negotiated_features() == 0 && !d.device.active(),
             "reset must disable queues and clear features (STAT-2)");
  d.bar0_write(common::kDriverFeatureSelect, 4, 0);
  out.expect(d.bar0_read(common::kDriverFeature, 4) == 0, "driver features survived reset");
  out.expect(d.bring_up() == TransportError::kNone && d.echo(0, 99),
             "the device does not come back after reset");
  return out;
}

Outcome init_order() {
  Outcome out;
  VirtioPciRig d;
  d.attach_and_reset();
  uint64_t f = 0;
  d.driver.negotiate(kIndirect, 0, &f);
  out.expect(d.function->device_status() ==
                 (kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk),
             "after negotiation the status must be ACK|DRIVER|FEATURES_OK (STAT-1, STAT-3)");
  // Program queue 0 (8 entries) but do not set DRIVER_OK: doorbells are ignored.
  d.setup_queue(0, {.ring_gpa = VirtioPciRig::kRingGpa});
  static int token;
  const vq::Segment seg{0x300000, 4, false};
  d.queues[0].add(&seg, 1, &token);
  d.queues[0].publish();
  d.driver.notify(0);
  out.expect(d.device.served() == 0, "a doorbell before DRIVER_OK was served (STAT-3)");
  d.driver.driver_ok();
  d.driver.notify(0);
  out.expect(d.device.served() == 1, "the doorbell after DRIVER_OK was not served");
  return out;
}

Outcome needs_reset_on_ring_corruption() {
  Outcome out;
  VirtioPciRig d;
  d.bring_up();
  // The "driver" corrupts its avail ring: avail.idx far ahead (VQ-8).
  d.memory.write_obj(d.queues[0].avail_pa() + 2, uint16_t{100});
  d.driver.notify(0);
  out.expect(d.driver.needs_reset(), "ring corruption did not set DEVICE_NEEDS_RESET (STAT-4)");
  out.expect((d.function->isr() & kIsrConfig) != 0 && d.intx_level(),
             "DEVICE_NEEDS_RESET must raise a config interrupt (STAT-4)");
  d.driver.notify(1);
  out.expect(d.device.served() == 0, "a device needing reset kept serving");
  out.expect(d.bring_up() == TransportError::kNone && !d.driver.needs_reset() && d.echo(0, 3),
             "reset and re-init did not recover the device");
  return out;
}

Outcome selector_lock() {
  // CFG-1: the driver holds its per-device lock across every select/access
  // pair. A recording PciAccess notes the lock depth at each selector write.
  struct Recording final : PciAccess {
    explicit Recording(PciAccess& inner) : in(inner) {}
    PciAccess& in;
    int depth = 0;
    int unlocked_selector_writes = 0;
    uint32_t config_read(uint16_t o, uint8_t w) override { return in.config_read(o, w); }
    void config_write(uint16_t o, uint8_t w, uint32_t v) override { in.config_write(o, w, v); }
    uint32_t mmio_read(uint8_t b, uint32_t o, uint8_t w) override { return in.mmio_read(b, o, w); }
    void mmio_write(uint8_t b, uint32_t o, uint8_t w, uint32_t v) override {
      const bool selector = b == 0 && (o == common::kDeviceFeatureSelect ||
                                       o == common::kDriverFeatureSelect || o == common::kQueueSelect);
      if (selector && depth == 0) ++unlocked_selector_writes;
      in.mmio_write(b, o, w, v);
    }
    bool bar_info(uint8_t b, BarInfo* i) override { return in.bar_info(b, i); }
    void lock() override { ++depth; }
    void unlock() override { --depth; }
    void stall_us(uint32_t) override {}
  };
  Outcome out;
  VirtioPciRig rig;
  Recording rec(*rig.pci);
  VirtioPciDriver drv;
  drv.attach(rec, ValidationMode::kStrict, 1);
  drv.reset();
  uint64_t f = 0;
  drv.negotiate(kIndirect, 0, &f);
  uint16_t size = 0;
  drv.queue_size(0, &size);
  drv.setup_queue(0, 0x100000, 0x101000, 0x102000, kNoVector);
  out.expect(rec.unlocked_selector_writes == 0 && rec.depth == 0,
             std::to_string(rec.unlocked_selector_writes) +
                 " selector writes happened outside the device lock (CFG-1)");
  return out;
}

// ---- Notify, ISR, interrupts ------------------------------------------------

Outcome doorbells() {
  Outcome out;
  VirtioPciRig d;
  d.bring_up();
  for (uint16_t q = 0; q < 2; ++q) {
    d.bar0_write(common::kQueueSelect, 2, q);
    out.expect(d.bar0_read(common::kQueueNotifyOff, 2) == q, "queue_notify_off != q (NTF-1)");
  }
  // 32-bit doorbell write (the driver itself writes 16 bits).
  static int token;
  const uint64_t in = 0x300000, outb = 0x300100;
  const vq::Segment segs[2] = {{in, 4, false}, {outb, 4, true}};
  d.queues[1].add(segs, 2, &token);
  d.queues[1].publish();
  d.bar0_write(bar0::kNotifyOffset + 4, 4, 1);
  vq::UsedBuffer u{};
  out.expect(d.queues[1].get_used(&u) == vq::DriverStatus::kOk, "32-bit doorbell ignored (NTF-2)");
  out.expect(d.echo(0, 1), "16-bit doorbell ignored (NTF-2)");
  const uint32_t served = d.device.served();
  for (uint32_t off : {2u, 8u, 0x40u, 0xFCu}) d.bar0_write(bar0::kNotifyOffset + off, 2, 0);
  out.expect(d.device.served() == served && !d.driver.needs_reset() && d.echo(0, 2),
             "doorbells of nonexistent queues changed state (NTF-3)");
  return out;
}

Outcome isr_and_intx() {
  Outcome out;
  VirtioPciRig d;
  d.bring_up();
  out.expect(!d.intx_level(), "INTx asserted with nothing pending");
  out.expect(d.echo(0, 5), "request failed");
  out.expect(d.intx_level(), "used buffers did not assert INTx (IRQ-1, IRQ-2)");
  d.device.bump_counter();
  const uint8_t isr = d.driver.read_isr();
  out.expect(isr == (kIsrQueue | kIsrConfig), "ISR read " + hex(isr) + ", expected 0x3 (ISR-1)");
  out.expect(d.driver.read_isr() == 0 && !d.intx_level(),
             "ISR read must acknowledge and deassert INTx (ISR-2, IRQ-1)");
  out.expect(d.function->config_generation() == 1,
             "a config change must bump config_generation (CFG-4, IRQ-3)");
  // IRQ-2 (S): suppressed while the driver sets VRING_AVAIL_F_NO_INTERRUPT.
  d.queues[0].disable_interrupts();
  out.expect(d.echo(0, 6) && d.driver.read_isr() == 0 && !d.intx_level(),
             "interrupt raised although the driver suppressed it (IRQ-2)");
  uint32_t counter = 0;
  out.expect(d.driver.read_device_config(0, &counter, 4) == TransportError::kNone && counter == 1,
             "device config read through the generation loop (CFG-4)");
  return out;
}

Outcome msix_exclusive() {
  Outcome out;
  RigOptions o;
  o.msix_vectors = 4;
  VirtioPciRig d(o);
  out.expect(d.bring_up(/*msix_vector=*/1) == TransportError::kNone, "bring-up");
  // Program vector 1 and enable MSI-X: the OS would do this.
  auto& msix_fn = *d.function;
  const uint64_t bar = d.bar0_address();
  const uint64_t entry1 = bar + VirtioPciFunction::kMsixTableOffset + 16;
  d.bus.mmio_write(entry1 + 0, 4, 0xFEE00000);
  d.bus.mmio_write(entry1 + 8, 4, 0x41);
  d.bus.mmio_write(entry1 + 12, 4, 0);  // unmask
  uint8_t cap = d.pci->config_read(reg::kCapabilitiesPointer, 1);
  while (cap != 0 && d.pci->config_read(cap, 1) != reg::kCapIdMsix) cap = d.pci->config_read(cap + 1, 1);
  out.expect(cap != 0, "no MSI-X capability");
  d.pci->config_write(cap + 2, 2, 0x8000);  // enable
  // Queue vectors were written before MSI-X was on; read back and program again.
  d.bar0_write(common::kQueueSelect, 2, 0);
  out.expect(d.bar0_read(common::kQueueMsixVector, 2) == 1, "queue_msix_vector readback");
  d.bar0_write(common::kMsixConfig, 2, kNoVector);
  const size_t before = d.msis.size();
  out.expect(d.echo(0, 8), "request failed with MSI-X on");
  out.expect(d.msis.size() == before + 1 && d.msis.back().data == 0x41 &&
                 !d.intx_level(),
             "MSI-X must deliver the queue's vector and never INTx (IRQ-4)");
  d.device.bump_counter();  // msix_config = NO_VECTOR: suppressed
  out.expect(d.msis.size() == before + 1 && !d.intx_level(),
             "a cause with vector 0xFFFF must be suppressed (IRQ-4)");
  d.bus.mmio_write(entry1 + 12, 4, 1);  // mask vector 1
  out.expect(d.echo(0, 9) && d.msis.size() == before + 1 &&
                 msix_fn.msix()->pending(1),
             "a masked vector must latch in the PBA (IRQ-4)");
  d.bus.mmio_write(entry1 + 12, 4, 0);  // unmask: delivered now
  out.expect(d.msis.size() == before + 2 && !msix_fn.msix()->pending(1),
             "the latched message must be delivered on unmask (IRQ-4)");
  return out;
}

Outcome config_generation_retry() {
  Outcome out;
  VirtioPciRig d;
  d.bring_up();
  d.device.unstable_reads = 3;  // the first three reads race a change
  uint32_t counter = 0;
  out.expect(d.driver.read_device_config(0, &counter, 4) == TransportError::kNone &&
                 counter == 3 && d.function->config_generation() == 3,
             "the driver must re-read until config_generation is stable (CFG-4)");
  d.device.unstable_reads = 1000;  // a device that never settles
  out.expect(d.driver.read_device_config(0, &counter, 4) == TransportError::kConfigUnstable,
             "an ever-changing config must end in kConfigUnstable, not a hang");
  return out;
}

// ---- Versioning and drivers -------------------------------------------------

Outcome revision_gate() {
  Outcome out;
  VirtioPciRig rig;
  VirtioPciDriver drv;
  out.expect(drv.attach(*rig.pci, ValidationMode::kStrict, 2) == TransportError::kUnknownRevision,
             "a driver built for revision 2 accepted revision 1 (VER-1)");
  out.expect(drv.attach(*rig.pci, ValidationMode::kStrict, 1) == TransportError::kNone,
             "a driver built for revision 1 refused it");
  return out;
}

Outcome driver_bring_up_intx_only() {
  Outcome out;
  VirtioPciRig d;
  out.expect(d.bring_up() == TransportError::kNone, "bring-up failed (DRV-1)");
  out.expect((d.features & kIndirect) != 0 && (d.features & ~(kVersion1 | kIndirect)) == 0,
             "negotiated " + hex(d.features) + ": only VERSION_1 and what was asked (DRV-1)");
  // DRV-2: interrupt-driven completion with INTx + ISR only.
  int completed = 0;
  for (uint32_t i = 0; i < 100; ++i) {
    if (!d.echo(i % 2, i)) break;
    if (d.intx_level() && (d.driver.read_isr() & kIsrQueue) != 0) ++completed;
  }
  out.expect(completed == 100, std::to_string(completed) + " of 100 requests interrupted via INTx");
  return out;
}

}  // namespace

std::vector<Check> transport_checks() {
  return {
      {"transport.identity.contract-devices",
       {"PCI-1", "PCI-2", "PCI-3", "PCI-4", "PCI-5", "PCI-6", "PCI-7"}, identity},
      {"transport.bar0.shape-and-strict-caps", {"BAR-1", "BAR-2", "CAP-1", "CAP-2"}, bar0_shape},
      {"transport.bar0.undefined-offsets", {"BAR-3"}, undefined_offsets_read_zero},
      {"transport.bar0.command-gating", {"BAR-4"}, command_register_gating},
      {"transport.common.feature-windows", {"CFG-2"}, feature_windows},
      {"transport.common.features-ok-refusal", {"FEAT-1", "FEAT-2"}, features_ok_refusal},
      {"transport.common.queue-select-out-of-range", {"CFG-3"}, queue_select_out_of_range},
      {"transport.common.split-64bit-fields", {"CFG-5"}, split_64bit_fields},
      {"transport.common.queue-programming", {"Q-1", "Q-2"}, queue_programming},
      {"transport.common.reset", {"STAT-2"}, reset_clears_state},
      {"transport.common.init-order", {"STAT-1", "STAT-3"}, init_order},
      {"transport.common.needs-reset", {"STAT-4", "VQ-8"}, needs_reset_on_ring_corruption},
      {"transport.common.selector-lock", {"CFG-1"}, selector_lock},
      {"transport.notify.doorbells", {"NTF-1", "NTF-2", "NTF-3"}, doorbells},
      {"transport.irq.isr-and-intx", {"ISR-1", "ISR-2", "IRQ-1", "IRQ-2", "IRQ-3", "CFG-4"},
       isr_and_intx},
      {"transport.irq.msix-exclusive", {"IRQ-4"}, msix_exclusive},
      {"transport.driver.config-generation-retry", {"CFG-4"}, config_generation_retry},
      {"transport.driver.revision-gate", {"VER-1"}, revision_gate},
      {"transport.driver.bring-up-intx-only", {"DRV-1", "DRV-2"}, driver_bring_up_intx_only},
  };
}

}  // namespace aerov::conformance
