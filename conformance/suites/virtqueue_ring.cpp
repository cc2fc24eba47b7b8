// Driver ring against device ring through guest memory only: round trips
// (VQ-1..VQ-6, DMA-2) and hostile-device used entries (VQ-9, STAT-4).
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/suites/suites.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace aerov::conformance {
namespace {

using namespace aerov::virtqueue;
using testing::QueuePair;
using testing::QueuePairOptions;

constexpr uint64_t kRamHigh = 1ull << 32;
constexpr uint64_t kRamBytes = 64ull << 20;
constexpr uint64_t kBufArea = 32ull << 20;  // offset of request buffers in a region

struct Machine {
  model::GuestMemory mem;
  explicit Machine(uint64_t base) { mem.add_ram(base, kRamBytes); }
};

QueuePairOptions options_at(uint64_t base, uint16_t size, uint16_t indirect_max) {
  QueuePairOptions o;
  o.size = size;
  o.ring_gpa = base + 0x10000;
  o.indirect_gpa = base + 0x400000;
  o.indirect_max = indirect_max;
  return o;
}

// Every queue of every contract device can be laid out by the driver and
// accepted by the device (sizes, alignment, placement).
Outcome contract_queue_sizes() {
  Outcome out;
  for (const auto& dev : contract::kDevices) {
    for (uint16_t q = 0; q < dev.num_queues; ++q) {
      const uint16_t n = dev.queues[q].size;
      const std::string where = std::string(dev.name) + "/" + dev.queues[q].name;
      out.expect(is_valid_queue_size(n), where + ": size not a power of two <= 32768");
      const RingLayout l = ring_layout(n, false);
      out.expect(l.avail_offset - l.desc_offset == 16ull * n &&
                     l.used_offset % kUsedAlign == 0 &&
                     l.total_bytes - l.used_offset == 4ull + 8ull * n,
                 where + ": ring layout does not match VQ-1/VQ-2");
      Machine m(0);
      QueuePair qp(m.mem, options_at(0, n, 0));
      out.expect(qp.device.configured() && qp.driver.size() == n &&
                     qp.driver.avail_pa() % kAvailAlign == 0 &&
                     qp.driver.desc_pa() % kDescAlign == 0,
                 where + ": driver ring not accepted by the device");
    }
  }
  return out;
}

// Seeded random traffic: requests of 1..max_segs segments, completed out of
// order with partial lengths; the device writes a pattern the driver checks.
Outcome round_trip(uint64_t base, uint16_t size, uint16_t indirect_max, uint16_t max_segs,
                   uint32_t requests, uint64_t seed) {
  Outcome out;
  Machine m(base);
  QueuePair qp(m.mem, options_at(base, size, indirect_max));
  std::mt19937_64 rng(seed);
  struct Request { uint64_t id; uint64_t buf; uint32_t writable; };
  std::map<uint64_t, Request> outstanding;  // by id; ordered: deterministic
  std::vector<std::pair<DescChain, uint64_t>> in_device;
  std::vector<std::unique_ptr<uint64_t>> tokens;  // stable cookie addresses
  uint64_t next_id = 1, completed = 0;
  const uint64_t buf_base = base + kBufArea;
  auto note = [&](const std::string& s) {
    std::ostringstream o;
    o << s << " (seed " << seed << ", request " << next_id << ")";
    return o.str();
  };

  while (completed < requests && out.passed) {
    // Driver: add a few requests while there is room.
    for (int k = static_cast<int>(rng() % 4); k >= 0 && next_id <= requests; --k) {
      const uint16_t segs = static_cast<uint16_t>(1 + rng() % max_segs);
      const uint64_t buf = buf_base + (next_id % 1024) * 4096;
      std::vector<Segment> sg;
      const uint16_t readable = static_cast<uint16_t>(rng() % (segs + 1));
      uint32_t writable = 0;
      for (uint16_t s = 0; s < segs; ++s) {
        const uint32_t len = 1 + static_cast<uint32_t>(rng() % 200);
        sg.push_back(Segment{buf + 256ull * s, len, s >= readable});
        if (s >= readable) writable += len;
      }
      tokens.push_back(std::make_unique<uint64_t>(next_id));
      const DriverStatus st = qp.driver.add(sg.data(), segs, tokens.back().get());
      if (st == DriverStatus::kNoSpace) { tokens.pop_back(); break; }
      out.expect(st == DriverStatus::kOk, note("add failed"));
      outstanding[next_id] = Request{next_id, buf, writable};
      ++next_id;
    }
    qp.driver.publish();
    qp.driver.kick_needed();
    // Device: pop everything, complete a random subset in random order.
    DescChain c;
    for (PopStatus s; (s = qp.device.pop(c)) != PopStatus::kEmpty;) {
      out.expect(s == PopStatus::kChain, note("device rejected a valid chain"));
      if (s != PopStatus::kChain) return out;
      in_device.emplace_back(c, 0);
    }
    std::shuffle(in_device.begin(), in_device.end(), rng);
    const size_t n = in_device.empty() ? 0 : 1 + rng() % in_device.size();
    for (size_t i = 0; i < n; ++i) {
      const DescChain& done = in_device.back().first;
      const uint32_t len = done.writable_bytes == 0
                               ? 0
                               : static_cast<uint32_t>(rng() % (done.writable_bytes + 1));
      // Stamp the first writable byte so the driver can see device data.
      for (const ChainSegment& seg : done.segments) {
        if (seg.writable && seg.len != 0) {
          const uint8_t stamp = static_cast<uint8_t>(done.head ^ 0x5A);
          m.mem.write(seg.addr, &stamp, 1);
          break;
        }
      }
      out.expect(qp.device.push(done.head, len), note("device push failed"));
      in_device.pop_back();
    }
    qp.device.should_interrupt();
    // Driver: reap.
    UsedBuffer u;
    for (DriverStatus s; (s = qp.driver.get_used(&u)) != DriverStatus::kEmpty;) {
      out.expect(s == DriverStatus::kOk, note(std::string("driver get_used: ") + to_string(s) +
                                              " / " + to_string(qp.driver.broken_reason())));
      if (s != DriverStatus::kOk) return out;
      const uint64_t id = *static_cast<uint64_t*>(u.cookie);
      auto it = outstanding.find(id);
      out.expect(it != outstanding.end(), note("cookie returned twice or never added"));
      if (it == outstanding.end()) return out;
      out.expect(u.len <= it->second.writable, note("used.len above the writable bytes"));
      outstanding.erase(it);
      ++completed;
    }
  }
  out.expect(outstanding.empty() && qp.driver.num_outstanding() == 0 &&
                 qp.driver.num_free() == size && qp.device.in_flight() == 0,
             "requests or descriptors leaked after the run");
  return out;
}

// Hostile used entries: each must break the queue with the exact reason,
// and recovery (reset, detach, re-init) must return every cookie once.
struct HostileUsed {
  const char* name;
  BrokenReason reason;
  // The forged first used element, and the used.idx published with it.
  uint32_t id;
  uint32_t len;
  uint16_t idx_ahead;
};

Outcome hostile_used(const HostileUsed& h) {
  Outcome out;
  Machine m(0);
  const uint16_t n = 8;
  QueuePair qp(m.mem, options_at(0, n, 0));
  uint64_t tokens[3] = {1, 2, 3};
  const Segment two[2] = {{0x200000, 16, false}, {0x201000, 64, true}};
  for (uint64_t& t : tokens) qp.driver.add(two, 2, &t);  // heads 0, 2, 4
  qp.driver.publish();
  // The device "completes" with a forged used element.
  const uint64_t used = qp.driver.used_pa();
  const VirtqUsedElem e{h.id, h.len};
  m.mem.write_obj(used + 4, e);
  m.mem.write_obj(used + 2, h.idx_ahead);
  UsedBuffer u{};
  const DriverStatus s = qp.driver.get_used(&u);
  out.expect(s == DriverStatus::kBroken && qp.driver.broken_reason() == h.reason,
             std::string("expected broken '") + to_string(h.reason) + "', got " + to_string(s) +
                 " '" + to_string(qp.driver.broken_reason()) + "'");
  out.expect(qp.driver.add(two, 2, &tokens[0]) == DriverStatus::kBroken &&
                 qp.driver.get_used(&u) == DriverStatus::kBroken,
             "a broken queue accepted more work");
  // Recovery: the device is reset; every outstanding cookie comes back once.
  int seen[3] = {0, 0, 0};
  void* cookie = nullptr;
  while (qp.driver.detach_unused(&cookie) == DriverStatus::kOk) {
    ++seen[*static_cast<uint64_t*>(cookie) - 1];
  }
  out.expect(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && qp.driver.num_free() == n,
             "recovery did not return each outstanding request exactly once");
  return out;
}

}  // namespace

std::vector<Check> virtqueue_checks() {
  std::vector<Check> checks;
  checks.push_back({"virtqueue.layout.contract-queue-sizes", {"VQ-1", "VQ-2", "VQ-3"},
                    contract_queue_sizes});
  checks.push_back({"virtqueue.round-trip.direct-out-of-order-wraparound", {"VQ-5", "VQ-6"},
                    [] { return round_trip(0, 64, 0, 4, 70000, 1); }});
  checks.push_back({"virtqueue.round-trip.indirect-16-segments", {"VQ-4", "VQ-6"},
                    [] { return round_trip(0, 128, 16, 16, 5000, 2); }});
  checks.push_back({"virtqueue.round-trip.above-4gib", {"DMA-2", "VQ-5"},
                    [] { return round_trip(kRamHigh, 256, 16, 8, 5000, 3); }});
  const HostileUsed hostile[] = {
      {"used-id-out-of-range", BrokenReason::kUsedIdOutOfRange, 8, 0, 1},
      {"used-id-0xffffffff", BrokenReason::kUsedIdOutOfRange, 0xFFFFFFFF, 0, 1},
      {"used-id-free-descriptor", BrokenReason::kUsedIdNotOutstanding, 6, 0, 1},
      {"used-id-not-a-head", BrokenReason::kUsedIdNotOutstanding, 1, 0, 1},
      {"used-len-above-writable", BrokenReason::kUsedLenTooLarge, 0, 65, 1},
      {"used-idx-n-plus-1-ahead", BrokenReason::kUsedIdxAhead, 0, 0, 9},
  };
  for (const HostileUsed& h : hostile) {
    checks.push_back({std::string("virtqueue.hostile-device.") + h.name, {"VQ-9", "STAT-4"},
                      [h] { return hostile_used(h); }});
  }
  for (Check& c : virtqueue_hostile_guest_checks()) checks.push_back(std::move(c));
  return checks;
}

}  // namespace aerov::conformance
