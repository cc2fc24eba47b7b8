#include "model/devices/blk/testing/blk_scenarios.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/backends/disk/faulty_disk.hpp"
#include "model/devices/blk/testing/blk_rig.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace {

namespace vq = virtqueue;
using namespace blk;
using backends::FaultyDisk;
using backends::FaultyDiskOptions;
using backends::RamDisk;
using transport::TransportError;
using transport::testing::expect;
using transport::testing::hex;
constexpr uint64_t kSector = backends::kSectorSize;

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (uint8_t& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

}  // namespace

Failures check_queues() {
  Failures f;
  BlkRig rig;
  const contract::DeviceSpec& spec = contract::kBlk;
  uint16_t n = 0, size = 0;
  expect(f, rig.driver.num_queues(&n) == TransportError::kNone && n == spec.num_queues && n == 1,
         "num_queues reads " + std::to_string(n) + ", expected 1 (BLK-1)");
  expect(f, rig.driver.queue_size(0, &size) == TransportError::kNone && size == spec.queues[0].size &&
                size == 128,
         "requestq size reads " + std::to_string(size) + ", expected 128 (BLK-1)");
  expect(f, std::string(spec.queues[0].name) == "requestq" && spec.queues[0].index == 0,
         "the contract's queue 0 is not requestq");
  // Queue 1 does not exist: queue_size reads 0 through the transport.
  rig.bar0_write(transport::common::kQueueSelect, 2, 1);
  expect(f, rig.bar0_read(transport::common::kQueueSize, 2) == 0, "queue 1 has a size");
  rig.bar0_write(transport::common::kQueueSelect, 2, 0);
  expect(f, rig.bar0_read(transport::common::kQueueSize, 2) == size, "queue 0 size changed");
  expect(f, rig.device->num_queues() == 1 && rig.device->queue_size(1) == 0,
         "the device model reports other queues");
  expect(f, rig.pci->config_read(transport::reg::kDeviceId, 2) == spec.device_id,
         "PCI device ID is not the contract's blk ID");
  return f;
}

Failures check_features() {
  Failures f;
  BlkRig rig({.bring_up = false});
  rig.attach_and_reset();
  uint64_t offered = 0;
  for (uint32_t word = 0; word < 2; ++word) {
    rig.bar0_write(transport::common::kDeviceFeatureSelect, 4, word);
    offered |= uint64_t{rig.bar0_read(transport::common::kDeviceFeature, 4)} << (32 * word);
  }
  const uint64_t want = contract::kBlk.features_offered;
  expect(f, offered == want, "offered features " + hex(offered) + ", contract says " + hex(want));
  expect(f, (offered & contract::kBlk.features_forbidden) == 0,
         "a forbidden feature is offered: " + hex(offered & contract::kBlk.features_forbidden));
  using contract::feature_mask;
  for (uint32_t bit : {contract::kFeatureVersion1, contract::kFeatureRingIndirectDesc,
                       contract::kFeatureBlkSegMax, contract::kFeatureBlkBlkSize,
                       contract::kFeatureBlkFlush}) {
    expect(f, (offered & feature_mask(bit)) != 0, "feature bit " + std::to_string(bit) + " missing");
  }
  for (uint32_t bit : {contract::kFeatureRingEventIdx, contract::kFeatureBlkRo,
                       contract::kFeatureBlkDiscard, contract::kFeatureBlkWriteZeroes,
                       contract::kFeatureBlkMq, contract::kFeatureRingPacked}) {
    expect(f, (offered & feature_mask(bit)) == 0, "feature bit " + std::to_string(bit) + " offered");
  }
  uint64_t accepted = 0;
  expect(f, rig.driver.negotiate(want, want, &accepted) == TransportError::kNone && accepted == want,
         "negotiating every offered feature failed");
  expect(f, (rig.driver.status() & transport::kStatusFeaturesOk) != 0, "FEATURES_OK did not stick");
  return f;
}

Failures check_config_layout() {
  Failures f;
  struct Shape {
    uint64_t sectors;
    uint32_t seg_max;
  };
  for (const Shape s : {Shape{4096, 126}, Shape{12345, 7}, Shape{UINT64_MAX, 1}}) {
    BlkRigOptions o;
    o.disk_sectors = s.sectors;
    o.device.seg_max = s.seg_max;
    BlkRig rig(o);
    const uint64_t capacity = std::min(s.sectors, backends::kMaxSectors);
    const std::string where = " (capacity " + std::to_string(capacity) + ")";
    uint8_t expected[0x100] = {};
    const uint32_t blk_size = kBlkSize;
    std::memcpy(&expected[kConfigCapacity], &capacity, 8);
    std::memcpy(&expected[kConfigSegMax], &s.seg_max, 4);
    std::memcpy(&expected[kConfigBlkSize], &blk_size, 4);

    uint8_t got[0x100] = {};
    expect(f, rig.driver.read_device_config(0, got, sizeof got) == TransportError::kNone,
           "reading the device config failed" + where);
    for (uint32_t i = 0; i < 0x100; ++i) {
      if (got[i] != expected[i]) {
        f.push_back("config byte " + hex(i) + " reads " + hex(got[i]) + ", expected " +
                    hex(expected[i]) + where);
        break;
      }
    }
    // Every width at every offset, straight through BAR0.
    for (uint32_t off = 0; off < 0x100; ++off) {
      for (uint8_t w : {1, 2, 4}) {
        if (off + w > 0x100) continue;
        uint32_t want = 0;
        std::memcpy(&want, &expected[off], w);
        const uint32_t v = rig.bar0_read(transport::bar0::kDeviceOffset + off, w);
        if (v != want) {
          f.push_back("BAR0 device config " + hex(off) + " width " + std::to_string(w) + " reads " +
                      hex(v) + ", expected " + hex(want) + where);
          off = 0x100;
          break;
        }
      }
    }
    // Read-only: writes change nothing and bump no generation.
    for (uint32_t off = 0; off < 0x20; off += 4) {
      rig.bar0_write(transport::bar0::kDeviceOffset + off, 4, 0xFFFFFFFF);
    }
    uint8_t again[0x100] = {};
    rig.driver.read_device_config(0, again, sizeof again);
    expect(f, std::memcmp(again, expected, sizeof again) == 0, "a config write changed the config" + where);
    expect(f, rig.bar0_read(transport::common::kConfigGeneration, 1) == 0,
           "config_generation moved" + where);
  }
  return f;
}

Failures check_driver_round_trip() {
  Failures f;
  for (uint16_t indirect_max : {uint16_t{0}, uint16_t{16}}) {
    BlkRig rig({.indirect_max = indirect_max});
    const std::string where = indirect_max ? " (indirect)" : " (direct)";
    const uint64_t low = BlkRig::kDataGpa + 1, high = BlkRig::kHighRam + 0x1003;
    const auto data = pattern(4 * kSector, 1);
    rig.poke(low, data);
    const vq::Segment out[] = {{low, 100, false}, {low + 100, 1000, false}, {low + 1100, 948, false}};
    BlkResult r = rig.run(kTypeOut, 100, out);
    expect(f, r.completed && r.status == kStatusOk && r.used_len == 0, "OUT did not complete OK" + where);
    expect(f, rig.disk_bytes(100, 4) == data, "OUT wrote the wrong bytes" + where);
    const vq::Segment in[] = {{high, 1536, true}, {high + 1536, 512, true}};
    r = rig.run(kTypeIn, 100, in);
    expect(f, r.completed && r.status == kStatusOk && r.used_len == 0, "IN did not complete OK" + where);
    expect(f, rig.peek(high, data.size()) == data, "IN above 4 GiB returned the wrong bytes" + where);
    r = rig.run(kTypeFlush, 0, {});
    expect(f, r.completed && r.status == kStatusOk, "FLUSH did not complete OK" + where);

    // A batch in one doorbell.
    for (uint16_t slot = 0; slot < 8; ++slot) {
      const vq::Segment seg{BlkRig::kDataGpa + 0x10000 + slot * kSector, kSector, slot % 2 == 0};
      rig.submit(slot, slot % 2 == 0 ? kTypeIn : kTypeOut, 200 + slot, {&seg, 1});
    }
    rig.kick();
    const auto done = rig.reap();
    expect(f, done.size() == 8, "a batch of 8 requests completed " + std::to_string(done.size()) + where);
    for (const auto& [slot, res] : done) {
      expect(f, res.status == kStatusOk, "batch request " + std::to_string(slot) + " failed" + where);
    }
  }
  return f;
}

Failures check_status_before_used() {
  Failures f;
  {
    // The status byte of each request is the low byte of the very used
    // element its completion will fill. Status first, then the element:
    // used.len reads 0. The other order would leave the status there.
    BlkRig rig({.raw_ring = true});
    const uint64_t len_byte0 = rig.raw->used_addr() + 4 + 4;
    const uint64_t len_byte1 = rig.raw->used_addr() + 4 + 8 + 4;
    const uint64_t h0 = rig.raw->alloc(16), h1 = rig.raw->alloc(16);
    rig.write_header(0, kTypeGetId, 0);
    rig.poke(h0, rig.peek(rig.header_addr(0), 16));
    rig.write_header(0, kTypeIn, 0);  // no data: IOERR
    rig.poke(h1, rig.peek(rig.header_addr(0), 16));
    const RawDesc unsupp[] = {{h0, 16, 0}, {len_byte0, 1, vq::kDescFWrite}};
    const RawDesc ioerr[] = {{h1, 16, 0}, {len_byte1, 1, vq::kDescFWrite}};
    rig.raw_chain(unsupp, 0);
    rig.raw_chain(ioerr, 2);
    const auto e0 = rig.raw_used(0), e1 = rig.raw_used(1);
    expect(f, e0 && e0->id == 0 && e0->len == 0,
           "used[0].len is " + std::to_string(e0 ? e0->len : 99) +
               ": the status byte (UNSUPP) was written after the used element");
    expect(f, e1 && e1->id == 2 && e1->len == 0,
           "used[1].len is " + std::to_string(e1 ? e1->len : 99) +
               ": the status byte (IOERR) was written after the used element");
  }
  {
    // At every interrupt, every published entry already has its status,
    // with completions spread over many doorbells by a slow backend.
    RamDisk ram(1024);
    FaultyDisk slow(ram, FaultyDiskOptions{.seed = 3, .min_delay = 0, .max_delay = 5});
    BlkRig rig({.backend = &slow, .raw_ring = true});
    std::map<uint32_t, uint64_t> status_of;  // head -> status gpa
    int interrupts = 0;
    rig.on_intx = [&](bool level) {
      if (!level) return;
      ++interrupts;
      const uint16_t idx = rig.raw_used_idx();
      for (uint16_t p = 0; p < idx; ++p) {
        const auto e = rig.raw->used_elem(p);
        const auto it = status_of.find(e.id);
        if (it == status_of.end() || rig.peek(it->second, 1)[0] == BlkRig::kStatusUnwritten) {
          f.push_back("used entry " + std::to_string(p) + " published before its status byte");
        }
        if (e.len != 0) f.push_back("used.len " + std::to_string(e.len) + " is not 0");
      }
    };
    for (uint16_t r = 0; r < 16; ++r) {
      const uint16_t head = static_cast<uint16_t>(3 * r);
      const uint64_t h = rig.raw->alloc(16), b = rig.raw->alloc(kSector), s = rig.raw->alloc(1);
      rig.write_header(0, r % 3 == 2 ? kTypeFlush : r % 2 ? kTypeOut : kTypeIn, r);
      rig.poke(h, rig.peek(rig.header_addr(0), 16));
      rig.fill(s, BlkRig::kStatusUnwritten, 1);
      status_of[head] = s;
      if (r % 3 == 2) {
        const RawDesc d[] = {{h, 16, 0}, {s, 1, vq::kDescFWrite}};
        rig.raw_chain(d, head, false);
      } else {
        const RawDesc d[] = {{h, 16, 0}, {b, kSector, static_cast<uint16_t>(r % 2 ? 0 : vq::kDescFWrite)},
                             {s, 1, vq::kDescFWrite}};
        rig.raw_chain(d, head, false);
      }
    }
    rig.notify();
    for (int round = 0; round < 100 && rig.raw_used_idx() < 16; ++round) {
      rig.driver.read_isr();  // acknowledge, so the next publish interrupts again
      rig.function->process_queue(0);
    }
    expect(f, rig.raw_used_idx() == 16, "not every request completed");
    expect(f, interrupts >= 2, "completions did not spread over several interrupts");
  }
  return f;
}

Failures check_out_of_order_completion() {
  Failures f;
  RamDisk ram(4096);
  FaultyDisk slow(ram, FaultyDiskOptions{.seed = 11, .min_delay = 0, .max_delay = 6});
  BlkRig rig({.backend = &slow});
  const auto disk = pattern(4096 * kSector / 8, 5);  // first 512 sectors
  rig.set_disk_bytes(0, disk);
  constexpr uint16_t kRequests = 24;
  std::vector<std::vector<uint8_t>> written(kRequests);
  for (uint16_t slot = 0; slot < kRequests; ++slot) {
    const uint64_t buf = BlkRig::kDataGpa + slot * 0x1000ull;
    const uint64_t sector = 8ull * slot;
    const bool is_out = slot % 3 == 0;
    if (is_out) {
      written[slot] = pattern(2 * kSector, 100 + slot);
      rig.poke(buf, written[slot]);
    }
    const vq::Segment seg{buf, 2 * kSector, !is_out};
    rig.submit(slot, is_out ? kTypeOut : kTypeIn, sector, {&seg, 1});
  }
  rig.kick();
  std::vector<uint16_t> order;
  for (int round = 0; round < 100 && order.size() < kRequests; ++round) {
    for (const auto& [slot, res] : rig.reap()) {
      order.push_back(slot);
      expect(f, res.status == kStatusOk && res.used_len == 0,
             "request " + std::to_string(slot) + " completed with " + hex(res.status));
    }
    rig.function->process_queue(0);
  }
  expect(f, order.size() == kRequests, "not every request completed");
  expect(f, !std::is_sorted(order.begin(), order.end()), "requests completed in submission order");
  for (uint16_t slot = 0; slot < kRequests; ++slot) {
    const uint64_t buf = BlkRig::kDataGpa + slot * 0x1000ull;
    const uint64_t sector = 8ull * slot;
    if (slot % 3 == 0) {
      expect(f, rig.disk_bytes(sector, 2) == written[slot], "OUT " + std::to_string(slot) + " data");
    } else {
      const std::vector<uint8_t> want(disk.begin() + static_cast<std::ptrdiff_t>(sector * kSector),
                                      disk.begin() + static_cast<std::ptrdiff_t>((sector + 2) * kSector));
      expect(f, rig.peek(buf, 2 * kSector) == want, "IN " + std::to_string(slot) + " data");
    }
  }
  return f;
}

Failures check_flush_durability() {
  Failures f;
  const auto a = pattern(kSector, 0xA1), b = pattern(kSector, 0xB2), zero = std::vector<uint8_t>(kSector);
  {
    // A completed FLUSH makes the OUTs before it durable; an OUT after the
    // last FLUSH is lost in a crash (so the backend's cache is real and the
    // first half of this check means something).
    RamDisk medium(256);
    FaultyDisk cache(medium);
    BlkRig rig({.backend = &cache});
    rig.poke(BlkRig::kDataGpa, a);
    rig.poke(BlkRig::kDataGpa + kSector, b);
    expect(f, rig.write(10, BlkRig::kDataGpa, kSector) == kStatusOk, "OUT failed");
    expect(f, rig.flush() == kStatusOk, "FLUSH failed");
    expect(f, rig.write(11, BlkRig::kDataGpa + kSector, kSector) == kStatusOk, "second OUT failed");
    cache.crash();
    cache.restart();
    expect(f, rig.disk_bytes(10, 1) == a, "an OUT completed before a completed FLUSH was lost");
    expect(f, rig.disk_bytes(11, 1) == zero, "the backend cache is not volatile: the check proves nothing");
  }
  {
    // A FLUSH waits for an OUT the backend still has: the OUT is slow, the
    // FLUSH would be quick, and the FLUSH must still complete after it and
    // leave it durable.
    RamDisk medium(256);
    FaultyDisk cache(medium);
    BlkRig rig({.backend = &cache});
    rig.poke(BlkRig::kDataGpa, a);
    cache.set_delay(6, 6);
    const vq::Segment seg{BlkRig::kDataGpa, kSector, false};
    rig.submit(0, kTypeOut, 20, {&seg, 1});
    rig.kick();
    cache.set_delay(0, 0);
    rig.submit(1, kTypeFlush, 0, {});
    rig.kick();
    std::vector<uint16_t> order;
    for (int round = 0; round < 50 && order.size() < 2; ++round) {
      for (const auto& [slot, res] : rig.reap()) {
        order.push_back(slot);
        expect(f, res.status == kStatusOk, "request " + std::to_string(slot) + " failed");
        if (slot == 1) {
          // The moment the FLUSH is seen complete, pull the plug.
          cache.crash();
          cache.restart();
          expect(f, rig.disk_bytes(20, 1) == a, "the FLUSH completed but the earlier OUT is not durable");
        }
      }
      rig.function->process_queue(0);
    }
    expect(f, order == std::vector<uint16_t>{0, 1}, "the FLUSH completed before the OUT it follows");
    expect(f, rig.device->stats().flushes_deferred == 1, "the FLUSH was not held for the OUT");
  }
  return f;
}

Failures check_ring_corruption_recovery() {
  Failures f;
  RamDisk ram(256);
  FaultyDisk slow(ram, FaultyDiskOptions{.min_delay = 3, .max_delay = 3});
  BlkRig rig({.backend = &slow});
  std::vector<std::vector<uint8_t>> data;
  for (uint16_t slot = 0; slot < 4; ++slot) {
    data.push_back(pattern(kSector, 40 + slot));
    rig.poke(BlkRig::kDataGpa + slot * kSector, data.back());
    const vq::Segment seg{BlkRig::kDataGpa + slot * kSector, kSector, false};
    rig.submit(slot, kTypeOut, 50 + slot, {&seg, 1});
  }
  rig.kick();
  expect(f, rig.device->in_flight() == 4, "the slow backend did not hold the requests");
  // A hostile avail.idx far ahead of the ring (VQ-8).
  const auto idx_bytes = rig.peek(rig.queue.avail_pa() + 2, 2);
  const auto idx = static_cast<uint16_t>(idx_bytes[0] | idx_bytes[1] << 8);
  const uint16_t bad = static_cast<uint16_t>(idx + 200);
  rig.poke(rig.queue.avail_pa() + 2, std::vector<uint8_t>{static_cast<uint8_t>(bad), static_cast<uint8_t>(bad >> 8)});
  rig.notify();
  expect(f, rig.needs_reset(), "ring corruption did not set DEVICE_NEEDS_RESET (STAT-4)");
  expect(f, (rig.driver.read_isr() & transport::kIsrConfig) != 0, "no config interrupt for NEEDS_RESET");
  rig.function->process_queue(0);
  expect(f, rig.reap().empty(), "the device kept serving a corrupt ring");

  const std::vector<uint16_t> lost = rig.recover();
  expect(f, lost.size() == 4, "expected 4 requests to resubmit, got " + std::to_string(lost.size()));
  expect(f, !rig.needs_reset() && rig.device->in_flight() == 0, "reset did not clear the device");
  for (uint16_t slot : lost) {
    const vq::Segment seg{BlkRig::kDataGpa + slot * kSector, kSector, false};
    rig.submit(slot, kTypeOut, 50 + slot, {&seg, 1});
  }
  rig.kick();
  rig.settle();
  const auto done = rig.reap();
  expect(f, done.size() == lost.size(), "resubmitted requests did not all complete");
  for (const auto& [slot, res] : done) {
    expect(f, res.status == kStatusOk, "resubmitted request " + std::to_string(slot) + " failed");
  }
  for (uint16_t slot = 0; slot < 4; ++slot) {
    expect(f, rig.disk_bytes(50 + slot, 1) == data[slot], "sector " + std::to_string(50 + slot) + " lost");
  }
  return f;
}

}  // namespace aerov::model::devices::testing
