// The Windows 7 virtio-blk core (drivers/windows7/common/blk_core) against
// the real virtio-blk device model through the real virtio-pci transport.
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "aerov/contract/windows_device_contract.hpp"
#include "tests/drivers/blk_machine.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace {

using aerov::drivers::testing::BlkMachine;
using aerov::drivers::testing::BlkMachineOptions;
using aerov::drivers::testing::TestRequest;
using namespace aerov::drivers::windows7;
namespace contract = aerov::contract;

constexpr uint64_t kExpectedFeatures =
    contract::feature_mask(contract::kFeatureVersion1) |
    contract::feature_mask(contract::kFeatureRingIndirectDesc) |
    contract::feature_mask(contract::kFeatureBlkSegMax) |
    contract::feature_mask(contract::kFeatureBlkBlkSize) |
    contract::feature_mask(contract::kFeatureBlkFlush);

// Every request made so far completed exactly once, and nothing else did.
void require_each_completed_once(const BlkMachine& m) {
  // One assertion, not one per request: the JUnit reporter keeps them all.
  size_t not_once = 0;
  for (const auto& r : m.requests) not_once += r.completions != 1;
  REQUIRE(not_once == 0);
  REQUIRE(m.stray_completions == 0);
  REQUIRE(m.core.counters().completed == m.requests.size());
  REQUIRE(m.core.in_flight_chains() == 0);
  REQUIRE(m.core.pending_count() == 0);
}

// Shadow disk: what the disk must hold after every completed write.
struct Shadow {
  explicit Shadow(uint64_t sectors) : bytes(sectors * 512, 0) {}
  void apply(const TestRequest& w) {
    std::copy(w.data.begin(), w.data.end(), bytes.begin() + w.req.sector * 512);
  }
  std::vector<uint8_t> range(uint64_t sector, uint64_t count) const {
    return {bytes.begin() + sector * 512, bytes.begin() + (sector + count) * 512};
  }
  std::vector<uint8_t> bytes;
};

std::vector<uint32_t> sectors(uint32_t n) { return {n * 512}; }

// Byte vectors compared outside the assertion: Catch's JUnit reporter
// would otherwise stringify megabytes for every passing check.
bool same(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) { return a == b; }

// No assertion on success: loops submit hundreds of requests.
void submit_ok(BlkMachine& m, TestRequest& r) {
  const BlkError e = m.submit(r);
  if (e != BlkError::kNone) FAIL("submit refused: " << to_string(e));
}

}  // namespace

TEST_CASE("blk core: init sequence, feature set and configuration",
          "[drivers][blk][DRV-1][STAT-3][BLK-1][BLK-2][BLK-3][DRV-2][DMA-2]") {
  BlkMachineOptions o;
  o.init = false;
  o.seg_max = 37;
  o.disk_sectors = 12345;
  BlkMachine m(o);
  REQUIRE(m.init() == BlkError::kNone);
  CHECK(m.core.ready());
  CHECK(m.core.features() == kExpectedFeatures);
  CHECK(m.core.capacity() == 12345);
  CHECK(m.core.seg_max() == 37);
  CHECK(m.core.max_segments_per_chain() == 37);
  CHECK(m.core.blk_size() == 512);
  CHECK(m.core.queue_size() == 128);
  CHECK(m.function->device_status() == 0x0F);  // ACK | DRIVER | FEATURES_OK | DRIVER_OK
  CHECK(m.function->queue_enabled(0));
  CHECK(m.os->lock_depth() == 0);

  // STAT-3 order as seen on BAR0: reset, ACK, DRIVER, FEATURES_OK, queue
  // enable, DRIVER_OK, and no doorbell before DRIVER_OK.
  namespace regs = aerov::transport;
  std::vector<uint32_t> statuses;
  int enable_at = -1, driver_ok_at = -1, first_doorbell = -1;
  const auto& w = m.os->mmio_writes();
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i].offset == 0x14) {
      statuses.push_back(w[i].value);
      if (w[i].value & 0x04) driver_ok_at = static_cast<int>(i);
    }
    if (w[i].offset == 0x1C && w[i].value == 1) enable_at = static_cast<int>(i);
    if (w[i].offset >= 0x1000 && w[i].offset < 0x2000 && first_doorbell < 0) {
      first_doorbell = static_cast<int>(i);
    }
  }
  REQUIRE(statuses.size() >= 5);
  CHECK(statuses.front() == 0);
  CHECK(statuses[1] == 0x01);
  CHECK(statuses[2] == 0x03);
  CHECK(statuses[3] == 0x0B);
  CHECK(statuses.back() == 0x0F);
  CHECK(enable_at >= 0);
  CHECK(enable_at < driver_ok_at);
  CHECK(first_doorbell == -1);

  // DMA memory came from the window above 4 GiB (DMA-2): ring, headers and
  // status bytes, indirect pool of 128 tables of seg_max + 2 entries.
  REQUIRE(m.os->allocations().size() == 3);
  for (const auto& a : m.os->allocations()) CHECK(a.pa >= BlkMachine::kHighRam);
  CHECK(m.os->allocations()[2].bytes == 128u * (37 + 2) * 16);
  CHECK(m.os->logged("blk: ready"));

  // A request works end to end over INTx + ISR only (DRV-2).
  TestRequest& w1 = m.make(BlkOp::kWrite, 100, sectors(4), 7);
  submit_ok(m, w1);
  CHECK(m.intx.level());
  m.service();
  CHECK_FALSE(m.intx.level());
  CHECK(w1.result == BlkResult::kSuccess);
  CHECK(same(m.disk_bytes(100, 4), w1.data));
  require_each_completed_once(m);
}

TEST_CASE("blk core: init failures are clean", "[drivers][blk][DRV-1][FEAT-1][CAP-3]") {
  SECTION("device without VERSION_1") {
    BlkMachineOptions o;
    o.init = false;
    o.hide_features = contract::feature_mask(contract::kFeatureVersion1);
    BlkMachine m(o);
    CHECK(m.init() == BlkError::kTransport);
    CHECK(m.core.transport_error() == aerov::transport::TransportError::kNoVersion1);
    CHECK_FALSE(m.core.ready());
    CHECK((m.function->device_status() & 0x80) != 0);  // FAILED
    TestRequest& r = m.make(BlkOp::kRead, 0, sectors(1));
    CHECK(m.submit(r) == BlkError::kNotReady);
  }
  SECTION("DMA allocation fails") {
    BlkMachineOptions o;
    o.init = false;
    BlkMachine m(o);
    m.os->fail_allocations_after(1);
    CHECK(m.init() == BlkError::kNoMemory);
    CHECK_FALSE(m.core.ready());
    CHECK(m.os->logged("DMA allocation failed"));
  }
  SECTION("bad config") {
    BlkMachineOptions o;
    o.init = false;
    BlkMachine m(o);
    BlkCoreConfig cfg{};
    CHECK(m.core.init(*m.os, cfg) == BlkError::kInvalidArgument);
  }
}

TEST_CASE("blk core: read/write/flush round trips are byte-exact",
          "[drivers][blk][BLK-4][BLK-5][BLK-8][DMA-1][DMA-2]") {
  BlkMachineOptions o;
  o.disk_sectors = 2048;
  BlkMachine m(o);
  Shadow shadow(o.disk_sectors);
  std::mt19937 rng(20261125);
  for (int i = 0; i < 300; ++i) {
    const uint32_t count = 1 + rng() % 24;
    const uint64_t sector = rng() % (o.disk_sectors - count + 1);
    // Random piece lengths that add up to count * 512 (unaligned, odd).
    std::vector<uint32_t> pieces;
    uint32_t left = count * 512;
    while (left != 0) {
      const uint32_t len = std::min<uint32_t>(left, 1 + rng() % 3000);
      pieces.push_back(len);
      left -= len;
    }
    const int kind = static_cast<int>(rng() % 5);
    if (kind == 0) {
      TestRequest& f = m.make_flush();
      submit_ok(m, f);
    } else if (kind <= 2) {
      TestRequest& w = m.make(BlkOp::kWrite, sector, pieces, rng());
      submit_ok(m, w);
      m.service();
      REQUIRE(w.result == BlkResult::kSuccess);
      shadow.apply(w);
    } else {
      TestRequest& r = m.make(BlkOp::kRead, sector, pieces);
      submit_ok(m, r);
      m.service();
      REQUIRE(r.result == BlkResult::kSuccess);
      REQUIRE(same(m.buffer_bytes(r), shadow.range(sector, count)));
    }
    m.service();
  }
  require_each_completed_once(m);
  CHECK(same(m.disk_bytes(0, o.disk_sectors), shadow.bytes));
  CHECK(m.ram->flushes() > 0);
}

TEST_CASE("blk core: a request with more segments than seg_max is split",
          "[drivers][blk][BLK-4][BLK-6]") {
  BlkMachineOptions o;
  o.seg_max = 4;
  BlkMachine m(o);
  REQUIRE(m.core.max_segments_per_chain() == 4);
  // 37 pieces, lengths not multiples of 512, so chains end mid-piece.
  std::vector<uint32_t> pieces;
  uint32_t total = 0;
  for (int i = 0; i < 36; ++i) {
    pieces.push_back(100 + 37 * i);
    total += pieces.back();
  }
  pieces.push_back(512 * ((total + 511) / 512 + 1) - total);
  total += pieces.back();
  REQUIRE(total % 512 == 0);
  TestRequest& w = m.make(BlkOp::kWrite, 10, pieces, 99);
  submit_ok(m, w);
  m.service();
  CHECK(w.result == BlkResult::kSuccess);
  CHECK(m.core.counters().split == 1);
  CHECK(m.core.counters().parts_issued > 9);
  CHECK(m.device->stats().malformed == 0);
  CHECK(same(m.disk_bytes(10, total / 512), w.data));

  TestRequest& r = m.make(BlkOp::kRead, 10, pieces);
  submit_ok(m, r);
  m.service();
  CHECK(r.result == BlkResult::kSuccess);
  CHECK(same(m.buffer_bytes(r), w.data));
  require_each_completed_once(m);

  SECTION("a sector that cannot fit in seg_max pieces is refused up front") {
    BlkMachineOptions o1;
    o1.seg_max = 1;
    BlkMachine m1(o1);
    TestRequest& bad = m1.make(BlkOp::kRead, 0, {256, 256});
    CHECK(m1.submit(bad) == BlkError::kInvalidArgument);
    CHECK(bad.completions == 0);
    CHECK(m1.core.counters().rejected == 1);
  }
}

TEST_CASE("blk core: more requests than ring slots wait in the pending array",
          "[drivers][blk][BLK-1][VQ-5]") {
  BlkMachineOptions o;
  o.pending_capacity = 400 - 128;
  BlkMachine m(o);
  Shadow shadow(o.disk_sectors);
  // Nothing is reaped between submissions, so slots run out after 128.
  for (int i = 0; i < 400; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 3, sectors(2), 1000 + i);
    submit_ok(m, w);
    shadow.apply(w);
  }
  CHECK(m.core.in_flight_chains() == 128);
  CHECK(m.core.pending_count() == 400 - 128);
  CHECK(m.core.counters().queued == 400 - 128);
  // Full pending array: refused with kBusy, never completed.
  TestRequest& extra = m.make(BlkOp::kWrite, 0, sectors(1));
  CHECK(m.submit(extra) == BlkError::kBusy);
  m.requests.pop_back();
  m.service();
  require_each_completed_once(m);
  CHECK(m.core.counters().pending_high_water == 400 - 128);
  // FIFO: completion order equals submission order with a synchronous disk.
  bool fifo = m.completion_order.size() == m.requests.size();
  for (size_t i = 0; fifo && i < m.completion_order.size(); ++i) {
    fifo = m.completion_order[i] == &m.requests[i];
  }
  CHECK(fifo);
  CHECK(same(m.disk_bytes(0, o.disk_sectors), shadow.bytes));
}

TEST_CASE("blk core: without INDIRECT_DESC, chains are split by ring room",
          "[drivers][blk][VQ-4][BLK-4]") {
  BlkMachineOptions o;
  o.hide_features = contract::feature_mask(contract::kFeatureRingIndirectDesc);
  o.seg_max = 126;
  BlkMachine m(o);
  CHECK((m.core.features() & contract::feature_mask(contract::kFeatureRingIndirectDesc)) == 0);
  CHECK(m.os->allocations().size() == 2);  // no indirect pool
  Shadow shadow(o.disk_sectors);
  // Each request has 40 one-sector pieces: 42 descriptors per chain, so
  // only 3 fit in the 128-entry ring at once.
  for (int i = 0; i < 10; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 40,
                            std::vector<uint32_t>(40, 512), 50 + i);
    submit_ok(m, w);
    shadow.apply(w);
  }
  CHECK(m.core.in_flight_chains() == 3);
  m.service();
  require_each_completed_once(m);
  CHECK(same(m.disk_bytes(0, 400), shadow.range(0, 400)));
}

TEST_CASE("blk core: out-of-order completion", "[drivers][blk][VQ-5]") {
  BlkMachineOptions o;
  o.faulty = true;
  o.faulty_options.seed = 4242;
  o.faulty_options.min_delay = 0;
  o.faulty_options.max_delay = 30;
  BlkMachine m(o);
  Shadow shadow(o.disk_sectors);
  for (int i = 0; i < 200; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 5, {700, 300, 1048}, i);
    submit_ok(m, w);
    shadow.apply(w);
  }
  m.service();
  require_each_completed_once(m);
  bool reordered = false;
  for (size_t i = 0; i < m.completion_order.size(); ++i) {
    if (m.completion_order[i] != &m.requests[i]) reordered = true;
  }
  CHECK(reordered);
  CHECK(same(m.disk_bytes(0, 1000), shadow.range(0, 1000)));
  // Read back, also out of order, split across pieces.
  const size_t first_read = m.requests.size();
  for (int i = 0; i < 200; ++i) {
    submit_ok(m, m.make(BlkOp::kRead, static_cast<uint64_t>(i) * 5, {1000, 24, 1024}));
  }
  m.service();
  require_each_completed_once(m);
  int mismatches = 0;
  for (int i = 0; i < 200; ++i) {
    mismatches += m.buffer_bytes(m.requests[first_read + i]) !=
                  shadow.range(static_cast<uint64_t>(i) * 5, 4);
  }
  CHECK(mismatches == 0);
}

TEST_CASE("blk core: device status maps to request results", "[drivers][blk][BLK-5][BLK-6][BLK-7]") {
  SECTION("IOERR from the backend is an I/O error; other requests are unaffected") {
    BlkMachineOptions o;
    o.faulty = true;
    BlkMachine m(o);
    m.faulty->fail_sectors(100, 10);
    TestRequest& bad = m.make(BlkOp::kWrite, 95, sectors(8));
    TestRequest& good = m.make(BlkOp::kWrite, 200, sectors(8));
    submit_ok(m, bad);
    submit_ok(m, good);
    m.service();
    CHECK(bad.result == BlkResult::kIoError);
    CHECK(good.result == BlkResult::kSuccess);
    CHECK(m.core.counters().io_errors == 1);
    m.faulty->set_fail_flushes(true);
    TestRequest& f = m.make_flush();
    submit_ok(m, f);
    m.service();
    CHECK(f.result == BlkResult::kIoError);
    require_each_completed_once(m);
  }
  SECTION("one failing part fails the whole split request, once") {
    BlkMachineOptions o;
    o.faulty = true;
    o.seg_max = 2;
    BlkMachine m(o);
    m.faulty->fail_sectors(7, 1);
    TestRequest& r = m.make(BlkOp::kRead, 0, std::vector<uint32_t>(16, 512));
    submit_ok(m, r);
    m.service();
    CHECK(r.result == BlkResult::kIoError);
    CHECK(m.core.counters().parts_issued == 8);
    require_each_completed_once(m);
  }
  SECTION("UNSUPP is an invalid request; an unknown or unwritten status is an I/O error") {
    BlkMachine m;
    TestRequest& a = m.make(BlkOp::kRead, 0, sectors(1));
    TestRequest& b = m.make(BlkOp::kRead, 1, sectors(1));
    TestRequest& c = m.make(BlkOp::kRead, 2, sectors(1));
    submit_ok(m, a);  // slots are taken from 0 upwards
    submit_ok(m, b);
    submit_ok(m, c);
    // The device has completed all three (synchronous disk); rewrite their
    // status bytes as a device answering UNSUPP / garbage / nothing would.
    const uint8_t unsupp = 2, garbage = 0x37, unwritten = BlkCore::kStatusUnwritten;
    m.memory.write(m.status_pa(0), &unsupp, 1);
    m.memory.write(m.status_pa(1), &garbage, 1);
    m.memory.write(m.status_pa(2), &unwritten, 1);
    m.service();
    CHECK(a.result == BlkResult::kInvalidRequest);
    CHECK(b.result == BlkResult::kIoError);
    CHECK(c.result == BlkResult::kIoError);
    CHECK(m.core.counters().unsupported == 1);
    CHECK(m.core.counters().bad_status == 2);
    require_each_completed_once(m);
  }
  SECTION("requests the device would refuse are rejected before they reach it") {
    BlkMachineOptions o;
    o.disk_sectors = 100;
    BlkMachine m(o);
    TestRequest& beyond = m.make(BlkOp::kRead, 99, sectors(2));
    CHECK(m.submit(beyond) == BlkError::kOutOfRange);
    TestRequest& wrap = m.make(BlkOp::kRead, ~uint64_t{0}, sectors(1));
    CHECK(m.submit(wrap) == BlkError::kOutOfRange);
    TestRequest& mismatch = m.make(BlkOp::kWrite, 0, {512, 100});
    mismatch.req.sector_count = 1;
    CHECK(m.submit(mismatch) == BlkError::kLengthMismatch);
    TestRequest& empty = m.make(BlkOp::kWrite, 0, {512, 0});
    empty.req.sector_count = 1;
    CHECK(m.submit(empty) == BlkError::kInvalidArgument);
    TestRequest& zero = m.make(BlkOp::kRead, 0, {});
    CHECK(m.submit(zero) == BlkError::kInvalidArgument);
    TestRequest& flush_with_data = m.make(BlkOp::kWrite, 0, sectors(1));
    flush_with_data.req.op = BlkOp::kFlush;
    CHECK(m.submit(flush_with_data) == BlkError::kInvalidArgument);
    CHECK(m.core.submit(nullptr) == BlkError::kInvalidArgument);
    CHECK(m.core.counters().rejected == 7);
    CHECK(m.core.counters().submitted == 0);
    CHECK(m.device->stats().ioerr == 0);
    for (const auto& r : m.requests) CHECK(r.completions == 0);
  }
}

TEST_CASE("blk core: spurious interrupts on a shared INTx line are not claimed",
          "[drivers][blk][DRV-2][ISR-2][IRQ-1]") {
  BlkMachineOptions o;
  o.init = false;
  BlkMachine m(o);
  CHECK_FALSE(m.core.interrupt());  // before init: not attached, not ours
  m.core.poll();
  REQUIRE(m.init() == BlkError::kNone);
  CHECK_FALSE(m.intx.level());
  CHECK_FALSE(m.core.interrupt());
  CHECK(m.core.counters().spurious == 1);
  TestRequest& r = m.make(BlkOp::kRead, 0, sectors(1));
  submit_ok(m, r);
  REQUIRE(m.intx.level());
  CHECK(m.core.interrupt());
  CHECK_FALSE(m.intx.level());  // ISR read deasserted it
  CHECK(r.completions == 1);
  CHECK_FALSE(m.core.interrupt());
}

namespace {

// Writes `n` requests, breaks the device with `tamper` after submission,
// lets the core recover, and checks nothing is lost or completed twice.
template <typename Tamper>
void hostile_round_trip(BlkMachine& m, int n, Tamper tamper) {
  Shadow shadow(8192);
  for (int i = 0; i < n; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 8, {1000, 2072, 1024}, i + 1);
    submit_ok(m, w);
    shadow.apply(w);
  }
  tamper();
  m.service();
  REQUIRE(m.core.ready());
  require_each_completed_once(m);
  size_t failed = 0;
  for (const auto& r : m.requests) failed += r.result != BlkResult::kSuccess;
  REQUIRE(failed == 0);
  REQUIRE(same(m.disk_bytes(0, 8ull * n), shadow.range(0, 8ull * n)));
  // And the device works afterwards.
  TestRequest& r = m.make(BlkOp::kRead, 0, sectors(8));
  submit_ok(m, r);
  m.service();
  REQUIRE(r.result == BlkResult::kSuccess);
  REQUIRE(same(m.buffer_bytes(r), shadow.range(0, 8)));
  require_each_completed_once(m);
}

}  // namespace

TEST_CASE("blk core: a hostile used ring is detected and recovered without loss",
          "[drivers][blk][VQ-9][STAT-4]") {
  BlkMachine m;
  const uint16_t position = 5;  // the sixth completion is corrupted
  SECTION("used.id out of range") {
    hostile_round_trip(m, 20, [&] { m.poke_used(position, 500, 0); });
    CHECK(m.core.queue().broken_reason() == aerov::virtqueue::BrokenReason::kNone);
  }
  SECTION("used.id names a head that is not outstanding") {
    hostile_round_trip(m, 20, [&] { m.poke_used(position, 100, 0); });
  }
  SECTION("used.len larger than the chain's writable bytes") {
    hostile_round_trip(m, 20, [&] {
      uint32_t id = 0;
      m.memory.read(m.used_pa() + 4 + 8 * position, &id, 4);
      m.poke_used(position, id, 0x100000);
    });
  }
  SECTION("used.idx jumps more than N ahead") {
    hostile_round_trip(m, 20, [&] {
      const uint16_t idx = static_cast<uint16_t>(m.used_idx() + 300);
      m.memory.write(m.used_pa() + 2, &idx, 2);
    });
  }
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.counters().reissued >= 1);
  CHECK(m.os->logged("VQ-9"));
}

TEST_CASE("blk core: DEVICE_NEEDS_RESET mid-flight is recovered without loss or double completion",
          "[drivers][blk][STAT-4][BLK-8]") {
  BlkMachineOptions o;
  o.faulty = true;
  o.faulty_options.seed = 77;
  o.faulty_options.min_delay = 2;
  o.faulty_options.max_delay = 40;
  BlkMachine m(o);
  Shadow shadow(o.disk_sectors);
  for (int i = 0; i < 150; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 4, {1536, 512}, 300 + i);
    submit_ok(m, w);
    shadow.apply(w);
  }
  // Let some complete, then the device gives up mid-flight (STAT-4).
  for (int i = 0; i < 10; ++i) {
    m.function->process_queue(0);
    m.interrupt_if_asserted();
  }
  const uint64_t done_before = m.core.counters().completed;
  CHECK(done_before < 150);
  m.function->set_needs_reset();
  REQUIRE(m.intx.level());  // config interrupt
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.counters().reissued > 0);
  require_each_completed_once(m);
  size_t failed = 0;
  for (const auto& r : m.requests) failed += r.result != BlkResult::kSuccess;
  CHECK(failed == 0);
  TestRequest& f = m.make_flush();
  submit_ok(m, f);
  m.service();
  CHECK(f.result == BlkResult::kSuccess);
  CHECK(same(m.disk_bytes(0, 600), shadow.range(0, 600)));
  CHECK(m.os->logged("needs reset"));
}

TEST_CASE("blk core: a reset the OS asks for loses and repeats nothing",
          "[drivers][blk][STAT-2][STAT-3]") {
  BlkMachineOptions o;
  o.faulty = true;
  o.faulty_options.seed = 78;
  o.faulty_options.min_delay = 2;
  o.faulty_options.max_delay = 40;
  BlkMachine m(o);
  Shadow shadow(o.disk_sectors);
  for (int i = 0; i < 100; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 4, {1024, 1024}, 500 + i);
    submit_ok(m, w);
    shadow.apply(w);
  }
  for (int i = 0; i < 10; ++i) m.function->process_queue(0);  // some finish, unharvested
  const uint64_t done_before = m.core.counters().completed;
  m.core.reset();
  CHECK(m.core.counters().os_resets == 1);
  CHECK(m.core.counters().resets == 0);  // not a recovery
  CHECK(m.core.counters().completed >= done_before);
  CHECK(m.core.ready());
  m.service();
  require_each_completed_once(m);
  for (const auto& r : m.requests) CHECK(r.result == BlkResult::kSuccess);
  TestRequest& f = m.make_flush();
  submit_ok(m, f);
  m.service();
  CHECK(f.result == BlkResult::kSuccess);
  CHECK(same(m.disk_bytes(0, 400), shadow.range(0, 400)));
}

TEST_CASE("blk core: NEEDS_RESET found by poll() is recovered too", "[drivers][blk][STAT-4]") {
  BlkMachineOptions o;
  o.faulty = true;
  o.faulty_options.min_delay = 5;
  o.faulty_options.max_delay = 5;
  BlkMachine m(o);
  TestRequest& w = m.make(BlkOp::kWrite, 3, sectors(3), 5);
  submit_ok(m, w);
  m.function->set_needs_reset();
  m.core.poll();
  CHECK(m.core.counters().resets == 1);
  m.service();
  require_each_completed_once(m);
  CHECK(same(m.disk_bytes(3, 3), w.data));
}

TEST_CASE("blk core: a device that keeps breaking is failed and every request completes once",
          "[drivers][blk][STAT-4][VQ-9]") {
  BlkMachineOptions o;
  o.faulty = true;
  o.faulty_options.min_delay = 1000;  // nothing ever completes in time
  o.faulty_options.max_delay = 1000;
  o.pending_capacity = 200;
  BlkMachine m(o);
  for (int i = 0; i < 150; ++i) {
    submit_ok(m, m.make(BlkOp::kWrite, static_cast<uint64_t>(i), sectors(1), i));
  }
  REQUIRE(m.core.pending_count() == 150 - 128);
  for (uint32_t i = 0; i <= BlkCore::kMaxResetsWithoutProgress; ++i) {
    m.function->set_needs_reset();
    REQUIRE(m.core.interrupt());
  }
  CHECK(m.core.failed());
  CHECK((m.function->device_status() & 0x80) != 0);
  require_each_completed_once(m);
  size_t not_aborted = 0;
  for (const auto& r : m.requests) not_aborted += r.result != BlkResult::kAborted;
  CHECK(not_aborted == 0);
  TestRequest& late = m.make(BlkOp::kRead, 0, sectors(1));
  CHECK(m.submit(late) == BlkError::kNotReady);
  m.requests.pop_back();
  CHECK(m.os->logged("device failed"));
}

TEST_CASE("blk core: random workloads with faults keep every request exactly once (property)",
          "[drivers][blk][VQ-5][VQ-9][STAT-4][BLK-4]") {
  rc::prop("writes land, reads match, each request completes once", [] {
    BlkMachineOptions o;
    o.faulty = true;
    o.disk_sectors = 512;
    o.seg_max = *rc::gen::inRange<uint32_t>(1, 130);
    o.faulty_options.seed = *rc::gen::arbitrary<uint32_t>();
    o.faulty_options.max_delay = *rc::gen::inRange<uint32_t>(0, 20);
    o.pending_capacity = 64;
    if (*rc::gen::arbitrary<bool>()) {
      o.hide_features = contract::feature_mask(contract::kFeatureRingIndirectDesc);
    }
    BlkMachine m(o);
    Shadow shadow(o.disk_sectors);
    const int n = *rc::gen::inRange(1, 60);
    for (int i = 0; i < n; ++i) {
      const uint32_t count = *rc::gen::inRange<uint32_t>(1, 17);
      const uint64_t sector = *rc::gen::inRange<uint64_t>(0, o.disk_sectors - count + 1);
      // Pieces of at least 512 bytes, so two pieces always carry a sector;
      // with seg_max 1 whole sectors (else the core refuses, as it must).
      std::vector<uint32_t> pieces;
      uint32_t left = count * 512;
      while (left != 0) {
        uint32_t len = std::min(left, *rc::gen::inRange<uint32_t>(512, 4096));
        if (o.seg_max == 1) len &= ~511u;
        if (left - len != 0 && left - len < 512) len = left;
        pieces.push_back(len);
        left -= len;
      }
      const bool write = *rc::gen::arbitrary<bool>();
      // A write runs alone (everything before it completes first, and it
      // completes before the next request): virtio orders nothing between
      // requests in flight, and a reset reissues them in any order. Reads
      // and flushes overlap freely.
      if (write) m.service();
      TestRequest& r = m.make(write ? BlkOp::kWrite : BlkOp::kRead, sector, pieces, i);
      RC_ASSERT(m.submit(r) == BlkError::kNone);
      if (write) {
        m.service();
        shadow.apply(r);
      } else {
        r.data = shadow.range(sector, count);
      }
      const int event = *rc::gen::inRange(0, 10);
      if (event == 0) m.function->set_needs_reset();
      if (event == 1) RC_ASSERT(m.submit(m.make_flush()) == BlkError::kNone);
      if (event == 2) m.service(3);
    }
    m.service();
    RC_ASSERT(m.core.ready());
    for (const auto& r : m.requests) {
      RC_ASSERT(r.completions == 1);
      RC_ASSERT(r.result == BlkResult::kSuccess);
      if (r.req.op == BlkOp::kRead) RC_ASSERT(m.buffer_bytes(r) == r.data);
    }
    RC_ASSERT(m.stray_completions == 0u);
    RC_ASSERT(m.disk_bytes(0, o.disk_sectors) == shadow.bytes);
  });
}

TEST_CASE("blk core: a config interrupt without NEEDS_RESET re-reads the config, no reset",
          "[drivers][blk][CFG-4][IRQ-3][ISR-1]") {
  BlkMachine m;
  m.function->config_changed();
  REQUIRE(m.intx.level());
  CHECK(m.core.interrupt());
  CHECK_FALSE(m.intx.level());
  CHECK(m.core.counters().config_changes == 1);
  CHECK(m.core.counters().resets == 0);
  CHECK(m.core.capacity() == 8192);
  TestRequest& r = m.make(BlkOp::kRead, 8191, sectors(1));
  submit_ok(m, r);
  m.service();
  CHECK(r.result == BlkResult::kSuccess);
  require_each_completed_once(m);
}
