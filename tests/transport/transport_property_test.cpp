// A hostile driver issues random config-space and BAR0 accesses (any offset,
// width and value, selectors out of range, resets mid-setup, doorbells on
// garbage rings). The device must never crash and its invariants must hold
// after every access:
//   - ISR bits 2-7 read 0 (ISR-1);
//   - INTx level == ISR non-zero and MSI-X disabled (and INTx not disabled
//     in the Command register) (IRQ-1, IRQ-4);
//   - a queue is only ever served while enabled, after DRIVER_OK, with Bus
//     Master on and without DEVICE_NEEDS_RESET (STAT-3, NTF-3, BAR-4, STAT-4).
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <ostream>

#include "transport/testing/virtio_pci_rig.hpp"
#include "transport/virtio_pci_regs.hpp"

using namespace aerov::transport;
using testing::RigOptions;
using testing::VirtioPciRig;

namespace {

enum class Kind { kConfigRead, kConfigWrite, kMmioRead, kMmioWrite, kBringUp };

struct Access {
  Kind kind;
  uint32_t offset;
  unsigned width;
  uint64_t value;
};

// So a shrunk counterexample prints readably.
void showValue(const Access& a, std::ostream& os) {
  static const char* const names[] = {"config_read", "config_write", "mmio_read", "mmio_write",
                                      "bring_up"};
  os << names[static_cast<int>(a.kind)] << "(0x" << std::hex << a.offset << ", " << std::dec
     << a.width << ", 0x" << std::hex << a.value << std::dec << ")";
}

// Offsets a driver (or attacker) cares about, plus anywhere at all.
rc::Gen<uint32_t> bar0_offset() {
  return rc::gen::oneOf(
      rc::gen::elementOf(std::vector<uint32_t>{
          common::kDeviceFeatureSelect, common::kDeviceFeature, common::kDriverFeatureSelect,
          common::kDriverFeature, common::kMsixConfig, common::kDeviceStatus,
          common::kQueueSelect, common::kQueueSize, common::kQueueMsixVector,
          common::kQueueEnable, common::kQueueDesc, common::kQueueDesc + 4, common::kQueueAvail,
          common::kQueueUsed, bar0::kNotifyOffset, bar0::kNotifyOffset + 4,
          bar0::kNotifyOffset + 8, bar0::kIsrOffset, bar0::kDeviceOffset,
          VirtioPciFunction::kMsixTableOffset, VirtioPciFunction::kMsixTableOffset + 12,
          VirtioPciFunction::kMsixPbaOffset}),
      rc::gen::inRange<uint32_t>(0, 0x4000));
}

rc::Gen<uint64_t> value() {
  return rc::gen::oneOf(rc::gen::elementOf(std::vector<uint64_t>{
                            0, 1, 2, 3, 0x0F, 0xFF, 0xFFFF, 0x100000, 0x101000, 0x102000}),
                        rc::gen::arbitrary<uint64_t>());
}

rc::Gen<Access> raw_access();

rc::Gen<Access> access() {
  // Mostly raw accesses; sometimes a well-behaved driver brings the device
  // up (queue 0 at 0x100000), so later accesses hit a live device.
  const auto bring_up = rc::gen::build<Access>(
      rc::gen::set(&Access::kind, rc::gen::just(Kind::kBringUp)));
  return rc::gen::weightedOneOf<Access>({{1, bring_up}, {12, raw_access()}});
}

rc::Gen<Access> raw_access() {
  return rc::gen::oneOf(
      rc::gen::build<Access>(rc::gen::set(&Access::kind, rc::gen::just(Kind::kMmioWrite)),
                             rc::gen::set(&Access::offset, bar0_offset()),
                             rc::gen::set(&Access::width, rc::gen::element(1u, 2u, 4u, 8u)),
                             rc::gen::set(&Access::value, value())),
      rc::gen::build<Access>(rc::gen::set(&Access::kind, rc::gen::just(Kind::kMmioRead)),
                             rc::gen::set(&Access::offset, bar0_offset()),
                             rc::gen::set(&Access::width, rc::gen::element(1u, 2u, 4u, 8u))),
      rc::gen::build<Access>(
          rc::gen::set(&Access::kind, rc::gen::element(Kind::kConfigRead, Kind::kConfigWrite)),
          rc::gen::set(&Access::offset, rc::gen::inRange<uint32_t>(0, 256)),
          rc::gen::set(&Access::width, rc::gen::element(1u, 2u, 4u)),
          rc::gen::set(&Access::value, value())));
}

// The STAT-3 sequence with plain register writes; then one request on
// queue 0 and a doorbell.
void bring_up(VirtioPciRig& rig, uint64_t base) {
  const auto w = [&](uint32_t off, unsigned width, uint64_t v) {
    rig.bus.mmio_write(base + off, width, v);
  };
  w(common::kDeviceStatus, 1, 0);
  w(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver);
  w(common::kDriverFeatureSelect, 4, 1);
  w(common::kDriverFeature, 4, 1);  // VERSION_1
  w(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  w(common::kQueueSelect, 2, 0);
  w(common::kQueueDesc, 8, 0x100000);
  w(common::kQueueAvail, 8, 0x101000);
  w(common::kQueueUsed, 8, 0x102000);
  w(common::kQueueEnable, 2, 1);
  w(common::kDeviceStatus, 1,
    kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  // desc 0: 4 readable bytes; avail.ring[idx] = 0; avail.idx += 1.
  const aerov::virtqueue::VirtqDesc d{0x300000, 4, 0, 0};
  rig.memory.write_obj(0x100000, d);
  uint16_t idx = 0;
  rig.memory.read_obj(0x101002, &idx);
  rig.memory.write_obj(0x101004 + 2ull * (idx % 8), uint16_t{0});
  rig.memory.write_obj(0x101002, static_cast<uint16_t>(idx + 1));
  w(bar0::kNotifyOffset, 2, 0);
}

void check_invariants(VirtioPciRig& rig) {
  const VirtioPciFunction& f = *rig.function;
  RC_ASSERT((f.isr() & 0xFC) == 0);
  const bool msix_on = f.msix() != nullptr && f.msix()->enabled();
  const bool intx_disabled =
      (rig.bus.config_read(VirtioPciRig::kBdf, reg::kCommand, 2) & reg::kCommandInterruptDisable) != 0;
  RC_ASSERT(rig.intx_level() == (f.isr() != 0 && !msix_on && !intx_disabled));
}

void run(const RigOptions& options, const std::vector<Access>& accesses) {
  VirtioPciRig rig(options);
  const uint64_t base = rig.enumeration.functions[0].bars[0].address;
  bool served_illegally = false;
  rig.device.on_notify = [&](uint16_t q) {
    const VirtioPciFunction& f = *rig.function;
    const bool bus_master =
        (rig.bus.config_read(VirtioPciRig::kBdf, reg::kCommand, 2) & reg::kCommandBusMaster) != 0;
    if (!f.queue_enabled(q) || (f.device_status() & kStatusDriverOk) == 0 ||
        (f.device_status() & kStatusNeedsReset) != 0 || !bus_master) {
      served_illegally = true;
    }
  };
  for (const Access& a : accesses) {
    switch (a.kind) {
      case Kind::kConfigRead:
        rig.bus.config_read(VirtioPciRig::kBdf, static_cast<uint16_t>(a.offset), a.width);
        break;
      case Kind::kConfigWrite:
        rig.bus.config_write(VirtioPciRig::kBdf, static_cast<uint16_t>(a.offset), a.width,
                             static_cast<uint32_t>(a.value));
        break;
      case Kind::kMmioRead: {
        const uint64_t v = rig.bus.mmio_read(base + a.offset, a.width);
        // Only while the access still reaches our ISR (config writes may
        // have moved BAR0 or turned decode off).
        const auto target = rig.bus.decode(base + a.offset, a.width);
        if (target && target->function == rig.function.get() && target->offset == bar0::kIsrOffset) {
          RC_ASSERT((v & ~uint64_t{3}) == 0);
        }
        break;
      }
      case Kind::kMmioWrite: rig.bus.mmio_write(base + a.offset, a.width, a.value); break;
      case Kind::kBringUp: bring_up(rig, base); break;
    }
    check_invariants(rig);
    RC_ASSERT(!served_illegally);
  }
  RC_CLASSIFY(rig.device.served() > 0, "device served requests");
}

}  // namespace

TEST_CASE("random config and BAR0 accesses keep the transport's invariants",
          "[transport][property][ISR-1][IRQ-1][IRQ-4][STAT-3][NTF-3][BAR-4][STAT-4][CFG-3]") {
  rc::prop("INTx only", [] {
    const auto accesses = *rc::gen::container<std::vector<Access>>(access());
    run(RigOptions{}, accesses);
  });
  rc::prop("with MSI-X", [] {
    const auto accesses = *rc::gen::container<std::vector<Access>>(access());
    RigOptions o;
    o.msix_vectors = 4;
    run(o, accesses);
  });
}
