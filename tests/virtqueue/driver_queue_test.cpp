// The driver-side split ring (virtqueue/driver) against the real device ring
// (QueuePair), and against a hostile device whose used-ring state is written
// raw into guest memory.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/layout.hpp"
#include "virtqueue/testing/ring_builder.hpp"

using namespace aerov::virtqueue;
using aerov::model::GuestMemory;
using aerov::model::MemError;
using aerov::virtqueue::testing::QueuePair;
using aerov::virtqueue::testing::QueuePairOptions;

namespace Catch {
template <>
struct StringMaker<DriverStatus> {
  static std::string convert(DriverStatus s) { return to_string(s); }
};
template <>
struct StringMaker<BrokenReason> {
  static std::string convert(BrokenReason r) { return to_string(r); }
};
template <>
struct StringMaker<PopStatus> {
  static std::string convert(PopStatus s) { return std::to_string(static_cast<int>(s)); }
};
}  // namespace Catch

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t k4G = 0x1'0000'0000ull;
constexpr uint64_t kFar = 0x7f00'0000'0000ull;  // far above 4 GiB (DMA-2)
constexpr uint64_t kBuffers = k4G + 8 * kMiB;    // where request buffers live

// A segment described by direction and length; Rig::place gives it an address.
struct Seg {
  bool writable;
  uint32_t len;
};
constexpr Seg R(uint32_t len) { return {false, len}; }
constexpr Seg W(uint32_t len) { return {true, len}; }

// Distinct non-null cookies, and back.
void* cookie(uintptr_t i) { return reinterpret_cast<void*>(0x1000 + i); }
size_t index_of(void* cookie) { return reinterpret_cast<uintptr_t>(cookie) - 0x1000; }

// Guest memory with RAM below 4 GiB, just below and above 4 GiB (adjacent
// regions) and far above it, a driver ring and a device ring over it.
class Rig {
 public:
  explicit Rig(const QueuePairOptions& o = {}) : opts(o), pair(map_ram(mem), o) {}

  GuestMemory mem;
  QueuePairOptions opts;
  QueuePair pair;
  DriverQueue& driver = pair.driver;
  DeviceQueue& device = pair.device;

  uint16_t n() const { return opts.size; }

  // Gives each segment its own 4 KiB-spaced buffer in high RAM.
  std::vector<Segment> place(const std::vector<Seg>& segs) {
    std::vector<Segment> out;
    for (const Seg& s : segs) {
      out.push_back(Segment{next_buffer_, s.len, s.writable});
      next_buffer_ += 0x1000;
    }
    return out;
  }

  DriverStatus add(const std::vector<Segment>& segs, void* c) {
    return driver.add(segs.data(), static_cast<uint16_t>(segs.size()), c);
  }
  std::vector<Segment> submit(const std::vector<Seg>& segs, void* c) {
    std::vector<Segment> placed = place(segs);
    REQUIRE(add(placed, c) == DriverStatus::kOk);
    driver.publish();
    return placed;
  }

  // The helpers below assert only on failure (FAIL) rather than through
  // REQUIRE, so loops of tens of thousands of calls stay fast under ASan.
  DescChain pop() {
    DescChain chain;
    if (const PopStatus st = device.pop(chain); st != PopStatus::kChain) {
      FAIL("device pop returned " << Catch::Detail::stringify(st));
    }
    return chain;
  }
  // Pops one chain and completes it at once.
  uint16_t serve(uint32_t len) {
    const uint16_t head = pop().head;
    if (!device.push(head, len)) FAIL("device push refused head " << head);
    return head;
  }

  UsedBuffer take() {
    UsedBuffer u{};
    if (const DriverStatus st = driver.get_used(&u); st != DriverStatus::kOk) {
      FAIL("get_used returned " << to_string(st) << " (broken reason: "
                                << to_string(driver.broken_reason()) << ")");
    }
    return u;
  }

  template <typename T>
  T peek(uint64_t gpa) const {
    T v{};
    if (mem.read_obj(gpa, &v) != MemError::kOk) FAIL("read outside guest memory at " << gpa);
    return v;
  }
  template <typename T>
  void poke(uint64_t gpa, const T& v) {
    if (mem.write_obj(gpa, v) != MemError::kOk) FAIL("write outside guest memory at " << gpa);
  }

  // Raw ring fields at the driver's addresses, as the device sees them.
  uint16_t avail_flags() const { return peek<uint16_t>(driver.avail_pa()); }
  uint16_t avail_idx() const { return peek<uint16_t>(driver.avail_pa() + 2); }
  uint16_t avail_slot(uint16_t pos) const {
    return peek<uint16_t>(driver.avail_pa() + 4 + 2ull * (pos & (n() - 1)));
  }
  uint16_t used_event() const { return peek<uint16_t>(driver.avail_pa() + 4 + 2ull * n()); }
  uint16_t used_flags() const { return peek<uint16_t>(driver.used_pa()); }
  uint16_t used_idx() const { return peek<uint16_t>(driver.used_pa() + 2); }
  uint64_t avail_event_pa() const { return driver.used_pa() + 4 + 8ull * n(); }
  VirtqDesc desc(uint16_t i) const { return peek<VirtqDesc>(driver.desc_pa() + 16ull * i); }

  // What a hostile device does: a used element, then used.idx.
  void write_used(uint16_t pos, uint32_t id, uint32_t len) {
    poke(driver.used_pa() + 4 + 8ull * (pos & (n() - 1)), VirtqUsedElem{id, len});
  }
  void set_used_idx(uint16_t idx) { poke<uint16_t>(driver.used_pa() + 2, idx); }

  // Device reset (STAT-4) followed by a fresh driver init over the same ring.
  void reset_and_reinit() {
    DriverQueueConfig cfg{};
    cfg.size = opts.size;
    cfg.ring = driver.ring();
    fresh_state_.assign(opts.size, DescState{});
    cfg.state = fresh_state_.data();
    cfg.event_idx = opts.event_idx;
    if (opts.indirect_max != 0) {
      cfg.indirect_pool =
          DmaRegion{mem.translate(opts.indirect_gpa, QueuePair::pool_bytes(opts)), opts.indirect_gpa};
      cfg.indirect_max = opts.indirect_max;
      cfg.indirect_min_segments = opts.indirect_min_segments;
    }
    device.reset();
    REQUIRE(driver.init(cfg) == DriverStatus::kOk);
    const DeviceQueueConfig dev{opts.size, driver.desc_pa(), driver.avail_pa(),
                                driver.used_pa(), opts.indirect_max != 0, opts.event_idx};
    REQUIRE(device.configure(mem, dev) == RingError::kNone);
  }

  // Ring descriptors a request of `count` segments takes.
  uint16_t descs_for(size_t count) const {
    const bool indirect = opts.indirect_max != 0 && count >= opts.indirect_min_segments &&
                          count <= opts.indirect_max;
    return indirect ? 1 : static_cast<uint16_t>(count);
  }

 private:
  static GuestMemory& map_ram(GuestMemory& mem) {
    for (const auto& [gpa, size] : std::initializer_list<std::pair<uint64_t, uint64_t>>{
             {0, 16 * kMiB}, {k4G - kMiB, kMiB}, {k4G, 16 * kMiB}, {kFar, 16 * kMiB}}) {
      REQUIRE(mem.add_ram(gpa, size) == MemError::kOk);
    }
    return mem;
  }

  uint64_t next_buffer_ = kBuffers;
  std::vector<DescState> fresh_state_;
};

QueuePairOptions options(uint16_t size, uint16_t indirect_max = 0, uint16_t min_segments = 2,
                         bool event_idx = false) {
  QueuePairOptions o;
  o.size = size;
  o.indirect_max = indirect_max;
  o.indirect_min_segments = min_segments;
  o.event_idx = event_idx;
  return o;
}

void check_segments(const DescChain& chain, const std::vector<Segment>& expected) {
  REQUIRE(chain.segments.size() == expected.size());
  uint64_t readable = 0, writable = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(chain.segments[i].addr == expected[i].addr);
    CHECK(chain.segments[i].len == expected[i].len);
    CHECK(chain.segments[i].writable == expected[i].device_writable);
    (expected[i].device_writable ? writable : readable) += expected[i].len;
  }
  CHECK(chain.readable_bytes == readable);
  CHECK(chain.writable_bytes == writable);
}

}  // namespace

// --- Layout -----------------------------------------------------------------

static_assert(desc_table_bytes(64) == 16 * 64 && desc_table_bytes(32768) == 16 * 32768);
static_assert(avail_ring_bytes(128, false) == 4 + 2 * 128);
static_assert(used_ring_bytes(128, false) == 4 + 8 * 128);
static_assert(avail_ring_bytes(128, true) == avail_ring_bytes(128, false) + 2);
static_assert(used_ring_bytes(128, true) == used_ring_bytes(128, false) + 2);
static_assert(ring_layout(1, false).used_offset == 16 + 8);  // 4 + 2 = 6, aligned up to 4
static_assert(ring_layout(64, false).used_offset % kUsedAlign == 0);
static_assert(!is_valid_queue_size(0) && !is_valid_queue_size(48) && !is_valid_queue_size(65536));
static_assert(is_valid_queue_size(1) && is_valid_queue_size(32768));

TEST_CASE("virtqueue driver: ring layout on real allocations matches the wire format",
          "[virtqueue][driver][VQ-1][VQ-2][VQ-3]") {
  const uint16_t size = GENERATE(as<uint16_t>{}, 1, 8, 64, 128, 256, 32768);
  const bool event_idx = GENERATE(false, true);
  CAPTURE(size, event_idx);
  QueuePairOptions o = options(size, 0, 2, event_idx);
  o.ring_gpa = 0x10010;  // 16-aligned but not page-aligned
  Rig rig(o);
  const DriverQueue& d = rig.driver;

  CHECK(d.desc_pa() == o.ring_gpa);
  CHECK(d.desc_pa() % 16 == 0);
  CHECK(d.avail_pa() % 2 == 0);
  CHECK(d.used_pa() % 4 == 0);
  const uint64_t extra = event_idx ? 2 : 0;
  CHECK(d.avail_pa() - d.desc_pa() == 16ull * size);
  CHECK(d.used_pa() - d.avail_pa() == align_up(4 + 2ull * size + extra, 4));
  CHECK(ring_layout(size, event_idx).total_bytes ==
        d.used_pa() - d.desc_pa() + 4 + 8ull * size + extra);
  // The device accepted those addresses (it checks VQ-2 itself).
  CHECK(rig.device.configured());
  CHECK(rig.device.config().avail == d.avail_pa());

  // Fields sit where VQ-1 puts them: a chain through the ring, read raw
  // (one segment when the queue has a single descriptor).
  const std::vector<Seg> request = size >= 2 ? std::vector<Seg>{R(12), W(34)}
                                             : std::vector<Seg>{W(34)};
  const auto segs = rig.submit(request, cookie(1));
  CHECK(rig.avail_idx() == 1);
  const uint16_t head = rig.avail_slot(0);
  REQUIRE(head < size);
  VirtqDesc d_last = rig.desc(head);
  if (size >= 2) {
    CHECK(d_last.addr == segs[0].addr);
    CHECK(d_last.len == 12);
    CHECK(d_last.flags == kDescFNext);
    d_last = rig.desc(d_last.next);
  }
  CHECK(d_last.addr == segs.back().addr);
  CHECK(d_last.len == 34);
  CHECK(d_last.flags == kDescFWrite);
  CHECK(rig.serve(30) == head);
  CHECK(rig.used_idx() == 1);
  const auto elem = rig.peek<VirtqUsedElem>(d.used_pa() + 4);
  CHECK(elem.id == head);
  CHECK(elem.len == 30);
  const UsedBuffer u = rig.take();
  CHECK(u.cookie == cookie(1));
  CHECK(u.len == 30);
}

// --- Setup and requests -----------------------------------------------------

TEST_CASE("virtqueue driver: init validates its configuration", "[virtqueue][driver][VQ-2][VQ-3]") {
  constexpr uint16_t kSize = 8;
  struct Memory {
    alignas(16) uint8_t ring[ring_layout(kSize, true).total_bytes + 32];
    alignas(16) uint8_t pool[16 * kSize * 4 + 32];
  };
  static Memory m;
  std::array<DescState, kSize> state{};

  struct Case {
    const char* what;
    std::function<void(DriverQueueConfig&)> change;
    DriverStatus expected;
  };
  const auto c = GENERATE(values<Case>({
      {"valid without a pool", [](DriverQueueConfig&) {}, DriverStatus::kOk},
      {"valid with a pool",
       [](DriverQueueConfig& c) {
         c.indirect_pool = DmaRegion{m.pool, 0x20000};
         c.indirect_max = 4;
       },
       DriverStatus::kOk},
      {"valid with EVENT_IDX", [](DriverQueueConfig& c) { c.event_idx = true; }, DriverStatus::kOk},
      {"size 1", [](DriverQueueConfig& c) { c.size = 1; }, DriverStatus::kOk},
      {"pool ignored when indirect_max is 0",
       [](DriverQueueConfig& c) {
         c.indirect_pool = DmaRegion{m.pool + 1, 0x20001};
         c.indirect_min_segments = 0;
       },
       DriverStatus::kOk},
      {"size 0", [](DriverQueueConfig& c) { c.size = 0; }, DriverStatus::kInvalidArgument},
      {"size 3", [](DriverQueueConfig& c) { c.size = 3; }, DriverStatus::kInvalidArgument},
      {"size 48", [](DriverQueueConfig& c) { c.size = 48; }, DriverStatus::kInvalidArgument},
      {"size 65535", [](DriverQueueConfig& c) { c.size = 65535; }, DriverStatus::kInvalidArgument},
      {"null ring", [](DriverQueueConfig& c) { c.ring.va = nullptr; }, DriverStatus::kInvalidArgument},
      {"null state", [](DriverQueueConfig& c) { c.state = nullptr; }, DriverStatus::kInvalidArgument},
      {"ring pa not 16-aligned", [](DriverQueueConfig& c) { c.ring.pa += 8; },
       DriverStatus::kInvalidArgument},
      {"ring va not 16-aligned", [](DriverQueueConfig& c) { c.ring.va = m.ring + 4; },
       DriverStatus::kInvalidArgument},
      {"pool with min segments 1",
       [](DriverQueueConfig& c) {
         c.indirect_pool = DmaRegion{m.pool, 0x20000};
         c.indirect_max = 4;
         c.indirect_min_segments = 1;
       },
       DriverStatus::kInvalidArgument},
      {"pool pa not 16-aligned",
       [](DriverQueueConfig& c) {
         c.indirect_pool = DmaRegion{m.pool, 0x20008};
         c.indirect_max = 4;
       },
       DriverStatus::kInvalidArgument},
      {"pool va not 16-aligned",
       [](DriverQueueConfig& c) {
         c.indirect_pool = DmaRegion{m.pool + 2, 0x20000};
         c.indirect_max = 4;
       },
       DriverStatus::kInvalidArgument},
  }));
  CAPTURE(c.what);
  DriverQueueConfig cfg{};
  cfg.size = kSize;
  cfg.ring = DmaRegion{m.ring, 0x10000};
  cfg.state = state.data();
  cfg.indirect_min_segments = 2;
  c.change(cfg);
  std::fill(std::begin(m.ring), std::end(m.ring), uint8_t{0xFF});

  DriverQueue q;
  REQUIRE(q.init(cfg) == c.expected);
  if (c.expected == DriverStatus::kOk) {
    CHECK(q.size() == cfg.size);
    CHECK(q.num_free() == cfg.size);
    CHECK(q.num_outstanding() == 0);
    CHECK(!q.broken());
    CHECK(q.desc_pa() == cfg.ring.pa);
    // The whole ring is zeroed, and not a byte past it.
    const uint64_t total = ring_layout(cfg.size, cfg.event_idx).total_bytes;
    CHECK(std::all_of(m.ring, m.ring + total, [](uint8_t b) { return b == 0; }));
    CHECK(m.ring[total] == 0xFF);
  } else {
    CHECK(std::all_of(std::begin(m.ring), std::end(m.ring), [](uint8_t b) { return b == 0xFF; }));
  }
}

TEST_CASE("virtqueue driver: direct and indirect chains round-trip through the device",
          "[virtqueue][driver][VQ-4][VQ-6][VQ-5]") {
  const bool pool = GENERATE(false, true);
  CAPTURE(pool);
  Rig rig(options(16, pool ? 4 : 0, 2));
  const std::vector<std::vector<Seg>> requests = {
      {R(16)},
      {R(16), W(512)},
      {R(16), R(100), W(1)},
      {W(4096), W(4096), W(8), W(1)},
      {R(1), R(2), R(3), R(4), W(5)},  // longer than indirect_max: direct
      {W(0)},                          // zero-length writable buffer
  };
  std::vector<std::vector<Segment>> placed;
  uint16_t expected_free = rig.n();
  for (size_t i = 0; i < requests.size(); ++i) {
    placed.push_back(rig.place(requests[i]));
    REQUIRE(rig.add(placed.back(), cookie(i)) == DriverStatus::kOk);
    expected_free = static_cast<uint16_t>(expected_free - rig.descs_for(requests[i].size()));
    CHECK(rig.driver.num_free() == expected_free);
  }
  CHECK(rig.driver.num_outstanding() == requests.size());
  CHECK(rig.device.num_available() == 0);  // added is not published
  rig.driver.publish();
  CHECK(rig.avail_idx() == requests.size());
  CHECK(rig.device.num_available() == requests.size());

  std::vector<uint16_t> heads;
  std::vector<uint32_t> writable;
  for (size_t i = 0; i < requests.size(); ++i) {
    CAPTURE(i);
    const DescChain chain = rig.pop();
    check_segments(chain, placed[i]);
    const bool indirect = rig.descs_for(requests[i].size()) == 1 && requests[i].size() > 1;
    CHECK(((rig.desc(chain.head).flags & kDescFIndirect) != 0) == indirect);
    heads.push_back(chain.head);
    writable.push_back(static_cast<uint32_t>(chain.writable_bytes));
  }
  DescChain none;
  CHECK(rig.device.pop(none) == PopStatus::kEmpty);

  // Complete in reverse, each with its full writable length (the maximum
  // the driver accepts), and collect every cookie once.
  for (size_t i = requests.size(); i-- > 0;) REQUIRE(rig.device.push(heads[i], writable[i]));
  for (size_t i = requests.size(); i-- > 0;) {
    CAPTURE(i);
    const UsedBuffer u = rig.take();
    CHECK(u.cookie == cookie(i));
    CHECK(u.len == writable[i]);
  }
  UsedBuffer u{};
  CHECK(rig.driver.get_used(&u) == DriverStatus::kEmpty);
  CHECK(rig.driver.num_free() == rig.n());
  CHECK(rig.driver.num_outstanding() == 0);
  void* left = nullptr;
  CHECK(rig.driver.detach_unused(&left) == DriverStatus::kEmpty);
  CHECK(left == nullptr);
}

TEST_CASE("virtqueue driver: invalid requests are rejected without side effects",
          "[virtqueue][driver][VQ-4][VQ-7]") {
  struct Case {
    const char* what;
    std::vector<Seg> segs;
    bool null_segs = false;
    bool null_cookie = false;
    bool zero_count = false;
  };
  const auto c = GENERATE(values<Case>({
      {"readable after writable", {R(8), W(8), R(8)}},
      {"writable then readable", {W(8), R(8)}},
      {"writable total over 2^32 - 1", {W(0x80000000u), W(0x80000000u)}},
      {"chain total over 2^32 (VQ-7 decision (a))", {R(0xFFFFFFFFu), W(2)}},
      {"null segments", {R(8)}, true},
      {"zero segments", {R(8)}, false, false, true},
      {"null cookie", {R(8)}, false, true},
      {"more segments than the queue size", std::vector<Seg>(9, R(1))},
  }));
  Rig rig(options(8));
  const std::vector<Segment> segs = rig.place(c.segs);
  CAPTURE(c.what);
  CHECK(rig.driver.add(c.null_segs ? nullptr : segs.data(),
                       c.zero_count ? 0 : static_cast<uint16_t>(segs.size()),
                       c.null_cookie ? nullptr : cookie(1)) == DriverStatus::kInvalidArgument);
  CHECK(rig.driver.num_free() == 8);
  CHECK(rig.driver.num_outstanding() == 0);
  CHECK(rig.desc(0).addr == 0);  // nothing written to the ring
  rig.driver.publish();
  CHECK(rig.avail_idx() == 0);
  CHECK(!rig.driver.kick_needed());
  // The queue still takes a valid request afterwards.
  REQUIRE(rig.add(rig.place({R(8), W(8)}), cookie(2)) == DriverStatus::kOk);
  CHECK(rig.driver.num_free() == 6);
}

TEST_CASE("virtqueue driver: a full ring reports kNoSpace until a chain completes",
          "[virtqueue][driver][VQ-1][VQ-4]") {
  const bool pool = GENERATE(false, true);
  const size_t count = GENERATE(as<size_t>{}, 1, 2, 3, 5, 8);
  CAPTURE(pool, count);
  Rig rig(options(8, pool ? 4 : 0, 2));
  const uint16_t per_chain = rig.descs_for(count);
  const std::vector<Seg> request(count, W(64));

  size_t added = 0;
  while (rig.add(rig.place(request), cookie(added)) == DriverStatus::kOk) ++added;
  CHECK(added == rig.n() / per_chain);
  CHECK(rig.driver.num_free() == rig.n() % per_chain);
  CHECK(rig.add(rig.place(request), cookie(99)) == DriverStatus::kNoSpace);
  CHECK(rig.driver.num_outstanding() == added);

  // One completion frees exactly one chain's descriptors.
  rig.driver.publish();
  rig.serve(64);
  CHECK(rig.take().cookie == cookie(0));
  CHECK(rig.driver.num_free() == rig.n() % per_chain + per_chain);
  CHECK(rig.add(rig.place(request), cookie(100)) == DriverStatus::kOk);
  CHECK(rig.add(rig.place(request), cookie(101)) == DriverStatus::kNoSpace);
}

// --- Notification and interrupt suppression ---------------------------------

// The event-index window test (virtio 1.2 2.7.7.2), including wraparound.
static_assert(need_event(0, 1, 0));
static_assert(!need_event(1, 1, 0));
static_assert(need_event(5, 8, 3) && need_event(7, 8, 3) && !need_event(2, 8, 3));
static_assert(need_event(0xFFFF, 1, 0xFFFE) && need_event(0, 1, 0xFFFE));
static_assert(!need_event(1, 1, 0xFFFE) && !need_event(0xFFFD, 1, 0xFFFE));

TEST_CASE("virtqueue driver: kick_needed honours VRING_USED_F_NO_NOTIFY",
          "[virtqueue][driver][VQ-6]") {
  Rig rig(options(8));
  CHECK(!rig.driver.kick_needed());  // nothing published yet
  REQUIRE(rig.add(rig.place({R(4)}), cookie(0)) == DriverStatus::kOk);
  CHECK(!rig.driver.kick_needed());  // added, not published
  rig.driver.publish();
  CHECK(rig.driver.kick_needed());
  CHECK(!rig.driver.kick_needed());  // nothing new since the last decision
  rig.driver.publish();
  CHECK(!rig.driver.kick_needed());  // publishing nothing is nothing new

  rig.device.set_notify_suppressed(true);
  CHECK(rig.used_flags() == kUsedFNoNotify);
  rig.submit({R(4)}, cookie(1));
  CHECK(!rig.driver.kick_needed());
  rig.device.set_notify_suppressed(false);
  CHECK(rig.used_flags() == 0);
  CHECK(!rig.driver.kick_needed());  // already decided for that chain
  rig.submit({R(4)}, cookie(2));
  rig.submit({R(4)}, cookie(3));
  CHECK(rig.driver.kick_needed());  // one kick covers both
  CHECK(!rig.driver.kick_needed());
}

TEST_CASE("virtqueue driver: kick_needed follows avail_event with EVENT_IDX",
          "[virtqueue][driver][VQ-6][event_idx]") {
  Rig rig(options(16, 0, 2, true));
  rig.submit({R(4)}, cookie(0));  // avail.idx 1, avail_event 0
  CHECK(rig.driver.kick_needed());
  rig.submit({R(4)}, cookie(1));
  rig.submit({R(4)}, cookie(2));  // avail.idx 3: the device has not caught up
  CHECK(!rig.driver.kick_needed());

  for (int i = 0; i < 3; ++i) rig.pop();
  CHECK(rig.peek<uint16_t>(rig.avail_event_pa()) == 3);  // the device's position
  rig.submit({R(4)}, cookie(3));
  CHECK(rig.driver.kick_needed());

  // The NO_NOTIFY flag means nothing once EVENT_IDX is negotiated.
  rig.device.set_notify_suppressed(true);
  rig.pop();
  rig.submit({R(4)}, cookie(4));  // avail.idx 5, avail_event 4
  CHECK(rig.driver.kick_needed());

  // A device that asks to hear only when avail.idx passes 7.
  rig.poke<uint16_t>(rig.avail_event_pa(), 7);
  rig.submit({R(4)}, cookie(5));  // 6
  CHECK(!rig.driver.kick_needed());
  rig.submit({R(4)}, cookie(6));  // 7
  CHECK(!rig.driver.kick_needed());
  rig.submit({R(4)}, cookie(7));  // 8: crossed 7
  CHECK(rig.driver.kick_needed());
  CHECK(!rig.driver.kick_needed());
}

TEST_CASE("virtqueue driver: interrupt suppression agrees with the device's should_interrupt",
          "[virtqueue][driver][IRQ-2]") {
  const bool event_idx = GENERATE(false, true);
  CAPTURE(event_idx);
  Rig rig(options(8, 0, 2, event_idx));
  // Raw suppression state: the flag, or used_event parked behind last_used.
  const auto suppressed = [&](uint16_t last_used) {
    return event_idx ? rig.used_event() != last_used : rig.avail_flags() == kAvailFNoInterrupt;
  };
  const auto complete_one = [&](uintptr_t i) {
    rig.submit({W(8)}, cookie(i));
    rig.serve(8);
  };

  CHECK(!rig.device.should_interrupt());  // nothing published
  complete_one(0);
  CHECK(rig.device.should_interrupt());
  CHECK(!rig.device.should_interrupt());  // nothing new since
  CHECK(rig.take().cookie == cookie(0));

  rig.driver.disable_interrupts();
  CHECK(suppressed(1));
  complete_one(1);
  CHECK(!rig.device.should_interrupt());
  CHECK(rig.driver.enable_interrupts());  // an entry is already waiting
  CHECK(!suppressed(1));
  CHECK(rig.take().cookie == cookie(1));
  CHECK(!rig.driver.enable_interrupts());  // nothing waiting
  CHECK(!suppressed(2));
  complete_one(2);
  CHECK(rig.device.should_interrupt());
  CHECK(rig.take().cookie == cookie(2));

  // Disabling twice and enabling once is enabled.
  rig.driver.disable_interrupts();
  rig.driver.disable_interrupts();
  CHECK(!rig.driver.enable_interrupts());
  complete_one(3);
  CHECK(rig.device.should_interrupt());
}

// --- Hostile device (VQ-9) --------------------------------------------------

namespace {

// Chains outstanding when the hostile used entry arrives.
struct Victims {
  uint16_t a;         // published, popped: 2 descriptors, 300 writable bytes
  uint16_t a_second;  // A's second descriptor (not a head)
  uint16_t d;         // published, popped, indirect: 16 writable bytes
  uint16_t e;         // published, popped: readable only
  uint16_t f;         // published, popped: writable only, 30 bytes
  uint16_t b;         // completed and returned already (free again)
  uint16_t c;         // added but never published
  uint16_t next_used; // used ring position of the next entry
};

struct Hostile {
  const char* what;
  BrokenReason reason;
  std::function<void(Rig&, const Victims&)> act;
};

// A used entry at the next position, published by moving used.idx past it.
std::function<void(Rig&, const Victims&)> used_entry(uint16_t Victims::*id, uint32_t len) {
  return [id, len](Rig& rig, const Victims& v) {
    rig.write_used(v.next_used, v.*id, len);
    rig.set_used_idx(static_cast<uint16_t>(v.next_used + 1));
  };
}
std::function<void(Rig&, const Victims&)> used_id(uint32_t id) {
  return [id](Rig& rig, const Victims& v) {
    rig.write_used(v.next_used, id, 0);
    rig.set_used_idx(static_cast<uint16_t>(v.next_used + 1));
  };
}
std::function<void(Rig&, const Victims&)> used_idx_ahead(uint16_t by) {
  return [by](Rig& rig, const Victims& v) {
    rig.set_used_idx(static_cast<uint16_t>(v.next_used + by));
  };
}

}  // namespace

TEST_CASE("virtqueue driver: a hostile used ring breaks the queue and reset recovers every cookie",
          "[virtqueue][driver][VQ-9][STAT-4]") {
  constexpr uint16_t N = 16;
  const auto h = GENERATE(values<Hostile>({
      {"used.id equal to N", BrokenReason::kUsedIdOutOfRange, used_id(N)},
      {"used.id 0xFFFFFFFF", BrokenReason::kUsedIdOutOfRange, used_id(0xFFFFFFFF)},
      {"used.id of a descriptor no chain holds", BrokenReason::kUsedIdNotOutstanding,
       used_id(N - 1)},
      {"used.id of a non-head descriptor", BrokenReason::kUsedIdNotOutstanding,
       used_entry(&Victims::a_second, 0)},
      {"used.id completed twice", BrokenReason::kUsedIdNotOutstanding, used_entry(&Victims::b, 0)},
      {"used.id of an added but unpublished chain", BrokenReason::kUsedIdNotOutstanding,
       used_entry(&Victims::c, 0)},
      {"used.len one past the writable bytes", BrokenReason::kUsedLenTooLarge,
       used_entry(&Victims::a, 301)},
      {"used.len past an indirect chain's writable bytes", BrokenReason::kUsedLenTooLarge,
       used_entry(&Victims::d, 17)},
      {"used.len on a readable-only chain", BrokenReason::kUsedLenTooLarge,
       used_entry(&Victims::e, 1)},
      {"used.len past a writable-only chain's bytes", BrokenReason::kUsedLenTooLarge,
       used_entry(&Victims::f, 31)},
      {"used.idx N plus 1 ahead", BrokenReason::kUsedIdxAhead, used_idx_ahead(N + 1)},
      {"used.idx 65535 ahead", BrokenReason::kUsedIdxAhead, used_idx_ahead(0xFFFF)},
      {"transport saw DEVICE_NEEDS_RESET", BrokenReason::kMarkedByOwner,
       [](Rig& rig, const Victims&) { rig.driver.mark_broken(); }},
  }));
  CAPTURE(h.what);
  // Indirect tables for chains of 3..4 segments.
  Rig rig(options(N, 4, 3));

  // A, B, D, E, F published; C added behind them but not published.
  const std::vector<std::vector<Seg>> requests = {
      {R(64), W(300)},        // A
      {R(50)},                // B
      {R(16), W(8), W(8)},    // D (indirect)
      {R(20)},                // E
      {W(10), W(20)},         // F
      {W(10)},                // C
  };
  std::vector<std::vector<Segment>> placed;
  for (size_t i = 0; i < requests.size(); ++i) {
    placed.push_back(rig.place(requests[i]));
    REQUIRE(rig.add(placed.back(), cookie(i)) == DriverStatus::kOk);
    if (i == 4) rig.driver.publish();
  }
  Victims v{};
  v.a = rig.pop().head;
  v.a_second = rig.desc(v.a).next;
  v.b = rig.pop().head;
  v.d = rig.pop().head;
  v.e = rig.pop().head;
  v.f = rig.pop().head;
  v.c = rig.avail_slot(5);
  REQUIRE(rig.device.push(v.b, 0));  // B completes normally
  std::multiset<void*> returned{rig.take().cookie};
  v.next_used = 1;
  REQUIRE(std::set<uint16_t>{v.a, v.a_second, v.b, v.d, v.e, v.f}.size() == 6);
  REQUIRE(v.c != v.b);
  REQUIRE(v.c != N - 1);

  const uint16_t free_before = rig.driver.num_free();
  const uint16_t outstanding_before = rig.driver.num_outstanding();
  h.act(rig, v);

  UsedBuffer u{cookie(999), 7};
  CHECK(rig.driver.get_used(&u) == DriverStatus::kBroken);
  CHECK(rig.driver.broken());
  CHECK(rig.driver.broken_reason() == h.reason);
  CHECK(u.cookie == cookie(999));  // nothing handed out
  // Broken means broken: every operation refuses, nothing moves, nothing is freed.
  CHECK(rig.driver.get_used(&u) == DriverStatus::kBroken);
  CHECK(rig.add(rig.place({R(1)}), cookie(50)) == DriverStatus::kBroken);
  rig.driver.publish();
  CHECK(rig.avail_idx() == 5);  // C stays unpublished
  CHECK(!rig.driver.kick_needed());
  rig.driver.mark_broken();
  CHECK(rig.driver.broken_reason() == h.reason);  // the first reason sticks
  CHECK(rig.driver.num_free() == free_before);
  CHECK(rig.driver.num_outstanding() == outstanding_before);

  // Recovery (STAT-4): reset the device, detach what was outstanding,
  // re-initialise and resubmit. Every cookie comes back exactly once.
  std::vector<size_t> unfinished;
  for (void* c = nullptr; rig.driver.detach_unused(&c) == DriverStatus::kOk;) {
    returned.insert(c);
    unfinished.push_back(index_of(c));
  }
  CHECK(rig.driver.num_free() == N);
  CHECK(rig.driver.num_outstanding() == 0);
  void* none = cookie(999);
  CHECK(rig.driver.detach_unused(&none) == DriverStatus::kEmpty);
  CHECK(none == nullptr);
  CHECK(returned ==
        std::multiset<void*>{cookie(0), cookie(1), cookie(2), cookie(3), cookie(4), cookie(5)});

  rig.reset_and_reinit();
  CHECK(!rig.driver.broken());
  std::sort(unfinished.begin(), unfinished.end());
  for (const size_t i : unfinished) REQUIRE(rig.add(placed[i], cookie(i)) == DriverStatus::kOk);
  rig.driver.publish();
  CHECK(rig.driver.kick_needed());
  std::multiset<void*> recovered;
  for (size_t k = 0; k < unfinished.size(); ++k) {
    const DescChain chain = rig.pop();
    check_segments(chain, placed[unfinished[k]]);
    REQUIRE(rig.device.push(chain.head, static_cast<uint32_t>(chain.writable_bytes)));
    recovered.insert(rig.take().cookie);
  }
  // Only B had completed before the break; everything else comes back now.
  CHECK(unfinished == std::vector<size_t>{0, 2, 3, 4, 5});
  CHECK(recovered ==
        std::multiset<void*>{cookie(0), cookie(2), cookie(3), cookie(4), cookie(5)});
  CHECK(rig.driver.get_used(&u) == DriverStatus::kEmpty);
  CHECK(rig.driver.num_free() == N);
}

// --- Indices, ordering, addresses -------------------------------------------

TEST_CASE("virtqueue driver: indices wrap past 65535 on both sides",
          "[virtqueue][driver][VQ-5]") {
  const bool pool = GENERATE(false, true);
  CAPTURE(pool);
  Rig rig(options(8, pool ? 4 : 0, 2));
  const std::vector<Segment> request = rig.place({R(4), W(8)});
  std::array<uint16_t, 8> heads{};
  uint32_t total = 0;
  bool avail_wrapped = false, used_wrapped = false;
  // Batches of 1..8 chains, completed in reverse, until well past 65536.
  for (uint32_t round = 0; total < 65536 + 100; ++round) {
    const uint16_t batch = static_cast<uint16_t>(1 + round % (pool ? 8 : 4));
    for (uint16_t i = 0; i < batch; ++i) {
      if (rig.add(request, cookie(i)) != DriverStatus::kOk) FAIL("round " << round << ": add");
    }
    rig.driver.publish();
    const uint16_t avail_before = static_cast<uint16_t>(total);
    total += batch;
    const uint16_t avail = rig.avail_idx();
    if (avail != static_cast<uint16_t>(total)) FAIL("round " << round << ": avail.idx " << avail);
    avail_wrapped |= avail < avail_before;
    for (uint16_t i = 0; i < batch; ++i) heads[i] = rig.pop().head;
    for (uint16_t i = batch; i-- > 0;) {
      if (!rig.device.push(heads[i], i)) FAIL("round " << round << ": push");
    }
    const uint16_t used = rig.used_idx();
    if (used != static_cast<uint16_t>(total)) FAIL("round " << round << ": used.idx " << used);
    used_wrapped |= used < avail_before;
    for (uint16_t i = batch; i-- > 0;) {
      const UsedBuffer u = rig.take();
      if (u.cookie != cookie(i) || u.len != i) {
        FAIL("round " << round << ": got cookie " << u.cookie << " len " << u.len
                      << ", expected " << cookie(i) << " len " << i);
      }
    }
  }
  CHECK(avail_wrapped);
  CHECK(used_wrapped);
  CHECK(rig.driver.num_free() == 8);
  CHECK(!rig.driver.broken());
}

TEST_CASE("virtqueue driver: out-of-order completion returns each cookie with its own len",
          "[virtqueue][driver][VQ-5]") {
  Rig rig(options(8));
  std::array<uint16_t, 6> head{};
  // Four chains of two descriptors fill the ring of 8.
  for (uintptr_t i = 0; i < 4; ++i) rig.submit({R(8), W(100)}, cookie(i));
  for (uintptr_t i = 0; i < 4; ++i) head[i] = rig.pop().head;
  CHECK(rig.add(rig.place({R(8), W(100)}), cookie(9)) == DriverStatus::kNoSpace);

  // Completion order 2, 0, and the driver reuses their descriptors for new
  // chains 4 and 5 while 1 and 3 are still in flight.
  REQUIRE(rig.device.push(head[2], 20));
  REQUIRE(rig.device.push(head[0], 0));
  CHECK(rig.take().cookie == cookie(2));
  CHECK(rig.take().cookie == cookie(0));
  rig.submit({R(8), W(100)}, cookie(4));
  rig.submit({R(8), W(100)}, cookie(5));
  head[4] = rig.pop().head;
  head[5] = rig.pop().head;
  CHECK(std::set<uint16_t>{head[4], head[5]} == std::set<uint16_t>{head[0], head[2]});

  const std::array<std::pair<uintptr_t, uint32_t>, 4> order = {
      {{3, 100}, {5, 55}, {1, 1}, {4, 99}}};
  for (const auto& [i, len] : order) REQUIRE(rig.device.push(head[i], len));
  for (const auto& [i, len] : order) {
    CAPTURE(i);
    const UsedBuffer u = rig.take();
    CHECK(u.cookie == cookie(i));
    CHECK(u.len == len);
  }
  CHECK(rig.driver.num_free() == 8);
  CHECK(rig.driver.num_outstanding() == 0);
}

TEST_CASE("virtqueue driver: ring and buffers above 4 GiB", "[virtqueue][driver][DMA-2]") {
  const bool pool = GENERATE(false, true);
  CAPTURE(pool);
  QueuePairOptions o = options(64, pool ? 8 : 0, 2);
  o.ring_gpa = kFar + 0x10;
  o.indirect_gpa = k4G + 0x1000;
  Rig rig(o);
  CHECK(rig.driver.desc_pa() == kFar + 0x10);
  CHECK(rig.driver.avail_pa() > kFar);
  CHECK(rig.driver.used_pa() > kFar);
  CHECK(rig.device.config().desc == rig.driver.desc_pa());
  CHECK(rig.device.config().used == rig.driver.used_pa());

  const std::vector<Segment> segs = {
      {kFar + 0x200000, 100, false},
      {k4G - 0x80, 0x100, true},  // crosses 4 GiB (two adjacent regions)
      {0xFFFF'F000ull, 0x1000, true},  // ends exactly at 4 GiB
      {k4G + 0x123457, 7, true},
  };
  REQUIRE(rig.add(segs, cookie(1)) == DriverStatus::kOk);
  rig.driver.publish();
  const DescChain chain = rig.pop();
  check_segments(chain, segs);

  // The wire carries all 64 address bits.
  const VirtqDesc head = rig.desc(chain.head);
  if (pool) {
    CHECK(head.flags == kDescFIndirect);
    CHECK(head.addr == o.indirect_gpa + 16ull * 8 * chain.head);
    CHECK(rig.peek<VirtqDesc>(head.addr).addr == kFar + 0x200000);
  } else {
    CHECK(head.addr == kFar + 0x200000);
  }

  REQUIRE(rig.device.push(chain.head, 0x100));
  const UsedBuffer u = rig.take();
  CHECK(u.cookie == cookie(1));
  CHECK(u.len == 0x100);
  CHECK(rig.driver.num_free() == 64);
}
