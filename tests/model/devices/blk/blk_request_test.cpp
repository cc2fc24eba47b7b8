// Requests end to end: the real driver ring through the transport (BLK-4,
// BLK-5, BLK-7), out-of-order completion (VQ-5), ring corruption and
// recovery (VQ-8, STAT-4), backend errors, and guest memory layouts only a
// PCI-less transport can set up (buffers spanning adjacent regions).
#include <catch2/catch.hpp>

#include <cstring>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/backends/disk/faulty_disk.hpp"
#include "model/devices/blk/testing/blk_rig.hpp"
#include "model/devices/blk/testing/blk_scenarios.hpp"
#include "model/devices/blk/testing/ring_transport.hpp"
#include "tests/model/devices/scenario_check.hpp"
#include "virtqueue/testing/ring_builder.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace vq = aerov::virtqueue;
namespace blk = aerov::model::devices::blk;

TEST_CASE("blk.request: IN, OUT and FLUSH through the driver ring", "[blk][BLK-4][BLK-5][DMA-2]") {
  AEROV_CHECK_SCENARIO(check_driver_round_trip());
}

TEST_CASE("blk.request: status is written before the used entry - used.len is 0", "[blk][BLK-7]") {
  AEROV_CHECK_SCENARIO(check_status_before_used());
}

TEST_CASE("blk.request: requests complete out of order when the backend does", "[blk][VQ-5][BLK-7]") {
  AEROV_CHECK_SCENARIO(check_out_of_order_completion());
}

TEST_CASE("blk.request: ring corruption needs a reset - resubmitted requests complete",
          "[blk][VQ-8][STAT-4]") {
  AEROV_CHECK_SCENARIO(check_ring_corruption_recovery());
}

TEST_CASE("blk.request: backend I/O errors complete IOERR and the device keeps serving",
          "[blk][BLK-5]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk faulty(ram);
  faulty.fail_sectors(10, 1);
  BlkRig rig({.backend = &faulty});
  CHECK(rig.read(9, BlkRig::kDataGpa, 1024) == blk::kStatusIoErr);
  CHECK(rig.write(10, BlkRig::kDataGpa, 512) == blk::kStatusIoErr);
  CHECK(rig.read(11, BlkRig::kDataGpa, 512) == blk::kStatusOk);
  CHECK(rig.device->stats().backend_errors == 2);
  CHECK(rig.device->stats().ok == 1);
}

TEST_CASE("blk.request: statistics count each outcome once", "[blk]") {
  BlkRig rig({.disk_sectors = 16});
  CHECK(rig.read(0, BlkRig::kDataGpa, 512) == blk::kStatusOk);
  CHECK(rig.read(16, BlkRig::kDataGpa, 512) == blk::kStatusIoErr);
  CHECK(rig.run(blk::kTypeGetId, 0, {}).status == blk::kStatusUnsupp);
  const vq::Segment no_status[] = {{rig.header_addr(0), 16, false}};
  rig.write_header(0, blk::kTypeFlush, 0);
  const BlkResult r = rig.run_segments(no_status);
  CHECK(r.completed);
  CHECK(r.status == BlkRig::kStatusUnwritten);
  const BlkStats& s = rig.device->stats();
  CHECK(s.ok == 1);
  CHECK(s.ioerr == 1);
  CHECK(s.malformed == 1);
  CHECK(s.unsupp == 1);
  CHECK(s.no_status == 1);
  CHECK(s.chain_errors == 0);
}

TEST_CASE("blk.request: a full ring of 128 requests is served by one doorbell", "[blk][VQ-8]") {
  BlkRig rig({.indirect_max = 4});
  const uint16_t n = aerov::contract::kBlk.queues[0].size;
  for (uint16_t slot = 0; slot < n; ++slot) {
    const vq::Segment seg{BlkRig::kDataGpa + slot * 512ull, 512, true};
    REQUIRE(rig.submit(slot, blk::kTypeIn, slot, {&seg, 1}) == vq::DriverStatus::kOk);
  }
  rig.kick();
  const auto done = rig.reap();
  CHECK(done.size() == n);
  for (const auto& [slot, res] : done) CHECK(res.status == blk::kStatusOk);
}

TEST_CASE("blk.request: data buffers spanning adjacent guest-memory regions", "[blk][DMA-1]") {
  // Two RAM regions back to back at 1 MiB; the ring lives in the first.
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, 1 << 20) == MemError::kOk);
  REQUIRE(mem.add_ram(1 << 20, 1 << 20) == MemError::kOk);
  backends::RamDisk disk(64);
  BlkDevice dev(disk);
  RingTransport t(mem, aerov::contract::kBlk.features_offered);
  vq::testing::RingBuilder ring(mem, dev.queue_size(0), 0x1000, false, 0x10000);
  REQUIRE(t.configure(ring.config(true)) == vq::RingError::kNone);
  dev.activate(t);

  std::vector<uint8_t> data(2048);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 3 + 1);
  const uint64_t boundary = 1 << 20;
  const uint64_t out_buf = boundary - 1000, in_buf = boundary - 7;
  mem.write(out_buf, data.data(), data.size());
  const uint64_t h = ring.alloc(16), s = ring.alloc(1);
  const blk::RequestHeader out_hdr{blk::kTypeOut, 0, 5};
  mem.write_obj(h, out_hdr);
  ring.set_desc(0, h, 16, vq::kDescFNext, 1);
  ring.set_desc(1, out_buf, 2048, vq::kDescFNext, 2);
  ring.set_desc(2, s, 1, vq::kDescFWrite);
  ring.make_available(0);
  t.notify(dev);
  uint8_t status = 0xEE;
  mem.read(s, &status, 1);
  CHECK(status == blk::kStatusOk);

  const uint64_t h2 = ring.alloc(16), s2 = ring.alloc(1);
  const blk::RequestHeader in_hdr{blk::kTypeIn, 0, 5};
  mem.write_obj(h2, in_hdr);
  ring.set_desc(3, h2, 16, vq::kDescFNext, 4);
  ring.set_desc(4, in_buf, 2048, vq::kDescFNext | vq::kDescFWrite, 5);
  ring.set_desc(5, s2, 1, vq::kDescFWrite);
  ring.make_available(3);
  t.notify(dev);
  mem.read(s2, &status, 1);
  CHECK(status == blk::kStatusOk);
  std::vector<uint8_t> back(2048);
  mem.read(in_buf, back.data(), back.size());
  CHECK(back == data);
  CHECK(ring.used_idx() == 2);
  CHECK_FALSE(t.needs_reset());
}

TEST_CASE("blk.request: a head offered twice while in flight is ring corruption",
          "[blk][VQ-8][STAT-4]") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, 1 << 20) == MemError::kOk);
  backends::RamDisk ram(64);
  backends::FaultyDisk slow(ram, {.min_delay = 5, .max_delay = 5});
  BlkDevice dev(slow);
  RingTransport t(mem, aerov::contract::kBlk.features_offered);
  vq::testing::RingBuilder ring(mem, dev.queue_size(0), 0x1000, false, 0x10000);
  REQUIRE(t.configure(ring.config(true)) == vq::RingError::kNone);
  const uint64_t h = ring.alloc(16), s = ring.alloc(1);
  const blk::RequestHeader hdr{blk::kTypeFlush, 0, 0};
  mem.write_obj(h, hdr);
  ring.set_desc(0, h, 16, vq::kDescFNext, 1);
  ring.set_desc(1, s, 1, vq::kDescFWrite);
  ring.make_available(0);
  t.notify(dev);
  REQUIRE(dev.in_flight() == 1);
  ring.make_available(0);
  t.notify(dev);
  CHECK(t.needs_reset());
  t.reset(dev);
  CHECK(dev.in_flight() == 0);
  CHECK(slow.in_flight() == 0);
}
