// The Windows 7 virtio-net core (drivers/windows7/common/net_core) against
// the real virtio-net device model through the real virtio-pci transport.
#include <catch2/catch.hpp>
#include <functional>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/windows7/common/blk_core.hpp"
#include "drivers/windows7/common/input_core.hpp"
#include "tests/drivers/net_machine.hpp"
#include "virtqueue/layout.hpp"

namespace {

using aerov::drivers::testing::NetMachine;
using aerov::drivers::testing::NetMachineOptions;
using aerov::drivers::testing::TestFrame;
using namespace aerov::drivers::windows7;
namespace contract = aerov::contract;

constexpr uint64_t kExpectedFeatures = contract::feature_mask(contract::kFeatureVersion1) |
                                       contract::feature_mask(contract::kFeatureRingIndirectDesc) |
                                       contract::feature_mask(contract::kFeatureNetMac) |
                                       contract::feature_mask(contract::kFeatureNetStatus);

// Every frame made so far completed exactly once, and nothing else did.
void require_each_completed_once(const NetMachine& m) {
  size_t not_once = 0;
  for (const auto& f : m.frames) not_once += f.completions != 1;
  REQUIRE(not_once == 0);
  REQUIRE(m.stray_completions == 0);
  REQUIRE(m.core.tx_in_flight() == 0);
}

void transmit_ok(NetMachine& m, TestFrame& f) {
  const NetError e = m.transmit(f);
  if (e != NetError::kNone) FAIL("transmit refused: " << to_string(e));
}

// Compared outside the assertion so the JUnit reporter does not print
// every byte of every passing check.
bool same(const std::vector<std::vector<uint8_t>>& a, const std::vector<std::vector<uint8_t>>& b) {
  return a == b;
}

std::vector<uint8_t> frame_bytes(uint32_t length, uint8_t tag) {
  std::vector<uint8_t> f(length);
  for (uint32_t i = 0; i < length; ++i) f[i] = static_cast<uint8_t>(tag + i * 7);
  return f;
}

// The core's receive ring: the device-writable buffers it posted.
struct PostedRx {
  size_t count = 0;
  size_t right_shape = 0;  // one writable descriptor of 10 + 1522 bytes
};

PostedRx posted_rx(const NetMachine& m) {
  const auto layout = aerov::virtqueue::ring_layout(m.core.rx_queue_size(), false);
  const uint64_t ring = m.os->allocations().at(0).pa;
  uint16_t avail_idx = 0;
  m.memory.read(ring + layout.avail_offset + 2, &avail_idx, 2);
  PostedRx out;
  out.count = avail_idx;
  for (uint16_t i = 0; i < avail_idx && i < m.core.rx_queue_size(); ++i) {
    uint16_t head = 0;
    m.memory.read(ring + layout.avail_offset + 4 + 2u * i, &head, 2);
    aerov::virtqueue::VirtqDesc d{};
    m.memory.read(ring + layout.desc_offset + 16u * head, &d, sizeof d);
    if (d.len == NetCore::kRxBufferBytes && d.flags == aerov::virtqueue::kDescFWrite) {
      ++out.right_shape;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("net core: init negotiates the contract features, reads MAC and link, fills rxq",
          "[drivers][net][DRV-1][STAT-3][NET-1][NET-2][NET-3][NET-7]") {
  NetMachineOptions o;
  o.device.mac = {0x02, 0xAE, 0x20, 0x00, 0x00, 0x07};
  NetMachine m(o);
  CHECK(m.core.ready());
  CHECK(m.core.features() == kExpectedFeatures);
  CHECK(std::equal(o.device.mac.begin(), o.device.mac.end(), m.core.mac()));
  CHECK(m.core.link_up());
  CHECK(m.core.rx_queue_size() == 256);
  CHECK(m.core.tx_queue_size() == 256);
  CHECK(m.core.rx_posted() == 256);
  const PostedRx rx = posted_rx(m);
  CHECK(rx.count == 256);
  CHECK(rx.right_shape == 256);
  CHECK((m.function->device_status() & 0x04) != 0);  // DRIVER_OK
  // DMA-2: every allocation lies above 4 GiB and the core kept to its window.
  for (const auto& a : m.os->allocations()) CHECK(a.pa >= NetMachine::kHighRam);
  CHECK(m.os->logged("net: ready"));
}

TEST_CASE("net core: init refuses a device without two queues of a usable size",
          "[drivers][net][DRV-1]") {
  NetMachineOptions o;
  o.init = false;
  NetMachine m(o);
  NetCoreConfig bad{};
  CHECK(m.core.init(*m.os, bad) == NetError::kInvalidArgument);
  m.os->fail_allocations_after(1);
  CHECK(m.init() == NetError::kNoMemory);
  CHECK_FALSE(m.core.ready());
  CHECK((m.function->device_status() & 0x80) != 0);  // FAILED
  CHECK(m.transmit(m.make(60)) == NetError::kNotReady);
  CHECK(m.core.counters().tx_refused_invalid == 1);
}

TEST_CASE("net core: configs default to the contract and refuse an unknown header layout",
          "[drivers][net][NET-4]") {
  // Permissive capabilities and the virtio 1.x header are opt-in (QEMU
  // interop, conformance/qtest); nothing changes for a caller that does
  // not ask.
  CHECK(NetCoreConfig{}.validation == aerov::transport::ValidationMode::kStrict);
  CHECK(NetCoreConfig{}.header == NetHeaderLayout::kContract);
  CHECK(aerov::drivers::windows7::BlkCoreConfig{}.validation ==
        aerov::transport::ValidationMode::kStrict);
  CHECK(aerov::drivers::windows7::InputCoreConfig{}.validation ==
        aerov::transport::ValidationMode::kStrict);
  NetMachineOptions o;
  o.init = false;
  NetMachine m(o);
  NetCoreConfig cfg{};
  cfg.on_tx_done = [](void*, void*, NetTxResult) {};
  cfg.on_receive = [](void*, const uint8_t*, uint32_t) {};
  cfg.header = static_cast<NetHeaderLayout>(7);
  CHECK(m.core.init(*m.os, cfg) == NetError::kInvalidArgument);
}

TEST_CASE("net core: transmitted frames reach the wire byte-exact, header + fragments",
          "[drivers][net][NET-4][NET-5][NET-6]") {
  NetMachine m;
  const std::vector<std::pair<uint32_t, std::vector<uint32_t>>> shapes = {
      {14, {}},           {60, {}},      {64, {14, 0}},         {1514, {14, 20, 8, 0}},
      {1522, {100, 0}},   {333, {1, 1, 1, 1, 1, 1, 1, 0}},
  };
  std::vector<std::vector<uint8_t>> expected;
  uint32_t seed = 1;
  for (const auto& [length, pieces] : shapes) {
    TestFrame& f = m.make(length, pieces, seed++);
    transmit_ok(m, f);
    expected.push_back(f.bytes);
  }
  // 32 fragments, the most the core chains.
  TestFrame& many = m.make(200, std::vector<uint32_t>(NetCore::kMaxTxFragments, 6), seed++);
  REQUIRE(many.fragments.size() == NetCore::kMaxTxFragments);
  transmit_ok(m, many);
  expected.push_back(many.bytes);
  m.service();
  CHECK(same(m.sent, expected));
  require_each_completed_once(m);
  CHECK(m.core.counters().tx_frames == expected.size());
  CHECK(m.device->stats().tx_frames == expected.size());
  CHECK(m.received.empty());
}

TEST_CASE("net core: received frames are handed up byte-exact and buffers reposted",
          "[drivers][net][NET-4][NET-7]") {
  NetMachine m;
  std::vector<std::vector<uint8_t>> expected;
  // Four times the ring: the core must keep reposting.
  for (uint32_t i = 0; i < 1024; ++i) {
    const uint32_t length = 14 + (i * 37) % (1522 - 14 + 1);
    expected.push_back(frame_bytes(length, static_cast<uint8_t>(i)));
    REQUIRE(m.device->deliver(expected.back()));
    if (i % 100 == 99) m.service();  // sometimes a burst waits in the host queue
  }
  m.service();
  CHECK(same(m.received, expected));
  CHECK(m.core.counters().rx_frames == 1024);
  CHECK(m.core.rx_posted() == 256);
  CHECK(m.device->stats().rx_overflow == 0);
  CHECK(m.device->stats().rx_too_small == 0);
}

TEST_CASE("net core: loopback, frames sent come back in order", "[drivers][net][NET-6][NET-7]") {
  NetMachineOptions o;
  o.loopback = true;
  NetMachine m(o);
  std::vector<std::vector<uint8_t>> expected;
  for (uint32_t i = 0; i < 600; ++i) {
    TestFrame& f = m.make(60 + i % 1400, {}, i);
    transmit_ok(m, f);
    expected.push_back(f.bytes);
    if (i % 50 == 0) m.service();
  }
  m.service();
  CHECK(same(m.received, expected));
  require_each_completed_once(m);
}

TEST_CASE("net core: frames the contract forbids are refused and counted per cause",
          "[drivers][net][NET-5][NET-6]") {
  NetMachine m;
  CHECK(m.transmit(m.make(13)) == NetError::kBadLength);
  CHECK(m.transmit(m.make(1523)) == NetError::kBadLength);
  CHECK(m.core.counters().tx_refused_length == 2);
  TestFrame& many = m.make(400, std::vector<uint32_t>(NetCore::kMaxTxFragments + 1, 10));
  CHECK(m.transmit(many) == NetError::kTooManyFragments);
  CHECK(m.core.counters().tx_refused_fragments == 1);
  TestFrame& zero = m.make(60, {30, 0});
  zero.fragments.insert(zero.fragments.begin() + 1, NetFragment{zero.fragments[0].addr, 0});
  CHECK(m.transmit(zero) == NetError::kInvalidArgument);
  CHECK(m.core.transmit(NetTxFrame{nullptr, 1, nullptr}) == NetError::kInvalidArgument);
  CHECK(m.core.counters().tx_refused_invalid == 2);
  CHECK(m.core.counters().tx_frames == 0);
  CHECK(m.sent.empty());
  // Nothing refused reached the ring: a good frame still goes out.
  m.frames.clear();
  TestFrame& good = m.make(60);
  transmit_ok(m, good);
  m.service();
  CHECK(m.sent.size() == 1);
  require_each_completed_once(m);
}

TEST_CASE("net core: a full txq refuses with kBusy and takes frames again after completions",
          "[drivers][net][NET-1][NET-6]") {
  SECTION("indirect: one ring descriptor per frame") {
    NetMachine m;
    m.hold_tx(true);
    for (int i = 0; i < 256; ++i) transmit_ok(m, m.make(60, {20, 20, 0}, i));
    CHECK(m.core.tx_in_flight() == 256);
    TestFrame& extra = m.make(60);
    CHECK(m.transmit(extra) == NetError::kBusy);
    CHECK(m.core.counters().tx_refused_busy == 1);
    m.hold_tx(false);
    m.release_tx();
    m.service();
    transmit_ok(m, extra);
    m.service();
    CHECK(m.sent.size() == 257);
    require_each_completed_once(m);
  }
  SECTION("without INDIRECT_DESC the ring's descriptors run out first") {
    NetMachineOptions o;
    o.hide_features = contract::feature_mask(contract::kFeatureRingIndirectDesc);
    NetMachine m(o);
    CHECK(m.core.features() == (kExpectedFeatures & ~o.hide_features));
    m.hold_tx(true);
    // 1 header + 32 fragments = 33 descriptors: 7 frames fit in 256.
    int accepted = 0;
    for (int i = 0; i < 8; ++i) {
      TestFrame& f = m.make(400, std::vector<uint32_t>(NetCore::kMaxTxFragments, 10), i);
      if (m.transmit(f) == NetError::kNone) {
        ++accepted;
      } else {
        m.frames.pop_back();
      }
    }
    CHECK(accepted == 256 / 33);
    CHECK(m.core.counters().tx_refused_busy == 8 - 256 / 33);
    m.hold_tx(false);
    m.release_tx();
    m.service();
    CHECK(m.sent.size() == static_cast<size_t>(accepted));
    require_each_completed_once(m);
  }
}

TEST_CASE("net core: link changes are reported and TX is refused while down",
          "[drivers][net][NET-3][CFG-4][IRQ-3]") {
  NetMachine m;
  m.device->set_link_up(false);
  REQUIRE(m.intx.level());  // config interrupt
  m.service();
  CHECK_FALSE(m.core.link_up());
  CHECK(m.link_events == std::vector<bool>{false});
  CHECK(m.transmit(m.make(60)) == NetError::kLinkDown);
  CHECK(m.core.counters().tx_refused_link_down == 1);
  m.frames.clear();
  m.device->set_link_up(true);
  m.service();
  CHECK(m.core.link_up());
  CHECK(m.link_events == std::vector<bool>{false, true});
  transmit_ok(m, m.make(60));
  m.service();
  CHECK(m.sent.size() == 1);
  CHECK(m.core.counters().resets == 0);
  CHECK(m.core.counters().config_changes == 2);
}

TEST_CASE("net core: without STATUS the link is taken as up", "[drivers][net][NET-2][NET-3]") {
  NetMachineOptions o;
  o.hide_features = contract::feature_mask(contract::kFeatureNetStatus);
  o.device.link_up = true;
  NetMachine m(o);
  CHECK(m.core.link_up());
  transmit_ok(m, m.make(60));
  m.service();
  CHECK(m.sent.size() == 1);
}

TEST_CASE("net core: spurious interrupts on a shared INTx line are not claimed",
          "[drivers][net][DRV-2][ISR-2][IRQ-1]") {
  NetMachine m;
  CHECK_FALSE(m.core.interrupt());
  CHECK(m.core.counters().spurious == 1);
  REQUIRE(m.device->deliver(frame_bytes(60, 1)));
  CHECK(m.intx.level());
  CHECK(m.core.interrupt());
  CHECK_FALSE(m.intx.level());
  CHECK(m.received.size() == 1);
}

TEST_CASE("net core: a receive shorter than header + 14 bytes is dropped and the buffer reposted",
          "[drivers][net][NET-7][VQ-9]") {
  NetMachine m;
  REQUIRE(m.device->deliver(frame_bytes(60, 1)));
  // Before the core looks, the device "completes" it with a runt length.
  const uint16_t position = static_cast<uint16_t>(m.used_idx(0, 256) - 1);
  uint32_t id = 0;
  m.memory.read(m.used_pa(0, 256) + 4 + 8u * position, &id, 4);
  m.poke_used(0, 256, position, id, NetCore::kHeaderBytes + 13);
  m.service();
  CHECK(m.received.empty());
  CHECK(m.core.counters().rx_runt == 1);
  CHECK(m.core.rx_posted() == 256);
  REQUIRE(m.device->deliver(frame_bytes(80, 2)));
  m.service();
  CHECK(same(m.received, {frame_bytes(80, 2)}));
  CHECK(m.core.counters().resets == 0);
}

TEST_CASE("net core: a hostile used ring is detected and recovered without loss",
          "[drivers][net][VQ-9][STAT-4]") {
  NetMachineOptions o;
  o.loopback = true;
  NetMachine m(o);
  // rxq is DMA allocation 0, txq allocation 1; both have 256 entries.
  std::function<void()> corrupt;
  SECTION("rxq: used.id out of range") {
    corrupt = [&] { m.poke_used(0, 256, m.used_idx(0, 256) - 1, 999, 70); };
  }
  SECTION("rxq: used.len beyond the buffer") {
    corrupt = [&] {
      const uint16_t p = static_cast<uint16_t>(m.used_idx(0, 256) - 1);
      uint32_t id = 0;
      m.memory.read(m.used_pa(0, 256) + 4 + 8u * p, &id, 4);
      m.poke_used(0, 256, p, id, NetCore::kRxBufferBytes + 1);
    };
  }
  SECTION("txq: used.len > 0 on a chain with no writable bytes") {
    corrupt = [&] {
      const uint16_t p = static_cast<uint16_t>(m.used_idx(1, 256) - 1);
      uint32_t id = 0;
      m.memory.read(m.used_pa(1, 256) + 4 + 8u * p, &id, 4);
      m.poke_used(1, 256, p, id, 4);
    };
  }
  SECTION("txq: used.idx jumps more than N ahead") {
    corrupt = [&] {
      const uint16_t idx = static_cast<uint16_t>(m.used_idx(1, 256) + 300);
      m.memory.write(m.used_pa(1, 256) + 2, &idx, 2);
    };
  }
  std::vector<std::vector<uint8_t>> expected;
  for (int i = 0; i < 20; ++i) {
    TestFrame& f = m.make(100 + i, {}, i);
    transmit_ok(m, f);
    expected.push_back(f.bytes);
  }
  corrupt();
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.os->logged("VQ-9"));
  CHECK(m.core.ready());
  require_each_completed_once(m);
  // The core works on: more frames go around the loop.
  for (int i = 0; i < 20; ++i) {
    TestFrame& f = m.make(200 + i, {}, 100 + i);
    transmit_ok(m, f);
  }
  m.service();
  require_each_completed_once(m);
  CHECK(m.core.rx_posted() == 256);
  CHECK(m.core.counters().resets == 1);
}

TEST_CASE("net core: DEVICE_NEEDS_RESET mid-flight reissues every frame exactly once",
          "[drivers][net][STAT-4]") {
  NetMachine m;
  m.hold_tx(true);  // the device has not seen any of them
  std::vector<std::vector<uint8_t>> expected;
  for (int i = 0; i < 40; ++i) {
    TestFrame& f = m.make(60 + i, {30, 0}, i);
    transmit_ok(m, f);
    expected.push_back(f.bytes);
  }
  m.hold_tx(false);
  m.function->set_needs_reset();
  REQUIRE(m.intx.level());
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.counters().reissued == 40);
  require_each_completed_once(m);
  CHECK(same(m.sent, expected));  // each exactly once, in order
  size_t not_sent = 0;
  for (const auto& f : m.frames) not_sent += f.result != NetTxResult::kSent;
  CHECK(not_sent == 0);
  // Receive works after the reset.
  REQUIRE(m.device->deliver(frame_bytes(70, 9)));
  m.service();
  CHECK(same(m.received, {frame_bytes(70, 9)}));
  CHECK(m.os->logged("needs reset"));
}

TEST_CASE("net core: a reset the OS asks for keeps received frames and reissues unsent ones",
          "[drivers][net][STAT-2][STAT-3]") {
  NetMachine m;
  // A frame the device already received but the core has not taken yet.
  REQUIRE(m.device->deliver(frame_bytes(80, 1)));
  m.hold_tx(true);  // the device has not seen any of these
  std::vector<std::vector<uint8_t>> expected;
  for (int i = 0; i < 20; ++i) {
    TestFrame& f = m.make(60 + i, {20, 0}, i);
    transmit_ok(m, f);
    expected.push_back(f.bytes);
  }
  m.hold_tx(false);
  m.core.reset();
  CHECK(m.core.counters().os_resets == 1);
  CHECK(m.core.counters().resets == 0);
  CHECK(m.core.counters().reissued == 20);
  CHECK(same(m.received, {frame_bytes(80, 1)}));  // taken before the reset
  m.service();
  require_each_completed_once(m);
  CHECK(same(m.sent, expected));
  REQUIRE(m.device->deliver(frame_bytes(90, 2)));
  m.service();
  CHECK(same(m.received, {frame_bytes(80, 1), frame_bytes(90, 2)}));
}

TEST_CASE("net core: NEEDS_RESET found by poll() is recovered too", "[drivers][net][STAT-4]") {
  NetMachine m;
  m.function->set_needs_reset();
  m.core.poll();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.ready());
  CHECK(m.core.rx_posted() == 256);
}

TEST_CASE("net core: a device that keeps breaking is failed and every frame completes once",
          "[drivers][net][STAT-4]") {
  NetMachine m;
  m.hold_tx(true);
  for (int i = 0; i < 30; ++i) transmit_ok(m, m.make(60, {}, i));
  for (uint32_t i = 0; i <= NetCore::kMaxResetsWithoutProgress; ++i) {
    m.function->set_needs_reset();
    REQUIRE(m.core.interrupt());
  }
  CHECK(m.core.failed());
  CHECK((m.function->device_status() & 0x80) != 0);
  require_each_completed_once(m);
  size_t not_aborted = 0;
  for (const auto& f : m.frames) not_aborted += f.result != NetTxResult::kAborted;
  CHECK(not_aborted == 0);
  CHECK(m.core.counters().tx_aborted == 30);
  CHECK(m.link_events == std::vector<bool>{false});
  CHECK(m.transmit(m.make(60)) == NetError::kNotReady);
  m.frames.pop_back();
  CHECK(m.os->logged("device failed"));
}

TEST_CASE("net core: random traffic with resets and link flaps loses nothing (property)",
          "[drivers][net][STAT-4][NET-6][NET-7]") {
  rc::prop("every accepted frame completes once, every delivered frame arrives once in order",
           [] {
    NetMachine m;
    std::vector<std::vector<uint8_t>> delivered;  // host -> guest frames the device accepted
    uint64_t progress_at_last_reset = ~uint64_t{0};
    const int steps = *rc::gen::inRange(1, 200);
    for (int s = 0; s < steps; ++s) {
      switch (*rc::gen::inRange(0, 7)) {
        case 0:
        case 1: {
          const auto length = *rc::gen::inRange<uint32_t>(14, 1523);
          TestFrame& f = m.make(length, {length / 2, 0}, static_cast<uint32_t>(s));
          const NetError e = m.transmit(f);
          RC_ASSERT(e == NetError::kNone || e == NetError::kBusy || e == NetError::kLinkDown);
          if (e != NetError::kNone) m.frames.pop_back();
          break;
        }
        case 2: {
          auto frame = frame_bytes(*rc::gen::inRange<uint32_t>(14, 1523), static_cast<uint8_t>(s));
          if (m.device->deliver(frame)) delivered.push_back(frame);
          break;
        }
        case 3: m.service(); break;
        case 4: {
          const bool hold = *rc::gen::arbitrary<bool>();
          m.hold_tx(hold);
          if (!hold) m.release_tx();
          break;
        }
        case 5: m.device->set_link_up(!m.device->link_up()); break;
        case 6: {
          // A device that fails again without any progress is given up on
          // (tested elsewhere); here every reset follows some progress.
          const uint64_t progress = m.core.counters().rx_frames + m.core.counters().tx_completed;
          if (progress != progress_at_last_reset) {
            progress_at_last_reset = progress;
            m.function->set_needs_reset();
          }
          break;
        }
      }
    }
    m.hold_tx(false);
    m.release_tx();
    m.device->set_link_up(true);
    m.service();
    RC_ASSERT(m.core.ready());
    RC_ASSERT(m.stray_completions == 0u);
    for (const auto& f : m.frames) RC_ASSERT(f.completions == 1);
    RC_ASSERT(m.core.tx_in_flight() == 0u);
    RC_ASSERT(m.core.rx_posted() == 256u);
    // Injected frames arrive in order and at most once; each one missing is
    // counted by the device under exactly one cause.
    const auto& st = m.device->stats();
    RC_ASSERT(m.received.size() + st.rx_overflow + st.rx_reset == delivered.size());
    size_t at = 0;
    for (const auto& r : m.received) {
      while (at < delivered.size() && delivered[at] != r) ++at;
      RC_ASSERT(at < delivered.size());
      ++at;
    }
  });
}
