// libFuzzer target for the split virtqueue: contract VQ-7, VQ-8 (device side,
// hostile driver) and VQ-9 (driver side, hostile device).
//
// Input: le16 `split`, then two independent FuzzedDataProvider streams, so a
// mutation in one half never reshuffles the other:
//   bytes [2, 2 + split)   device half. A hostile driver maps 1-3 guest-memory
//                          regions (some above 4 GiB, some adjacent, one huge
//                          and sparse), places a ring, writes descriptors,
//                          indirect tables, avail slots/idx and raw bytes, and
//                          DeviceQueue::pop/push are driven and checked
//                          against a reference chain walker.
//   bytes [2 + split, end) driver half. DriverQueue adds and publishes
//                          requests; a hostile device writes used entries,
//                          used.idx and raw ring bytes (or, in honest mode,
//                          the real DeviceQueue serves the ring) and
//                          get_used / detach_unused are checked against a
//                          model of what the driver handed out.
// Every op consumes the same fields whatever the state, so
// fuzz/make_seed_corpus.py can encode seeds without simulating the queues.
// Keep the two in step: its --check mode (CTest fuzz.virtqueue.seed_intent)
// fails when a seed no longer reaches the outcome its name promises.
//
// Set AEROV_FUZZ_TRACE=1 to log every decision to stderr.
#include "fuzz/fuzz_check.hpp"
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/layout.hpp"

namespace {

namespace vq = aerov::virtqueue;
using aerov::model::GuestMemory;
using aerov::model::MemError;

using aerov::fuzz::trace;

// Host memory of exactly the requested size, so ASan flags any access one
// byte past a guest-memory region or ring.
class HostBuffer {
 public:
  explicit HostBuffer(size_t n)
      : n_(n), p_(static_cast<uint8_t*>(::operator new(n, std::align_val_t{64}))) {
    std::memset(p_, 0, n);
  }
  ~HostBuffer() { ::operator delete(p_, std::align_val_t{64}); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  uint8_t* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  uint8_t* p_;
};

constexpr int kMaxOps = 128;
constexpr uint64_t kChainBytesMax = 1ull << 32;

// Up to 3 values of a uniform "how long is this buffer" choice.
uint32_t pick_len(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<uint8_t>(0, 2)) {
    case 0: return in.ConsumeIntegral<uint8_t>();
    case 1: return in.ConsumeIntegral<uint16_t>();
    default: return in.ConsumeIntegral<uint32_t>();
  }
}

const char* pop_name(vq::PopStatus s) {
  switch (s) {
    case vq::PopStatus::kEmpty: return "empty";
    case vq::PopStatus::kChain: return "chain";
    case vq::PopStatus::kChainError: return "chain-error";
    case vq::PopStatus::kRingError: return "ring-error";
  }
  return "?";
}

template <typename E>
const char* name(E e) {
  using aerov::model::to_string;
  using vq::to_string;
  return to_string(e).data();  // views of string literals: NUL-terminated
}

// ---------------------------------------------------------------------------
// Device half: DeviceQueue against a hostile driver (VQ-7, VQ-8).

constexpr uint64_t kRegionBases[] = {
    0x0000000000000000ull,
    0x0000000000010000ull,
    0x00000000FFFF0000ull,  // just below 4 GiB
    0x0000000100000000ull,  // 4 GiB (DMA-2)
    0x0000000100008000ull,
    0x00007FFFFFFF0000ull,  // far above 4 GiB
    0xFFFFFFFFFFFF0000ull,  // top of the 64-bit space
};
constexpr uint8_t kRegionAdjacent = 7;  // right after the previously mapped region
constexpr uint8_t kRegionBig = 9;       // "pages" value: sparse RAM, 2 GiB + 1 page
constexpr uint64_t kBigRegionBytes = (2ull << 30) + 4096;

// Which descriptors count toward a chain's limit of N: docs/contract.md
// project decision (d) counts buffer descriptors only, so an INDIRECT
// descriptor plus a full N-entry table is a valid chain (DriverQueue::add
// builds one when indirect_max >= N; honest mode checks the device takes it).
constexpr bool kIndirectDescriptorCountsTowardN = false;

struct RefChain {
  bool ok = false;
  std::vector<vq::ChainSegment> segments;
};

class DeviceHalf {
 public:
  explicit DeviceHalf(FuzzedDataProvider& in) : in_(in) {}
  void run();

 private:
  struct Region {
    uint64_t gpa;
    uint64_t size;
  };
  struct Popped {
    uint16_t head;
    bool ok;
    uint64_t writable;
  };

  uint64_t pick_region_offset();
  uint64_t pick_addr();
  vq::VirtqDesc pick_desc();
  uint16_t read16(uint64_t gpa) const;
  vq::RingError expected_config_error() const;
  void configure();
  vq::PopStatus pop_one();
  void run_pops(uint8_t limit);
  void check_chain(vq::PopStatus s, const vq::DescChain& c) const;
  RefChain ref_walk(uint16_t head) const;
  void push(uint16_t head, uint32_t len);
  void finish();

  FuzzedDataProvider& in_;
  GuestMemory mem_;
  std::vector<std::unique_ptr<HostBuffer>> host_;
  std::vector<Region> regions_;
  vq::DeviceQueueConfig cfg_{};
  vq::DeviceQueue q_;
  vq::DescChain chain_;
  // Model of the device queue.
  bool stopped_ = false;      // configure failed or a ring error was reported
  uint16_t last_avail_ = 0;   // avail entries consumed
  uint16_t used_idx_ = 0;     // used entries published
  std::vector<Popped> outstanding_;
  std::vector<uint8_t> owned_;
};

uint64_t DeviceHalf::pick_region_offset() {
  const uint8_t r = in_.ConsumeIntegralInRange<uint8_t>(0, 2);
  const uint16_t off = in_.ConsumeIntegral<uint16_t>();
  if (regions_.empty()) return off;
  const Region& region = regions_[r % regions_.size()];
  return region.gpa + off % (region.size + 64);  // a little past the end too
}

uint64_t DeviceHalf::pick_addr() {
  switch (in_.ConsumeIntegralInRange<uint8_t>(0, 3)) {
    case 0: return pick_region_offset();
    case 1: return in_.ConsumeIntegral<uint64_t>();
    case 2: return ~uint64_t{0} - in_.ConsumeIntegral<uint16_t>();  // overflow territory
    default: {  // k bytes before a region's end: off-by-one territory
      const uint8_t r = in_.ConsumeIntegralInRange<uint8_t>(0, 2);
      const uint8_t k = in_.ConsumeIntegral<uint8_t>();
      if (regions_.empty()) return 0;
      const Region& region = regions_[r % regions_.size()];
      return region.gpa + region.size - k;
    }
  }
}

vq::VirtqDesc DeviceHalf::pick_desc() {
  vq::VirtqDesc d{};
  d.addr = pick_addr();
  d.len = pick_len(in_);
  d.flags = in_.ConsumeIntegral<uint8_t>();
  d.next = in_.ConsumeIntegral<uint16_t>();
  return d;
}

uint16_t DeviceHalf::read16(uint64_t gpa) const {
  uint16_t v = 0;
  FUZZ_CHECK(mem_.read_obj(gpa, &v) == MemError::kOk);
  return v;
}

vq::RingError DeviceHalf::expected_config_error() const {
  if (cfg_.desc % vq::kDescAlign != 0 || cfg_.avail % vq::kAvailAlign != 0 ||
      cfg_.used % vq::kUsedAlign != 0) {
    return vq::RingError::kMisaligned;
  }
  if (mem_.translate(cfg_.desc, vq::desc_table_bytes(cfg_.size)) == nullptr ||
      mem_.translate(cfg_.avail, vq::avail_ring_bytes(cfg_.size, cfg_.event_idx)) == nullptr ||
      mem_.translate(cfg_.used, vq::used_ring_bytes(cfg_.size, cfg_.event_idx)) == nullptr) {
    return vq::RingError::kOutsideMemory;
  }
  return vq::RingError::kNone;
}

void DeviceHalf::configure() {
  const vq::RingError got = q_.configure(mem_, cfg_);
  trace("dev configure size=%u indirect=%d event_idx=%d desc=%#llx avail=%#llx used=%#llx: %s",
        cfg_.size, cfg_.indirect, cfg_.event_idx, static_cast<unsigned long long>(cfg_.desc),
        static_cast<unsigned long long>(cfg_.avail), static_cast<unsigned long long>(cfg_.used),
        name(got));
  FUZZ_CHECK(got == expected_config_error());
  FUZZ_CHECK(q_.configured() == (got == vq::RingError::kNone));
  stopped_ = got != vq::RingError::kNone;
  last_avail_ = 0;
  used_idx_ = 0;
  outstanding_.clear();
  owned_.assign(cfg_.size, 0);
  if (stopped_) FUZZ_CHECK(q_.pop(chain_) == vq::PopStatus::kRingError);
}

// The reference walker: the contract's chain rules (VQ-4, VQ-7 and project
// decisions (a)-(d) in docs/contract.md) written independently of
// DeviceQueue::walk. Only ok/not-ok and the ok segments are compared, so the
// order in which it finds an error does not matter.
RefChain DeviceHalf::ref_walk(uint16_t head) const {
  RefChain r;
  const uint32_t n = cfg_.size;
  uint32_t count = 0;  // descriptors counted toward the limit of N
  uint64_t total = 0;
  bool seen_writable = false;
  auto take = [&](const vq::VirtqDesc& d) {
    const bool writable = (d.flags & vq::kDescFWrite) != 0;
    if (!writable && seen_writable) return false;
    seen_writable = seen_writable || writable;
    if (d.len != 0 &&
        (d.addr > ~uint64_t{0} - d.len || mem_.check(d.addr, d.len) != MemError::kOk)) {
      return false;
    }
    total += d.len;
    if (total > kChainBytesMax) return false;
    r.segments.push_back(vq::ChainSegment{d.addr, d.len, writable});
    return true;
  };
  std::vector<uint8_t> seen(n, 0);
  uint32_t i = head;
  for (;;) {
    if (seen[i] != 0) return r;
    seen[i] = 1;
    vq::VirtqDesc d{};
    FUZZ_CHECK(mem_.read_obj(cfg_.desc + 16ull * i, &d) == MemError::kOk);
    const bool is_indirect = (d.flags & vq::kDescFIndirect) != 0;
    if ((!is_indirect || kIndirectDescriptorCountsTowardN) && ++count > n) return r;
    if (is_indirect) {
      if (!cfg_.indirect || (d.flags & vq::kDescFNext) != 0) return r;
      if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > n) return r;
      if (d.addr > ~uint64_t{0} - d.len || mem_.check(d.addr, d.len) != MemError::kOk) return r;
      const uint32_t entries = d.len / 16;
      std::vector<vq::VirtqDesc> table(entries);
      FUZZ_CHECK(mem_.read(d.addr, table.data(), d.len) == MemError::kOk);
      std::vector<uint8_t> seen_entry(entries, 0);
      uint32_t j = 0;
      for (;;) {
        if (seen_entry[j] != 0 || ++count > n) return r;
        seen_entry[j] = 1;
        const vq::VirtqDesc& e = table[j];
        if ((e.flags & vq::kDescFIndirect) != 0 || !take(e)) return r;
        if ((e.flags & vq::kDescFNext) == 0) {
          r.ok = true;
          return r;
        }
        if (e.next >= entries) return r;
        j = e.next;
      }
    }
    if (!take(d)) return r;
    if ((d.flags & vq::kDescFNext) == 0) {
      r.ok = true;
      return r;
    }
    if (d.next >= n) return r;
    i = d.next;
  }
}

void DeviceHalf::check_chain(vq::PopStatus s, const vq::DescChain& c) const {
  // Holds for the segments of an erroneous chain too: they are the ones
  // validated before the error.
  FUZZ_CHECK(c.segments.size() <= cfg_.size);
  uint64_t readable = 0;
  uint64_t writable = 0;
  bool seen_writable = false;
  for (const vq::ChainSegment& seg : c.segments) {
    if (seg.writable) {
      seen_writable = true;
      writable += seg.len;
    } else {
      FUZZ_CHECK(!seen_writable);  // readable before writable
      readable += seg.len;
    }
    // Zero-length segments are passed through unchecked (decision (b)).
    if (seg.len != 0) FUZZ_CHECK(mem_.check(seg.addr, seg.len) == MemError::kOk);
  }
  FUZZ_CHECK(readable == c.readable_bytes && writable == c.writable_bytes);
  FUZZ_CHECK(readable + writable <= kChainBytesMax);
  FUZZ_CHECK((s == vq::PopStatus::kChain) == (c.error == vq::ChainError::kNone));

  const RefChain ref = ref_walk(c.head);
  if (ref.ok != (s == vq::PopStatus::kChain)) {
    std::fprintf(stderr, "virtqueue_fuzz: device says %s (%s), reference walker says %s\n",
                 pop_name(s), name(c.error), ref.ok ? "ok" : "error");
  }
  FUZZ_CHECK(ref.ok == (s == vq::PopStatus::kChain));
  if (!ref.ok) return;
  FUZZ_CHECK(ref.segments.size() == c.segments.size());
  for (size_t k = 0; k < ref.segments.size(); ++k) {
    FUZZ_CHECK(ref.segments[k].addr == c.segments[k].addr);
    FUZZ_CHECK(ref.segments[k].len == c.segments[k].len);
    FUZZ_CHECK(ref.segments[k].writable == c.segments[k].writable);
  }
}

vq::PopStatus DeviceHalf::pop_one() {
  // Predict from guest memory what pop must do (nothing else runs between
  // these reads and the pop).
  uint16_t pending = 0;
  uint16_t head = 0;
  if (!stopped_) {
    pending = static_cast<uint16_t>(read16(cfg_.avail + 2) - last_avail_);
    head = read16(cfg_.avail + 4 + 2ull * (last_avail_ & (cfg_.size - 1)));
    FUZZ_CHECK(q_.num_available() == (pending > cfg_.size ? 0 : pending));
  }
  const vq::PopStatus s = q_.pop(chain_);
  if (s == vq::PopStatus::kRingError) {
    trace("dev pop: ring-error %s", name(q_.ring_error()));
  } else if (s != vq::PopStatus::kEmpty) {
    trace("dev pop: %s head=%u error=%s segs=%zu r=%llu w=%llu", pop_name(s), chain_.head,
          name(chain_.error), chain_.segments.size(),
          static_cast<unsigned long long>(chain_.readable_bytes),
          static_cast<unsigned long long>(chain_.writable_bytes));
  }
  if (stopped_) {
    // Once stopped, stopped for good, whatever the guest writes (VQ-8).
    FUZZ_CHECK(s == vq::PopStatus::kRingError);
    FUZZ_CHECK(q_.num_available() == 0);
    return s;
  }
  if (pending == 0) {
    FUZZ_CHECK(s == vq::PopStatus::kEmpty);
  } else if (pending > cfg_.size) {
    FUZZ_CHECK(s == vq::PopStatus::kRingError && q_.ring_error() == vq::RingError::kAvailIdxAhead);
  } else if (head >= cfg_.size) {
    FUZZ_CHECK(s == vq::PopStatus::kRingError && q_.ring_error() == vq::RingError::kHeadOutOfRange);
  } else if (owned_[head] != 0) {
    FUZZ_CHECK(s == vq::PopStatus::kRingError && q_.ring_error() == vq::RingError::kHeadInFlight);
  } else {
    FUZZ_CHECK(s == vq::PopStatus::kChain || s == vq::PopStatus::kChainError);
    FUZZ_CHECK(chain_.head == head);
    check_chain(s, chain_);
    last_avail_ = static_cast<uint16_t>(last_avail_ + 1);
    owned_[head] = 1;
    outstanding_.push_back(Popped{head, s == vq::PopStatus::kChain, chain_.writable_bytes});
  }
  if (s == vq::PopStatus::kRingError) {
    stopped_ = true;
    FUZZ_CHECK(q_.num_available() == 0);
  }
  FUZZ_CHECK(q_.in_flight() == outstanding_.size());
  return s;
}

// One doorbell: pop until empty (limit 0) or at most `limit` times.
void DeviceHalf::run_pops(uint8_t limit) {
  const unsigned max = limit == 0 ? 2u * cfg_.size + 2 : limit;
  unsigned chains = 0;
  for (unsigned n = 0; n < max; ++n) {
    const vq::PopStatus s = pop_one();
    if (s != vq::PopStatus::kChain && s != vq::PopStatus::kChainError) break;
    ++chains;
  }
  // VQ-8: at most N chains per avail window, so per doorbell.
  FUZZ_CHECK(chains <= cfg_.size);
}

void DeviceHalf::push(uint16_t head, uint32_t len) {
  const bool expect = !stopped_ && head < cfg_.size && owned_[head] != 0;
  const bool got = q_.push(head, len);
  trace("dev push head=%u len=%u: %s", head, len, got ? "ok" : "refused");
  FUZZ_CHECK(got == expect);
  if (!got) return;
  used_idx_ = static_cast<uint16_t>(used_idx_ + 1);
  FUZZ_CHECK(read16(cfg_.used + 2) == used_idx_);
  vq::VirtqUsedElem e{};
  const uint64_t slot = static_cast<uint16_t>(used_idx_ - 1) & (cfg_.size - 1);
  FUZZ_CHECK(mem_.read_obj(cfg_.used + 4 + 8 * slot, &e) == MemError::kOk);
  FUZZ_CHECK(e.id == head && e.len == len);
  owned_[head] = 0;
  for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
    if (it->head == head) {
      outstanding_.erase(it);
      break;
    }
  }
  FUZZ_CHECK(q_.in_flight() == outstanding_.size());
}

void DeviceHalf::finish() {
  if (!stopped_) {
    // VQ-7: every chain, erroneous or not, is completed.
    while (!outstanding_.empty()) {
      const Popped p = outstanding_.front();
      push(p.head, p.ok ? static_cast<uint32_t>(std::min<uint64_t>(p.writable, 0xFFFFFFFFu)) : 0);
    }
    FUZZ_CHECK(q_.in_flight() == 0);
  } else {
    // A stopped queue completes nothing until the driver resets it (STAT-4).
    FUZZ_CHECK(q_.pop(chain_) == vq::PopStatus::kRingError);
    for (const Popped& p : outstanding_) FUZZ_CHECK(!q_.push(p.head, 0));
  }
}

void DeviceHalf::run() {
  cfg_.size = static_cast<uint16_t>(1u << in_.ConsumeIntegralInRange<uint8_t>(0, 8));
  cfg_.indirect = in_.ConsumeBool();
  cfg_.event_idx = in_.ConsumeBool();
  const uint8_t nregions = in_.ConsumeIntegralInRange<uint8_t>(1, 3);
  for (uint8_t k = 0; k < nregions; ++k) {
    const uint8_t where = in_.ConsumeIntegralInRange<uint8_t>(0, 7);
    const uint8_t pages = in_.ConsumeIntegralInRange<uint8_t>(1, kRegionBig);
    uint64_t gpa = 0;
    if (where == kRegionAdjacent) {
      if (!regions_.empty()) gpa = regions_.back().gpa + regions_.back().size;
    } else {
      gpa = kRegionBases[where];
    }
    MemError e;
    uint64_t bytes;
    if (pages == kRegionBig) {
      bytes = kBigRegionBytes;
      e = mem_.add_ram(gpa, bytes);
    } else {
      bytes = pages * GuestMemory::kPageSize;
      auto buf = std::make_unique<HostBuffer>(bytes);
      e = mem_.add_external(gpa, bytes, buf->data());
      if (e == MemError::kOk) host_.push_back(std::move(buf));
    }
    trace("dev region gpa=%#llx bytes=%#llx: %s", static_cast<unsigned long long>(gpa),
          static_cast<unsigned long long>(bytes), name(e));
    if (e == MemError::kOk) regions_.push_back(Region{gpa, bytes});
  }

  if (in_.ConsumeBool()) {
    // One contiguous allocation, as a driver lays it out.
    const uint64_t base = pick_region_offset() & ~uint64_t{15};
    const vq::RingLayout l = vq::ring_layout(cfg_.size, cfg_.event_idx);
    cfg_.desc = base + l.desc_offset;
    cfg_.avail = base + l.avail_offset;
    cfg_.used = base + l.used_offset;
  } else {
    cfg_.desc = pick_addr();
    cfg_.avail = pick_addr();
    cfg_.used = pick_addr();
  }
  configure();

  const uint16_t mask = static_cast<uint16_t>(cfg_.size - 1);
  for (int ops = 0; ops < kMaxOps && in_.remaining_bytes() > 0; ++ops) {
    switch (in_.ConsumeIntegralInRange<uint8_t>(0, 8)) {
      case 0: {  // write a ring descriptor
        const uint16_t i = in_.ConsumeIntegralInRange<uint16_t>(0, mask);
        const vq::VirtqDesc d = pick_desc();
        mem_.write_obj(cfg_.desc + 16ull * i, d);
        break;
      }
      case 1: {  // write an indirect-table entry anywhere
        const uint64_t table = pick_addr();
        const uint8_t j = in_.ConsumeIntegral<uint8_t>();
        const vq::VirtqDesc d = pick_desc();
        mem_.write_obj(table + 16ull * j, d);
        break;
      }
      case 2: {  // make a head available (slot, then idx), as a driver does
        const uint16_t head = in_.ConsumeIntegral<uint16_t>();
        uint16_t idx = 0;
        if (mem_.read_obj(cfg_.avail + 2, &idx) == MemError::kOk) {
          mem_.write_obj(cfg_.avail + 4 + 2ull * (idx & mask), head);
          mem_.write_obj(cfg_.avail + 2, static_cast<uint16_t>(idx + 1));
        }
        break;
      }
      case 3: {  // set avail.idx to anything
        const uint16_t idx = in_.ConsumeIntegral<uint16_t>();
        mem_.write_obj(cfg_.avail + 2, idx);
        break;
      }
      case 4: {  // raw bytes anywhere
        const uint64_t addr = pick_addr();
        const uint8_t n = in_.ConsumeIntegralInRange<uint8_t>(0, 64);
        uint8_t bytes[64];
        const size_t got = in_.ConsumeData(bytes, n);
        mem_.write(addr, bytes, got);
        break;
      }
      case 5:  // doorbell
        run_pops(in_.ConsumeIntegral<uint8_t>());
        break;
      case 6: {  // complete one chain (or try a head the device does not own)
        const bool outstanding = in_.ConsumeBool();
        const uint16_t sel = in_.ConsumeIntegral<uint16_t>();
        const uint32_t len = in_.ConsumeIntegral<uint32_t>();
        if (outstanding && !outstanding_.empty()) {
          const Popped p = outstanding_[sel % outstanding_.size()];
          push(p.head, p.ok ? static_cast<uint32_t>(std::min<uint64_t>(len, p.writable)) : 0);
        } else {
          push(sel, len);
        }
        break;
      }
      case 7:  // the driver resets the device and re-enables the queue
        configure();
        break;
      case 8: {  // the device polls: VRING_USED_F_NO_NOTIFY on or off
        const bool suppressed = in_.ConsumeBool();
        q_.set_notify_suppressed(suppressed);
        if (q_.configured()) FUZZ_CHECK(read16(cfg_.used) == (suppressed ? vq::kUsedFNoNotify : 0));
        if (stopped_) FUZZ_CHECK(!q_.should_interrupt());
        break;
      }
    }
    FUZZ_CHECK(q_.in_flight() == outstanding_.size());
  }
  finish();
}

// ---------------------------------------------------------------------------
// Driver half: DriverQueue against a hostile (or the real) device (VQ-9).

struct Request {
  void* cookie;
  uint16_t head;
  uint32_t writable;
  bool indirect;
  bool published;
  std::vector<uint16_t> descs;  // ring descriptors the chain holds
  std::vector<vq::Segment> segs;
};

class DriverHalf {
 public:
  explicit DriverHalf(FuzzedDataProvider& in) : in_(in) {}
  void run();

 private:
  static constexpr uint64_t kDataBytes = 16384;

  uint16_t ring16(uint64_t offset) const;
  vq::VirtqDesc ring_desc(uint16_t i) const;
  Request* find_published(uint32_t head);
  Request* find_cookie(void* cookie);
  void release(Request* r);
  void reset_model();
  void add();
  void publish();
  void complete();
  void serve_honestly(uint32_t len);
  void get_used_loop(uint8_t limit);
  void reset_device();
  void detach_all();
  void detach_and_reinit();

  FuzzedDataProvider& in_;
  uint16_t size_ = 0;
  bool event_idx_ = false;
  uint16_t indirect_max_ = 0;
  bool use_pool_ = false;
  bool honest_ = false;
  uint64_t ring_pa_ = 0;
  uint64_t pool_pa_ = 0;
  uint64_t data_pa_ = 0;
  vq::RingLayout layout_{};
  std::unique_ptr<HostBuffer> ring_, pool_, data_;
  std::vector<vq::DescState> state_;
  vq::DriverQueueConfig cfg_{};
  vq::DriverQueue q_;
  GuestMemory mem_;  // honest mode: the real device sees the same bytes
  vq::DeviceQueue dev_;
  vq::DescChain chain_;
  // Model of the driver queue.
  std::vector<Request> live_;  // added, not yet returned, in avail order
  std::vector<uint8_t> desc_owned_;
  uint16_t num_free_ = 0;
  uint16_t avail_idx_ = 0;
  uint16_t last_used_ = 0;
  uint16_t dev_used_idx_ = 0;  // where the hostile device writes next
  bool broken_ = false;
  uintptr_t next_token_ = 1;
  std::vector<uint16_t> unpopped_;  // honest mode: published heads, avail order
};

uint16_t DriverHalf::ring16(uint64_t offset) const {
  uint16_t v;
  std::memcpy(&v, ring_->data() + offset, sizeof v);
  return v;
}

vq::VirtqDesc DriverHalf::ring_desc(uint16_t i) const {
  vq::VirtqDesc d;
  std::memcpy(&d, ring_->data() + layout_.desc_offset + 16ull * i, sizeof d);
  return d;
}

Request* DriverHalf::find_published(uint32_t head) {
  for (Request& r : live_) {
    if (r.published && r.head == head) return &r;
  }
  return nullptr;
}

Request* DriverHalf::find_cookie(void* cookie) {
  for (Request& r : live_) {
    if (r.cookie == cookie) return &r;
  }
  return nullptr;
}

void DriverHalf::release(Request* r) {
  for (const uint16_t d : r->descs) {
    FUZZ_CHECK(desc_owned_[d] != 0);  // nothing is freed twice
    desc_owned_[d] = 0;
  }
  num_free_ = static_cast<uint16_t>(num_free_ + r->descs.size());
  live_.erase(live_.begin() + (r - live_.data()));
}

void DriverHalf::reset_model() {
  live_.clear();
  desc_owned_.assign(size_, 0);
  num_free_ = size_;
  avail_idx_ = last_used_ = dev_used_idx_ = 0;
  broken_ = false;
  unpopped_.clear();
}

void DriverHalf::add() {
  const uint16_t count = in_.ConsumeIntegralInRange<uint16_t>(1, static_cast<uint16_t>(size_ + 1));
  const bool ordered = in_.ConsumeBool();
  std::vector<vq::Segment> segs(count);
  for (vq::Segment& s : segs) {
    s.device_writable = in_.ConsumeBool();
    if (honest_) {
      const uint64_t off = in_.ConsumeIntegral<uint16_t>() % kDataBytes;
      s.addr = data_pa_ + off;
      s.len = static_cast<uint32_t>(in_.ConsumeIntegral<uint16_t>() % (kDataBytes - off + 1));
    } else {
      s.addr = in_.ConsumeIntegral<uint64_t>();
      s.len = pick_len(in_);
    }
  }
  if (ordered) {
    std::stable_partition(segs.begin(), segs.end(),
                          [](const vq::Segment& s) { return !s.device_writable; });
  }
  uint64_t writable = 0, total = 0;
  bool bad_order = false;
  bool seen_writable = false;
  for (const vq::Segment& s : segs) {
    total += s.len;
    if (s.device_writable) {
      seen_writable = true;
      writable += s.len;
    } else if (seen_writable) {
      bad_order = true;
    }
  }
  const bool indirect = use_pool_ && count >= cfg_.indirect_min_segments && count <= indirect_max_;
  const uint16_t need = indirect ? 1 : count;
  vq::DriverStatus expect = vq::DriverStatus::kOk;
  if (broken_) {
    expect = vq::DriverStatus::kBroken;
  } else if (count > size_ || bad_order || writable > 0xFFFFFFFFu || total > (1ull << 32)) {
    // The device refuses chains over 2^32 bytes in all (VQ-7), so the driver
    // refuses to build them.
    expect = vq::DriverStatus::kInvalidArgument;
  } else if (need > num_free_) {
    expect = vq::DriverStatus::kNoSpace;
  }
  void* cookie = reinterpret_cast<void*>(next_token_ << 4);  // a token, never dereferenced
  ++next_token_;
  const vq::DriverStatus got = q_.add(segs.data(), count, cookie);
  trace("drv add count=%u indirect=%d writable=%llu: %s", count, indirect,
        static_cast<unsigned long long>(writable), vq::to_string(got));
  FUZZ_CHECK(got == expect);
  if (got != vq::DriverStatus::kOk) return;

  // What the driver wrote must be exactly the request, in descriptors no
  // other outstanding request holds.
  const uint16_t slot = static_cast<uint16_t>(avail_idx_ & (size_ - 1));
  const uint16_t head = ring16(layout_.avail_offset + 4 + 2ull * slot);
  FUZZ_CHECK(head < size_);
  Request r{cookie, head, static_cast<uint32_t>(writable), indirect, false, {}, segs};
  auto claim = [&](uint16_t i) {
    FUZZ_CHECK(i < size_);
    FUZZ_CHECK(desc_owned_[i] == 0);
    desc_owned_[i] = 1;
    r.descs.push_back(i);
  };
  auto same = [](const vq::VirtqDesc& d, const vq::Segment& s, bool last) {
    const uint16_t flags = static_cast<uint16_t>((last ? 0 : vq::kDescFNext) |
                                                 (s.device_writable ? vq::kDescFWrite : 0));
    return d.addr == s.addr && d.len == s.len && d.flags == flags;
  };
  if (indirect) {
    claim(head);
    const vq::VirtqDesc d = ring_desc(head);
    FUZZ_CHECK(d.flags == vq::kDescFIndirect && d.len == 16u * count);
    const uint64_t table_offset = 16ull * head * indirect_max_;
    FUZZ_CHECK(d.addr == pool_pa_ + table_offset);
    for (uint16_t j = 0; j < count; ++j) {
      vq::VirtqDesc e;
      std::memcpy(&e, pool_->data() + table_offset + 16ull * j, sizeof e);
      const bool last = j + 1 == count;
      FUZZ_CHECK(same(e, segs[j], last));
      if (!last) FUZZ_CHECK(e.next == j + 1);
    }
  } else {
    uint16_t i = head;
    for (uint16_t j = 0; j < count; ++j) {
      claim(i);
      const vq::VirtqDesc d = ring_desc(i);
      const bool last = j + 1 == count;
      FUZZ_CHECK(same(d, segs[j], last));
      i = d.next;
    }
  }
  num_free_ = static_cast<uint16_t>(num_free_ - need);
  avail_idx_ = static_cast<uint16_t>(avail_idx_ + 1);
  live_.push_back(std::move(r));
}

void DriverHalf::publish() {
  q_.publish();
  trace("drv publish%s", broken_ ? " (broken: no-op)" : "");
  if (broken_) return;
  for (Request& r : live_) {
    if (!r.published) {
      r.published = true;
      unpopped_.push_back(r.head);
    }
  }
  FUZZ_CHECK(ring16(layout_.avail_offset + 2) == avail_idx_);
}

// Hostile device: a used entry for some published request, with a len in
// bounds or anything.
void DriverHalf::complete() {
  const uint8_t sel = in_.ConsumeIntegral<uint8_t>();
  const uint32_t len = in_.ConsumeIntegral<uint32_t>();
  const bool in_bounds = in_.ConsumeBool();
  if (honest_) {
    serve_honestly(len);
    return;
  }
  std::vector<const Request*> published;
  for (const Request& r : live_) {
    if (r.published) published.push_back(&r);
  }
  if (published.empty()) return;
  const Request& r = *published[sel % published.size()];
  const uint32_t l = in_bounds ? static_cast<uint32_t>(len % (uint64_t{r.writable} + 1)) : len;
  const vq::VirtqUsedElem e{r.head, l};
  std::memcpy(ring_->data() + layout_.used_offset + 4 + 8ull * (dev_used_idx_ & (size_ - 1)), &e,
              sizeof e);
  dev_used_idx_ = static_cast<uint16_t>(dev_used_idx_ + 1);
  std::memcpy(ring_->data() + layout_.used_offset + 2, &dev_used_idx_, 2);
  trace("drv device completes head=%u len=%u used.idx=%u", r.head, l, dev_used_idx_);
}

// Honest device: the real DeviceQueue must see exactly what the driver added.
void DriverHalf::serve_honestly(uint32_t len) {
  for (unsigned n = 0; n <= size_; ++n) {
    const vq::PopStatus s = dev_.pop(chain_);
    trace("drv honest device pop: %s head=%u error=%s", pop_name(s), chain_.head,
          name(chain_.error));
    if (s == vq::PopStatus::kEmpty) {
      FUZZ_CHECK(unpopped_.empty());
      break;
    }
    FUZZ_CHECK(s != vq::PopStatus::kRingError);
    FUZZ_CHECK(!unpopped_.empty());
    const uint16_t head = unpopped_.front();
    unpopped_.erase(unpopped_.begin());
    FUZZ_CHECK(chain_.head == head);
    const Request* r = find_published(head);
    FUZZ_CHECK(r != nullptr);
    if (s == vq::PopStatus::kChainError) {
      std::fprintf(stderr, "virtqueue_fuzz: device rejects a chain the driver built: %s\n",
                   name(chain_.error));
      aerov::fuzz::violated(__FILE__, __LINE__, "driver and device agree on every chain the driver builds");
    }
    FUZZ_CHECK(chain_.segments.size() == r->segs.size());
    for (size_t k = 0; k < r->segs.size(); ++k) {
      FUZZ_CHECK(chain_.segments[k].addr == r->segs[k].addr);
      FUZZ_CHECK(chain_.segments[k].len == r->segs[k].len);
      FUZZ_CHECK(chain_.segments[k].writable == r->segs[k].device_writable);
    }
    FUZZ_CHECK(chain_.writable_bytes == r->writable);
    FUZZ_CHECK(dev_.push(head, static_cast<uint32_t>(len % (uint64_t{r->writable} + 1))));
  }
  dev_.should_interrupt();
}

void DriverHalf::get_used_loop(uint8_t limit) {
  const unsigned max = limit == 0 ? 2u * size_ + 2 : limit;
  for (unsigned n = 0; n < max; ++n) {
    // Predict from the ring what get_used must do.
    const uint16_t used_idx = ring16(layout_.used_offset + 2);
    vq::VirtqUsedElem e;
    std::memcpy(&e, ring_->data() + layout_.used_offset + 4 + 8ull * (last_used_ & (size_ - 1)),
                sizeof e);
    vq::UsedBuffer out{};
    const vq::DriverStatus s = q_.get_used(&out);
    trace("drv get_used: %s%s%s", vq::to_string(s), s == vq::DriverStatus::kBroken ? ": " : "",
          s == vq::DriverStatus::kBroken ? vq::to_string(q_.broken_reason()) : "");
    if (broken_) {
      FUZZ_CHECK(s == vq::DriverStatus::kBroken);  // broken stays broken
      return;
    }
    if (used_idx == last_used_) {
      FUZZ_CHECK(s == vq::DriverStatus::kEmpty);
      return;
    }
    vq::BrokenReason why = vq::BrokenReason::kNone;
    Request* r = nullptr;
    if (static_cast<uint16_t>(used_idx - last_used_) > size_) {
      why = vq::BrokenReason::kUsedIdxAhead;
    } else if (e.id >= size_) {
      why = vq::BrokenReason::kUsedIdOutOfRange;
    } else if ((r = find_published(e.id)) == nullptr) {
      why = vq::BrokenReason::kUsedIdNotOutstanding;
    } else if (e.len > r->writable) {
      why = vq::BrokenReason::kUsedLenTooLarge;
    }
    if (why != vq::BrokenReason::kNone) {
      FUZZ_CHECK(s == vq::DriverStatus::kBroken);
      FUZZ_CHECK(q_.broken() && q_.broken_reason() == why);
      broken_ = true;
      return;
    }
    FUZZ_CHECK(s == vq::DriverStatus::kOk);
    // VQ-9: only cookies it handed out and still owns, each once, and never
    // more bytes than the chain could hold.
    Request* returned = find_cookie(out.cookie);
    FUZZ_CHECK(returned != nullptr && returned == r);
    FUZZ_CHECK(out.len == e.len && out.len <= r->writable);
    release(r);
    last_used_ = static_cast<uint16_t>(last_used_ + 1);
  }
}

void DriverHalf::detach_all() {
  for (unsigned n = 0; n <= size_ + 1u; ++n) {
    void* cookie = reinterpret_cast<void*>(uintptr_t{1});
    const vq::DriverStatus s = q_.detach_unused(&cookie);
    if (s == vq::DriverStatus::kEmpty) {
      FUZZ_CHECK(cookie == nullptr);
      break;
    }
    FUZZ_CHECK(s == vq::DriverStatus::kOk);
    Request* r = find_cookie(cookie);
    FUZZ_CHECK(r != nullptr);  // handed out, and not returned before
    release(r);
  }
  trace("drv detached all");
  FUZZ_CHECK(live_.empty());  // every remaining cookie came back
  FUZZ_CHECK(q_.num_outstanding() == 0 && q_.num_free() == size_);
}

void DriverHalf::reset_device() {
  // A copy: configure() resets the queue (config() included) before it reads
  // its argument.
  const vq::DeviceQueueConfig dc = dev_.config();
  FUZZ_CHECK(dev_.configure(mem_, dc) == vq::RingError::kNone);
}

void DriverHalf::detach_and_reinit() {
  if (honest_) reset_device();
  detach_all();
  FUZZ_CHECK(q_.init(cfg_) == vq::DriverStatus::kOk);
  reset_model();
}

void DriverHalf::run() {
  size_ = static_cast<uint16_t>(1u << in_.ConsumeIntegralInRange<uint8_t>(0, 8));
  event_idx_ = in_.ConsumeBool();
  indirect_max_ = in_.ConsumeIntegralInRange<uint8_t>(0, 16);
  const uint16_t min_segments = in_.ConsumeIntegralInRange<uint8_t>(1, 4);
  honest_ = in_.ConsumeBool();
  ring_pa_ = in_.ConsumeBool() ? 0x123450000ull : 0x10000ull;  // above / below 4 GiB
  pool_pa_ = ring_pa_ + 0x100000;
  data_pa_ = ring_pa_ + 0x200000;
  use_pool_ = indirect_max_ != 0;

  layout_ = vq::ring_layout(size_, event_idx_);
  ring_ = std::make_unique<HostBuffer>(layout_.total_bytes);
  if (use_pool_) pool_ = std::make_unique<HostBuffer>(16ull * size_ * indirect_max_);
  state_.assign(size_, vq::DescState{});
  cfg_.size = size_;
  cfg_.ring = vq::DmaRegion{ring_->data(), ring_pa_};
  cfg_.state = state_.data();
  cfg_.event_idx = event_idx_;
  cfg_.indirect_pool = vq::DmaRegion{use_pool_ ? pool_->data() : nullptr, pool_pa_};
  cfg_.indirect_max = indirect_max_;
  cfg_.indirect_min_segments = min_segments;
  const vq::DriverStatus init = q_.init(cfg_);
  trace("drv init size=%u event_idx=%d indirect_max=%u min=%u honest=%d: %s", size_, event_idx_,
        indirect_max_, min_segments, honest_, vq::to_string(init));
  if (use_pool_ && min_segments < 2) {
    FUZZ_CHECK(init == vq::DriverStatus::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(init == vq::DriverStatus::kOk);
  reset_model();

  if (honest_) {
    data_ = std::make_unique<HostBuffer>(kDataBytes);
    FUZZ_CHECK(mem_.add_external(ring_pa_, layout_.total_bytes, ring_->data()) == MemError::kOk);
    if (use_pool_) {
      FUZZ_CHECK(mem_.add_external(pool_pa_, pool_->size(), pool_->data()) == MemError::kOk);
    }
    FUZZ_CHECK(mem_.add_external(data_pa_, kDataBytes, data_->data()) == MemError::kOk);
    const vq::DeviceQueueConfig dc{size_,     q_.desc_pa(), q_.avail_pa(), q_.used_pa(),
                                   use_pool_, event_idx_};
    FUZZ_CHECK(dev_.configure(mem_, dc) == vq::RingError::kNone);
  }

  for (int ops = 0; ops < kMaxOps && in_.remaining_bytes() > 0; ++ops) {
    switch (in_.ConsumeIntegralInRange<uint8_t>(0, 9)) {
      case 0: add(); break;
      case 1: publish(); break;
      case 2: complete(); break;
      case 3: {  // hostile device: any used element anywhere
        const uint16_t slot = in_.ConsumeIntegral<uint16_t>();
        const vq::VirtqUsedElem e{in_.ConsumeIntegral<uint32_t>(), in_.ConsumeIntegral<uint32_t>()};
        if (!honest_) {
          std::memcpy(ring_->data() + layout_.used_offset + 4 + 8ull * (slot & (size_ - 1)), &e,
                      sizeof e);
        }
        break;
      }
      case 4: {  // hostile device: move used.idx by anything
        const uint16_t delta = in_.ConsumeIntegral<uint16_t>();
        if (!honest_) {
          dev_used_idx_ = static_cast<uint16_t>(dev_used_idx_ + delta);
          std::memcpy(ring_->data() + layout_.used_offset + 2, &dev_used_idx_, 2);
        }
        break;
      }
      case 5: get_used_loop(in_.ConsumeIntegral<uint8_t>()); break;
      case 6:  // notification and interrupt suppression
        switch (in_.ConsumeIntegralInRange<uint8_t>(0, 2)) {
          case 0: {
            const bool kick = q_.kick_needed();
            if (broken_) FUZZ_CHECK(!kick);
            break;
          }
          case 1: q_.disable_interrupts(); break;
          default: {
            const bool pending = q_.enable_interrupts();
            FUZZ_CHECK(pending == (ring16(layout_.used_offset + 2) != last_used_));
            break;
          }
        }
        break;
      case 7: {  // hostile device: scribble over any ring byte (the driver keeps shadows)
        const uint16_t off = in_.ConsumeIntegral<uint16_t>();
        const uint8_t n = in_.ConsumeIntegralInRange<uint8_t>(0, 16);
        uint8_t bytes[16];
        const size_t got = in_.ConsumeData(bytes, n);
        if (!honest_) {
          const uint64_t at = off % layout_.total_bytes;
          std::memcpy(ring_->data() + at, bytes, std::min<uint64_t>(got, layout_.total_bytes - at));
        }
        break;
      }
      case 8:  // the transport saw DEVICE_NEEDS_RESET
        q_.mark_broken();
        if (!broken_) FUZZ_CHECK(q_.broken_reason() == vq::BrokenReason::kMarkedByOwner);
        broken_ = true;
        break;
      case 9: detach_and_reinit(); break;
    }
    FUZZ_CHECK(q_.broken() == broken_);
    FUZZ_CHECK(q_.num_outstanding() == live_.size());
    FUZZ_CHECK(q_.num_free() == num_free_);
  }
  // Recovery (STAT-4): after a reset every remaining cookie comes back once.
  if (honest_) reset_device();
  detach_all();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = std::min<size_t>(data[0] | (size_t{data[1]} << 8), size - 2);
  {
    FuzzedDataProvider in(data + 2, split);
    DeviceHalf(in).run();
  }
  {
    FuzzedDataProvider in(data + 2 + split, size - 2 - split);
    DriverHalf(in).run();
  }
  return 0;
}
