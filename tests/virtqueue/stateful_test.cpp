// Model-based test of the driver ring and the device ring together: random
// interleavings of every driver and device operation, checked against a
// reference model of which chains are where.
//
// The model tracks each request through added -> published -> in flight on
// the device -> completed (in used order) -> returned to the driver. From it
// the test predicts every observable result: the chain the device pops and
// its exact segments, kNoSpace, the cookie and len get_used returns, the free
// descriptor count, and whether a notification or interrupt is due.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace aerov::virtqueue {
// Readable values in rapidcheck's counterexamples.
void showValue(DriverStatus s, std::ostream& os) { os << to_string(s); }
void showValue(PopStatus s, std::ostream& os) { os << "PopStatus " << static_cast<int>(s); }
void showValue(RingError e, std::ostream& os) { os << to_string(e); }
}  // namespace aerov::virtqueue

namespace {

using namespace aerov::virtqueue;
using aerov::model::GuestMemory;
using aerov::model::MemError;
using aerov::virtqueue::testing::QueuePair;
using aerov::virtqueue::testing::QueuePairOptions;

// Everything lives above 4 GiB (DMA-2): the ring and indirect pool at 4 GiB,
// the request buffers far above.
constexpr uint64_t kRingRam = 0x1'0000'0000ull;
constexpr uint64_t kBufferRam = 0x7f00'0000'0000ull;
constexpr uint64_t kBufferSpan = 1ull << 20;  // buffers start in the first MiB
constexpr uint32_t kMaxSegLen = 4096;
constexpr int kMaxSegments = 8;

struct Variant {
  const char* name;
  uint16_t size;
  uint16_t indirect_max;  // 0: no indirect pool
  uint16_t indirect_min_segments;
  bool event_idx;
};

using Segments = std::shared_ptr<const std::vector<Segment>>;  // shared: models are copied a lot

struct Chain {
  uintptr_t id;  // also the cookie
  Segments segs;
  uint32_t writable;
  uint16_t descs;  // ring descriptors it holds
};

struct Completion {
  uintptr_t id;
  uint32_t len;
  uint16_t descs;
};

struct Model {
  explicit Model(const Variant& variant) : v(variant) {}

  Variant v;
  uintptr_t next_id = 1;
  std::vector<Chain> added;         // in the ring, not yet published
  std::vector<Chain> published;     // published, not yet popped (avail order)
  std::vector<Chain> in_flight;     // popped by the device, not completed
  std::vector<Completion> completed; // pushed by the device, not yet taken (used order)

  // Notification state. Exact without EVENT_IDX; with it, the model knows
  // when a notification cannot be skipped without losing a wakeup.
  bool notify_suppressed = false;
  uint32_t unkicked = 0;             // chains published since the last kick decision
  bool device_idle = false;          // the device saw an empty ring...
  uint32_t published_since_idle = 0; // ...and this much was published since
  bool irq_enabled = true;
  uint32_t unsignalled = 0;          // used entries since the last interrupt decision
  bool driver_idle = false;          // the driver saw no work with interrupts on...
  uint32_t pushed_since_idle = 0;    // ...and this much was completed since

  uint16_t descs_for(size_t count) const {
    const bool indirect = v.indirect_max != 0 && count >= v.indirect_min_segments &&
                          count <= v.indirect_max;
    return indirect ? 1 : static_cast<uint16_t>(count);
  }
  size_t outstanding() const {
    return added.size() + published.size() + in_flight.size() + completed.size();
  }
  uint32_t held() const {
    uint32_t n = 0;
    for (const Chain& c : added) n += c.descs;
    for (const Chain& c : published) n += c.descs;
    for (const Chain& c : in_flight) n += c.descs;
    for (const Completion& c : completed) n += c.descs;
    return n;
  }
};

// Coverage across all runs of one variant, so the test proves that the
// interesting states were reached rather than assuming it.
struct Coverage {
  uint64_t histories = 0;      // property runs (0 when Catch skips the section)
  uint64_t no_space = 0;       // add refused for lack of descriptors
  uint64_t ring_full = 0;      // every descriptor held at once
  uint64_t slot_wraps = 0;     // avail index went past N (slots reused)
  uint64_t out_of_order = 0;   // completion of a chain other than the oldest
  uint64_t indirect = 0;       // chains carried in an indirect table
};
Coverage coverage;

void* cookie(uintptr_t id) { return reinterpret_cast<void*>(id); }
uintptr_t id_of(void* cookie) { return reinterpret_cast<uintptr_t>(cookie); }

GuestMemory& map_ram(GuestMemory& mem) {
  RC_ASSERT(mem.add_ram(kRingRam, 4ull << 20) == MemError::kOk);
  RC_ASSERT(mem.add_ram(kBufferRam, 2 * kBufferSpan) == MemError::kOk);
  return mem;
}

QueuePairOptions options(const Variant& v) {
  QueuePairOptions o;
  o.size = v.size;
  o.ring_gpa = kRingRam + 0x1000;
  o.indirect_gpa = kRingRam + 0x200000;
  o.indirect_max = v.indirect_max;
  o.indirect_min_segments = v.indirect_min_segments;
  o.event_idx = v.event_idx;
  return o;
}

struct Sut {
  explicit Sut(const Variant& v) : pair(map_ram(mem), options(v)) {}
  GuestMemory mem;
  QueuePair pair;
  DriverQueue& driver = pair.driver;
  DeviceQueue& device = pair.device;
  std::map<uintptr_t, uint16_t> head_of;  // chains in flight on the device
  std::set<uintptr_t> added;              // every cookie the driver accepted
  std::set<uintptr_t> returned;           // every cookie the driver handed back
  DescChain chain;
};

using Cmd = rc::state::Command<Model, Sut>;

// After every command: the driver's counters agree with the model, and
// descriptors are conserved (free + held by outstanding chains == N).
void check_invariants(const Model& m, const Sut& sut) {
  RC_ASSERT(!sut.driver.broken());
  RC_ASSERT(sut.device.ring_error() == RingError::kNone);
  RC_ASSERT(sut.driver.num_free() + m.held() == m.v.size);
  RC_ASSERT(sut.driver.num_outstanding() == m.outstanding());
  RC_ASSERT(sut.device.in_flight() == m.in_flight.size());
  RC_ASSERT(sut.device.num_available() == m.published.size());
  if (m.held() == m.v.size) ++coverage.ring_full;
}

// Each command checks its own results, then the invariants on the state the
// model says follows.
template <typename Derived>
struct Checked : Cmd {
  void run(const Model& s0, Sut& sut) const final {
    static_cast<const Derived*>(this)->exec(s0, sut);
    check_invariants(this->nextState(s0), sut);
  }
};

struct Add : Checked<Add> {
  Segments segs;

  explicit Add(const Model&) {
    // 1..8 segments, short chains more often so a small ring cycles.
    const int count = *rc::gen::weightedOneOf<int>(
        {{1, rc::gen::inRange(1, kMaxSegments + 1)}, {2, rc::gen::inRange(1, 4)}});
    const int readable = *rc::gen::inRange(0, count + 1);
    std::vector<Segment> v;
    for (int i = 0; i < count; ++i) {
      // Unaligned addresses and lengths, zero-length segments included (DMA-1).
      v.push_back(Segment{kBufferRam + *rc::gen::inRange<uint64_t>(0, kBufferSpan),
                          *rc::gen::inRange<uint32_t>(0, kMaxSegLen + 1), i >= readable});
    }
    segs = std::make_shared<const std::vector<Segment>>(std::move(v));
  }
  bool fits(const Model& m) const { return m.held() + m.descs_for(segs->size()) <= m.v.size; }
  void apply(Model& m) const override {
    if (!fits(m)) return;
    uint32_t writable = 0;
    for (const Segment& s : *segs) writable += s.device_writable ? s.len : 0;
    m.added.push_back(Chain{m.next_id++, segs, writable, m.descs_for(segs->size())});
  }
  void exec(const Model& s0, Sut& sut) const {
    const DriverStatus st =
        sut.driver.add(segs->data(), static_cast<uint16_t>(segs->size()), cookie(s0.next_id));
    if (!fits(s0)) {
      ++coverage.no_space;
      RC_ASSERT(st == DriverStatus::kNoSpace);
      return;
    }
    RC_ASSERT(st == DriverStatus::kOk);
    sut.added.insert(s0.next_id);
  }
  void show(std::ostream& os) const override {
    os << "add [";
    for (const Segment& s : *segs) os << (s.device_writable ? " W" : " R") << s.len;
    os << " ]";
  }
};

// A request with a device-readable segment after a writable one.
struct AddMisordered : Checked<AddMisordered> {
  std::vector<Segment> segs;

  explicit AddMisordered(const Model&) {
    const int count = *rc::gen::inRange(2, kMaxSegments + 1);
    const int bad = *rc::gen::inRange(1, count);  // readable, after a writable
    for (int i = 0; i < count; ++i) {
      segs.push_back(Segment{kBufferRam, 16, i < bad});
    }
  }
  void exec(const Model& s0, Sut& sut) const {
    RC_ASSERT(sut.driver.add(segs.data(), static_cast<uint16_t>(segs.size()),
                             cookie(s0.next_id)) == DriverStatus::kInvalidArgument);
  }
  void show(std::ostream& os) const override { os << "add misordered x" << segs.size(); }
};

struct Publish : Checked<Publish> {
  void apply(Model& m) const override {
    const auto n = static_cast<uint32_t>(m.added.size());
    m.published.insert(m.published.end(), m.added.begin(), m.added.end());
    m.added.clear();
    m.unkicked += n;
    m.published_since_idle += n;
  }
  void exec(const Model& s0, Sut& sut) const {
    sut.driver.publish();
    // Everything added is now visible: the device can pop all of it.
    RC_ASSERT(sut.device.num_available() == s0.published.size() + s0.added.size());
  }
  void show(std::ostream& os) const override { os << "publish"; }
};

struct KickNeeded : Checked<KickNeeded> {
  // With EVENT_IDX: once the device found the ring empty, the next chain
  // published after that must be notified, or the device sleeps on it.
  static bool must_kick(const Model& m) { return m.device_idle && m.published_since_idle > 0; }
  void apply(Model& m) const override {
    if (must_kick(m)) m.device_idle = false;
    m.unkicked = 0;
  }
  void exec(const Model& s0, Sut& sut) const {
    const bool kick = sut.driver.kick_needed();
    if (s0.unkicked == 0) {
      RC_ASSERT(!kick);  // nothing published since the last decision
    } else if (!s0.v.event_idx) {
      RC_ASSERT(kick == !s0.notify_suppressed);
    } else if (must_kick(s0)) {
      RC_ASSERT(kick);
    }
  }
  void show(std::ostream& os) const override { os << "kick_needed"; }
};

struct SuppressNotify : Checked<SuppressNotify> {
  bool suppressed;
  explicit SuppressNotify(const Model&) : suppressed(*rc::gen::arbitrary<bool>()) {}
  void apply(Model& m) const override { m.notify_suppressed = suppressed; }
  void exec(const Model&, Sut& sut) const { sut.device.set_notify_suppressed(suppressed); }
  void show(std::ostream& os) const override { os << "device notify suppressed=" << suppressed; }
};

struct DevicePop : Checked<DevicePop> {
  void apply(Model& m) const override {
    if (m.published.empty()) {
      m.device_idle = true;
      m.published_since_idle = 0;
      return;
    }
    m.device_idle = false;
    m.in_flight.push_back(m.published.front());
    m.published.erase(m.published.begin());
  }
  void exec(const Model& s0, Sut& sut) const {
    const PopStatus st = sut.device.pop(sut.chain);
    if (s0.published.empty()) {
      RC_ASSERT(st == PopStatus::kEmpty);
      return;
    }
    RC_ASSERT(st == PopStatus::kChain);
    // The device sees exactly the segments the driver added, in order.
    const Chain& expected = s0.published.front();
    const DescChain& got = sut.chain;
    const std::vector<Segment>& segs = *expected.segs;
    RC_ASSERT(got.segments.size() == segs.size());
    for (size_t i = 0; i < segs.size(); ++i) {
      RC_ASSERT(got.segments[i].addr == segs[i].addr);
      RC_ASSERT(got.segments[i].len == segs[i].len);
      RC_ASSERT(got.segments[i].writable == segs[i].device_writable);
    }
    RC_ASSERT(got.writable_bytes == expected.writable);
    RC_ASSERT(got.head < s0.v.size);
    for (const auto& [id, head] : sut.head_of) RC_ASSERT(head != got.head);
    sut.head_of[expected.id] = got.head;
    if (expected.descs == 1 && segs.size() > 1) ++coverage.indirect;
    // Chain k sits at avail position k - 1: past N its slot index wrapped.
    if (expected.id > s0.v.size) ++coverage.slot_wraps;
  }
  void show(std::ostream& os) const override { os << "device pop"; }
};

struct DeviceComplete : Checked<DeviceComplete> {
  size_t index;
  uint32_t len;

  explicit DeviceComplete(const Model& m) {
    RC_PRE(!m.in_flight.empty());
    index = *rc::gen::inRange<size_t>(0, m.in_flight.size());
    // Partial completion: any length up to the chain's writable bytes.
    len = static_cast<uint32_t>(
        *rc::gen::inRange<uint64_t>(0, uint64_t{m.in_flight[index].writable} + 1));
  }
  void checkPreconditions(const Model& m) const override {
    RC_PRE(index < m.in_flight.size());
    RC_PRE(len <= m.in_flight[index].writable);
  }
  void apply(Model& m) const override {
    const Chain& c = m.in_flight[index];
    m.completed.push_back(Completion{c.id, len, c.descs});
    m.in_flight.erase(m.in_flight.begin() + static_cast<ptrdiff_t>(index));
    ++m.unsignalled;
    ++m.pushed_since_idle;
  }
  void exec(const Model& s0, Sut& sut) const {
    const uintptr_t id = s0.in_flight[index].id;
    RC_ASSERT(sut.head_of.count(id) == 1);
    RC_ASSERT(sut.device.push(sut.head_of[id], len));
    sut.head_of.erase(id);
    if (index != 0) ++coverage.out_of_order;
  }
  void show(std::ostream& os) const override {
    os << "device complete in_flight[" << index << "] len " << len;
  }
};

struct DeviceSignal : Checked<DeviceSignal> {
  // With EVENT_IDX: once the driver found nothing to do with interrupts
  // enabled, the next completion must interrupt, or the driver sleeps on it.
  static bool must_interrupt(const Model& m) { return m.driver_idle && m.pushed_since_idle > 0; }
  void apply(Model& m) const override {
    if (must_interrupt(m)) m.driver_idle = false;
    m.unsignalled = 0;
  }
  void exec(const Model& s0, Sut& sut) const {
    const bool irq = sut.device.should_interrupt();
    if (s0.unsignalled == 0) {
      RC_ASSERT(!irq);  // nothing completed since the last decision
    } else if (!s0.v.event_idx) {
      RC_ASSERT(irq == s0.irq_enabled);
    } else if (must_interrupt(s0)) {
      RC_ASSERT(irq);
    }
  }
  void show(std::ostream& os) const override { os << "device should_interrupt"; }
};

struct GetUsed : Checked<GetUsed> {
  void apply(Model& m) const override {
    if (m.completed.empty()) {
      if (m.irq_enabled) {
        m.driver_idle = true;
        m.pushed_since_idle = 0;
      }
      return;
    }
    m.completed.erase(m.completed.begin());
    m.driver_idle = false;  // it polled: no wakeup owed for what it took
  }
  void exec(const Model& s0, Sut& sut) const {
    UsedBuffer u{};
    const DriverStatus st = sut.driver.get_used(&u);
    if (s0.completed.empty()) {
      RC_ASSERT(st == DriverStatus::kEmpty);
      return;
    }
    RC_ASSERT(st == DriverStatus::kOk);
    // The cookie and len the device completed, in used-ring order, once.
    RC_ASSERT(id_of(u.cookie) == s0.completed.front().id);
    RC_ASSERT(u.len == s0.completed.front().len);
    RC_ASSERT(sut.returned.insert(id_of(u.cookie)).second);
  }
  void show(std::ostream& os) const override { os << "driver get_used"; }
};

struct DisableInterrupts : Checked<DisableInterrupts> {
  void apply(Model& m) const override {
    m.irq_enabled = false;
    m.driver_idle = false;
  }
  void exec(const Model&, Sut& sut) const { sut.driver.disable_interrupts(); }
  void show(std::ostream& os) const override { os << "driver disable_interrupts"; }
};

struct EnableInterrupts : Checked<EnableInterrupts> {
  void apply(Model& m) const override {
    m.irq_enabled = true;
    if (m.completed.empty()) {
      m.driver_idle = true;
      m.pushed_since_idle = 0;
    }
  }
  void exec(const Model& s0, Sut& sut) const {
    // True exactly when completed entries are waiting to be taken.
    RC_ASSERT(sut.driver.enable_interrupts() == !s0.completed.empty());
  }
  void show(std::ostream& os) const override { os << "driver enable_interrupts"; }
};

// After a random history: publish, complete and take everything left. Every
// cookie the driver accepted comes back exactly once and all descriptors are
// free again.
void drain(Sut& sut, uint16_t size) {
  sut.driver.publish();
  for (PopStatus st; (st = sut.device.pop(sut.chain)) != PopStatus::kEmpty;) {
    RC_ASSERT(st == PopStatus::kChain);
    RC_ASSERT(sut.device.push(sut.chain.head, 0));
  }
  for (const auto& [id, head] : sut.head_of) RC_ASSERT(sut.device.push(head, 0));
  UsedBuffer u{};
  DriverStatus st;
  while ((st = sut.driver.get_used(&u)) == DriverStatus::kOk) {
    RC_ASSERT(sut.returned.insert(id_of(u.cookie)).second);
  }
  RC_ASSERT(st == DriverStatus::kEmpty);
  RC_ASSERT(sut.returned == sut.added);
  RC_ASSERT(sut.driver.num_free() == size);
  RC_ASSERT(sut.driver.num_outstanding() == 0);
}

void check_variant(const Variant& v) {
  coverage = Coverage{};
  rc::prop(v.name, [v] {
    // Commands that move requests along the ring appear more than once so chains
    // complete often enough to cycle the ring; sequences are scaled up so
    // one history fills and wraps a small ring several times.
    const auto next_command =
        rc::state::gen::execOneOfWithArgs<
            Add, Add, Add, AddMisordered, Publish, Publish, KickNeeded, SuppressNotify, DevicePop,
            DevicePop, DeviceComplete, DeviceComplete, DeviceComplete, DeviceSignal, GetUsed,
            GetUsed, GetUsed, DisableInterrupts, EnableInterrupts>();
    const auto commands =
        *rc::gen::scale(4.0, rc::state::gen::commands(Model(v), next_command));
    ++coverage.histories;
    Sut sut(v);
    rc::state::runAll(commands, Model(v), sut);
    drain(sut, v.size);
  });
  // The random histories did reach the states that matter. (Catch re-enters
  // the test case after a failed section without running it: nothing to see.)
  if (coverage.histories == 0) return;
  CHECK(coverage.no_space > 0);
  if (v.size <= 16) {
    CHECK(coverage.slot_wraps > 0);
  }
  CHECK(coverage.out_of_order > 0);
  if (v.size <= 8) {
    CHECK(coverage.ring_full > 0);
  }
  if (v.indirect_max != 0) {
    CHECK(coverage.indirect > 0);
  }
}

}  // namespace

TEST_CASE("virtqueue stateful: driver and device rings without an indirect pool",
          "[virtqueue][stateful][VQ-5][VQ-6][VQ-9][IRQ-2][DMA-1][DMA-2]") {
  const Variant v = GENERATE(values<Variant>({
      {"queue size 8", 8, 0, 2, false},
      {"queue size 8 with EVENT_IDX", 8, 0, 2, true},
      {"queue size 64", 64, 0, 2, false},
  }));
  check_variant(v);
}

TEST_CASE("virtqueue stateful: driver and device rings with an indirect pool",
          "[virtqueue][stateful][VQ-4][VQ-5][VQ-6][VQ-9][IRQ-2][DMA-1][DMA-2]") {
  const Variant v = GENERATE(values<Variant>({
      {"queue size 8, tables for 2..4 segments", 8, 4, 2, false},
      {"queue size 8, tables for 3..8 segments", 8, 8, 3, false},
      {"queue size 8, tables for 2..4 segments, EVENT_IDX", 8, 4, 2, true},
      {"queue size 16, tables for 2..8 segments", 16, 8, 2, false},
  }));
  check_variant(v);
}
