// Hostile-guest table for the device-side ring (contract VQ-4, VQ-5, VQ-7,
// VQ-8, DMA-1, DMA-2). Each case writes one malformed (or boundary) ring
// state with the mock driver, pops once, and checks the exact outcome. Then
// it checks the device survived: a chain error is completed and the next
// valid chain is served; a ring error stops the queue until it is reset,
// after which a valid chain is served again.
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>

#include "conformance/suites/suites.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace aerov::conformance {
namespace {

using namespace aerov::virtqueue;
using testing::RingBuilder;

constexpr uint64_t kRamLow = 0;
constexpr uint64_t kRamLowBytes = 16ull << 20;
constexpr uint64_t kRamNext = kRamLowBytes;  // adjacent region: [16, 20) MiB
constexpr uint64_t kRamNextBytes = 4ull << 20;
constexpr uint64_t kRamEnd = kRamNext + kRamNextBytes;
constexpr uint64_t kRamHigh = 1ull << 32;  // DMA-2: RAM above 4 GiB
constexpr uint64_t kRamHighBytes = 16ull << 20;
constexpr uint64_t kRamHuge = 8ull << 30;  // 8 GiB, sparse: for 2^32-byte chains
constexpr uint64_t kRamHugeBytes = 8ull << 30;
constexpr uint64_t kHole = 64ull << 20;    // unmapped, between low RAM and 4 GiB
constexpr uint64_t kRingLow = 0x10000;
constexpr uint16_t kN = 8;                 // small, so chain-length limits are cheap

constexpr uint16_t N = kDescFNext, W = kDescFWrite, I = kDescFIndirect;

struct Case {
  const char* name;
  std::vector<std::string> rules;
  bool indirect;
  // Writes the ring state under test (and may drive the queue to a position).
  std::function<void(RingBuilder&, DeviceQueue&)> build;
  PopStatus status;
  ChainError chain = ChainError::kNone;
  RingError ring = RingError::kNone;
  uint64_t readable = 0;  // kChain: expected byte totals
  uint64_t writable = 0;
  uint64_t ring_base = kRingLow;
  // Configure-time cases: alters the config the driver programs.
  std::function<void(DeviceQueueConfig&)> misprogram = nullptr;
};

struct Machine {
  model::GuestMemory mem;
  Machine() {
    mem.add_ram(kRamLow, kRamLowBytes);
    mem.add_ram(kRamNext, kRamNextBytes);
    mem.add_ram(kRamHigh, kRamHighBytes);
    mem.add_ram(kRamHuge, kRamHugeBytes);
  }
};

std::string describe(PopStatus s, const DescChain& c, RingError r) {
  std::ostringstream o;
  switch (s) {
    case PopStatus::kEmpty: o << "empty"; break;
    case PopStatus::kChain: o << "chain(head " << c.head << ", r " << c.readable_bytes
                              << ", w " << c.writable_bytes << ")"; break;
    case PopStatus::kChainError: o << "chain error '" << to_string(c.error) << "'"; break;
    case PopStatus::kRingError: o << "ring error '" << to_string(r) << "'"; break;
  }
  return o.str();
}

// A valid two-descriptor request at head 0; proves the queue still serves.
void serve_valid_chain(RingBuilder& rb, DeviceQueue& dq, Outcome& out, const char* when) {
  const uint64_t hdr = rb.alloc(16), data = rb.alloc(512);
  rb.set_desc(0, hdr, 16, N, 1);
  rb.set_desc(1, data, 512, W);
  rb.make_available(0);
  DescChain c;
  const PopStatus s = dq.pop(c);
  out.expect(s == PopStatus::kChain && c.head == 0 && c.readable_bytes == 16 &&
                 c.writable_bytes == 512 && c.segments.size() == 2,
             std::string(when) + ": next valid chain not served, got " +
                 describe(s, c, dq.ring_error()));
  const uint16_t before = rb.used_idx();
  out.expect(dq.push(0, 512) && rb.used_idx() == static_cast<uint16_t>(before + 1) &&
                 rb.used_elem(before).id == 0 && rb.used_elem(before).len == 512,
             std::string(when) + ": completion of the valid chain not published");
}

Outcome run_case(const Case& k) {
  Outcome out;
  Machine m;
  RingBuilder rb(m.mem, kN, k.ring_base);
  DeviceQueue dq;
  DeviceQueueConfig cfg = rb.config(k.indirect);
  if (k.misprogram) {
    DeviceQueueConfig bad = cfg;
    k.misprogram(bad);
    const RingError e = dq.configure(m.mem, bad);
    out.expect(e == k.ring, "configure: expected '" + std::string(to_string(k.ring)) +
                                "', got '" + std::string(to_string(e)) + "'");
    DescChain c;
    out.expect(dq.pop(c) == PopStatus::kRingError, "misprogrammed queue served a chain");
  } else {
    out.expect(dq.configure(m.mem, cfg) == RingError::kNone, "configure failed");
    k.build(rb, dq);
    DescChain c;
    const PopStatus s = dq.pop(c);
    const bool match =
        s == k.status && (s != PopStatus::kChainError || c.error == k.chain) &&
        (s != PopStatus::kRingError || dq.ring_error() == k.ring) &&
        (s != PopStatus::kChain || (c.readable_bytes == k.readable && c.writable_bytes == k.writable));
    std::string expected;
    {
      DescChain e;
      e.error = k.chain;
      e.readable_bytes = k.readable;
      e.writable_bytes = k.writable;
      expected = describe(k.status, e, k.ring);
    }
    out.expect(match, "expected " + expected + ", got " + describe(s, c, dq.ring_error()));
    if (!out.passed) return out;
    if (s == PopStatus::kChain || s == PopStatus::kChainError) {
      // VQ-7: a chain error is completed (used.len 0 when no status can be
      // written), never dropped; then the queue keeps serving.
      const uint16_t before = rb.used_idx();
      out.expect(dq.push(c.head, 0) && rb.used_idx() == static_cast<uint16_t>(before + 1) &&
                     rb.used_elem(before).id == c.head,
                 "the popped chain could not be completed");
      serve_valid_chain(rb, dq, out, "after the chain");
      return out;
    }
    // VQ-8 / STAT-4: the queue stays stopped until reset.
    out.expect(dq.pop(c) == PopStatus::kRingError && !dq.push(0, 0),
               "queue kept running after a ring error");
  }
  // The driver resets and re-programs the queue: service resumes.
  RingBuilder fresh(m.mem, kN, k.ring_base);
  out.expect(dq.configure(m.mem, fresh.config(k.indirect)) == RingError::kNone,
             "reconfigure after reset failed");
  serve_valid_chain(fresh, dq, out, "after reset");
  return out;
}

// Builders for the common shapes.
auto chain(std::vector<VirtqDesc> descs) {
  return [descs](RingBuilder& rb, DeviceQueue&) {
    for (uint16_t i = 0; i < descs.size(); ++i) rb.set_desc(i, descs[i]);
    rb.make_available(0);
  };
}

// Head 0 is one INDIRECT descriptor (plus `flags`) pointing at a table of
// `entries`, written at a fresh scratch address; len overrides 16*entries.
auto indirect(std::vector<VirtqDesc> entries, uint16_t flags = 0,
              std::optional<uint32_t> len = std::nullopt, std::optional<uint64_t> at = {}) {
  return [=](RingBuilder& rb, DeviceQueue&) {
    const uint64_t table = at ? *at : rb.alloc(16 * entries.size() + 16);
    if (!at) {
      for (uint16_t i = 0; i < entries.size(); ++i) rb.set_table_entry(table, i, entries[i]);
    }
    rb.set_desc(0, table, len ? *len : static_cast<uint32_t>(16 * entries.size()), I | flags, 1);
    rb.make_available(0);
  };
}

VirtqDesc d(uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0) {
  return VirtqDesc{addr, len, flags, next};
}

constexpr uint64_t kBuf = 0x200000;  // inside low RAM, clear of ring and scratch

std::vector<Case> cases() {
  std::vector<Case> c;
  const std::vector<std::string> vq7{"VQ-7"};
  auto err = [&](const char* name, std::vector<std::string> rules, bool ind, auto build,
                 ChainError e) {
    c.push_back(Case{name, rules, ind, build, PopStatus::kChainError, e});
  };
  auto ok = [&](const char* name, std::vector<std::string> rules, bool ind, auto build,
                uint64_t r, uint64_t w) {
    c.push_back(Case{name, rules, ind, build, PopStatus::kChain, ChainError::kNone,
                     RingError::kNone, r, w});
  };
  auto ring = [&](const char* name, auto build, RingError e) {
    c.push_back(Case{name, {"VQ-8", "STAT-4"}, false, build, PopStatus::kRingError,
                     ChainError::kNone, e});
  };
  auto misprogram = [&](const char* name, std::function<void(DeviceQueueConfig&)> f,
                        RingError e) {
    Case k{name, {"VQ-2", "VQ-8"}, false, nullptr, PopStatus::kRingError, ChainError::kNone, e};
    k.misprogram = std::move(f);
    c.push_back(std::move(k));
  };

  // Loops and links.
  err("loop-self", vq7, false, chain({d(kBuf, 8, N, 0)}), ChainError::kLoop);
  err("loop-two", vq7, false, chain({d(kBuf, 8, N, 1), d(kBuf, 8, N, 0)}), ChainError::kLoop);
  err("loop-back-to-middle", vq7, false,
      chain({d(kBuf, 8, N, 1), d(kBuf, 8, N, 2), d(kBuf, 8, N, 3), d(kBuf, 8, N, 1)}),
      ChainError::kLoop);
  err("next-equals-queue-size", vq7, false, chain({d(kBuf, 8, N, kN)}),
      ChainError::kNextOutOfRange);
  err("next-0xffff", vq7, false, chain({d(kBuf, 8, N, 0xFFFF)}), ChainError::kNextOutOfRange);
  // N - 1 direct buffers, then a pointer to a table of 2: N + 1 buffers.
  err("chain-of-n-plus-1", vq7, true,
      [](RingBuilder& rb, DeviceQueue&) {
        const uint64_t t = rb.alloc(32);
        rb.set_table_entry(t, 0, d(kBuf, 8, N, 1));
        rb.set_table_entry(t, 1, d(kBuf, 8));
        for (uint16_t i = 0; i < kN - 1; ++i) rb.set_desc(i, d(kBuf, 8, N, i + 1));
        rb.set_desc(kN - 1, d(t, 32, I));
        rb.make_available(0);
      },
      ChainError::kChainTooLong);
  ok("chain-of-exactly-n", {"VQ-7"}, false,
     [](RingBuilder& rb, DeviceQueue&) {
       for (uint16_t i = 0; i < kN; ++i) rb.set_desc(i, d(kBuf, 8, i + 1 < kN ? N : 0, i + 1));
       rb.make_available(0);
     },
     8ull * kN, 0);
  ok("direct-then-indirect-exactly-n", {"VQ-4", "VQ-7"}, true,
     [](RingBuilder& rb, DeviceQueue&) {
       const uint64_t t = rb.alloc(16 * 4);
       for (uint16_t i = 0; i < 4; ++i) rb.set_table_entry(t, i, d(kBuf, 4, i < 3 ? N : 0, i + 1));
       for (uint16_t i = 0; i < kN - 4; ++i) rb.set_desc(i, d(kBuf, 4, N, i + 1));
       rb.set_desc(kN - 4, d(t, 64, I));
       rb.make_available(0);
     },
     4ull * kN, 0);

  // Indirect tables (VQ-4).
  const std::vector<std::string> vq4{"VQ-4", "VQ-7"};
  err("indirect-not-negotiated", vq4, false, indirect({d(kBuf, 8)}),
      ChainError::kIndirectNotNegotiated);
  err("nested-indirect", vq4, true, indirect({d(kBuf, 8, N, 1), d(kBuf, 16, I)}),
      ChainError::kNestedIndirect);
  err("indirect-with-next", vq4, true, indirect({d(kBuf, 8)}, N), ChainError::kIndirectWithNext);
  err("indirect-len-zero", vq4, true, indirect({d(kBuf, 8)}, 0, 0), ChainError::kIndirectBadLength);
  err("indirect-len-24", vq4, true, indirect({d(kBuf, 8), d(kBuf, 8)}, 0, 24),
      ChainError::kIndirectBadLength);
  err("indirect-len-15", vq4, true, indirect({d(kBuf, 8)}, 0, 15), ChainError::kIndirectBadLength);
  err("indirect-n-plus-1-entries", vq4, true,
      indirect(std::vector<VirtqDesc>(kN + 1, d(kBuf, 8))), ChainError::kIndirectTooLarge);
  ok("indirect-exactly-n-entries", vq4, true,
     [](RingBuilder& rb, DeviceQueue& dq) {
       std::vector<VirtqDesc> e;
       for (uint16_t i = 0; i < kN; ++i) e.push_back(d(kBuf, 2, i + 1 < kN ? N : 0, i + 1));
       indirect(e)(rb, dq);
     },
     2ull * kN, 0);
  err("indirect-table-in-hole", vq4, true, indirect({}, 0, 32, kHole),
      ChainError::kIndirectOutsideMemory);
  err("indirect-table-address-wraps", vq4, true, indirect({}, 0, 32, ~uint64_t{0} - 15),
      ChainError::kAddrOverflow);
  err("indirect-next-beyond-table", vq4, true, indirect({d(kBuf, 8, N, 2), d(kBuf, 8)}),
      ChainError::kNextOutOfRange);
  err("indirect-loop", vq4, true, indirect({d(kBuf, 8, N, 1), d(kBuf, 8, N, 0)}),
      ChainError::kLoop);
  ok("indirect-write-flag-on-table-ignored", vq4, true,
     indirect({d(kBuf, 8, N, 1), d(kBuf + 8, 24, W)}, W), 8, 24);

  // Addresses and lengths (DMA-1).
  const std::vector<std::string> dma{"DMA-1", "VQ-7"};
  err("addr-plus-len-overflows", dma, false, chain({d(~uint64_t{0} - 0xFF, 0x200)}),
      ChainError::kAddrOverflow);
  err("range-ends-at-2^64", dma, false, chain({d(~uint64_t{0} - 15, 16)}),
      ChainError::kAddrOverflow);
  err("buffer-in-hole", dma, false, chain({d(kHole, 512)}), ChainError::kOutsideMemory);
  err("buffer-straddles-end-of-ram", dma, false, chain({d(kRamEnd - 8, 16)}),
      ChainError::kOutsideMemory);
  err("second-descriptor-outside-memory", dma, false,
      chain({d(kBuf, 16, N, 1), d(kHole, 16, W)}), ChainError::kOutsideMemory);
  err("total-length-over-2^32", dma, false,
      chain({d(kRamHuge, 0xFFFFFFFF, N, 1), d(kRamHuge, 2)}), ChainError::kTotalLenTooLarge);
  ok("total-length-exactly-2^32", dma, false,
     chain({d(kRamHuge, 0xFFFFFFFF, N, 1), d(kRamHuge, 1)}), 1ull << 32, 0);
  ok("unaligned-address-odd-length", dma, false,
     chain({d(kBuf + 3, 13, N, 1), d(kBuf + 101, 7, W)}), 13, 7);
  ok("buffer-above-4gib", {"DMA-2"}, false,
     chain({d(kRamHigh + 0x1000, 16, N, 1), d(kRamHigh + 0x2001, 4095, W)}), 16, 4095);
  ok("buffer-spans-two-adjacent-regions", {"DMA-1"}, false,
     chain({d(kRamLowBytes - 8, 16, N, 1), d(kRamLowBytes + 8, 8, W)}), 16, 8);

  // Direction order (VQ-7).
  err("readable-after-writable", vq7, false, chain({d(kBuf, 8, N | W, 1), d(kBuf, 8)}),
      ChainError::kReadableAfterWritable);
  err("readable-after-writable-in-table", vq4, true,
      indirect({d(kBuf, 8, N, 1), d(kBuf, 8, N | W, 2), d(kBuf, 8)}),
      ChainError::kReadableAfterWritable);
  err("writable-direct-then-readable-table", vq4, true,
      [](RingBuilder& rb, DeviceQueue&) {
        const uint64_t t = rb.alloc(16);
        rb.set_table_entry(t, 0, d(kBuf, 8));
        rb.set_desc(0, d(kBuf, 8, N | W, 1));
        rb.set_desc(1, d(t, 16, I));
        rb.make_available(0);
      },
      ChainError::kReadableAfterWritable);

  // Zero-length descriptors pass through unchecked (project decision).
  ok("zero-length-descriptor-with-wild-address", vq7, false,
     chain({d(kBuf, 16, N, 1), d(kHole, 0, N | W, 2), d(kBuf, 1, W)}), 16, 1);
  ok("zero-length-only", vq7, false, chain({d(0, 0)}), 0, 0);

  // Ring-level corruption (VQ-8).
  ring("avail-idx-n-plus-1-ahead",
       [](RingBuilder& rb, DeviceQueue&) { rb.set_avail_idx(kN + 1); },
       RingError::kAvailIdxAhead);
  ring("avail-idx-moves-backwards",
       [](RingBuilder& rb, DeviceQueue&) { rb.set_avail_idx(0xFFFF); },
       RingError::kAvailIdxAhead);
  ring("head-equals-queue-size",
       [](RingBuilder& rb, DeviceQueue&) { rb.make_available(kN); }, RingError::kHeadOutOfRange);
  ring("head-0xffff", [](RingBuilder& rb, DeviceQueue&) { rb.make_available(0xFFFF); },
       RingError::kHeadOutOfRange);
  ring("duplicate-head-in-flight",
       [](RingBuilder& rb, DeviceQueue& dq) {
         rb.set_desc(0, d(kBuf, 8));
         rb.make_available(0);
         DescChain first;
         dq.pop(first);  // still in flight when the driver offers it again
         rb.make_available(0);
       },
       RingError::kHeadInFlight);
  ok("same-head-again-after-completion", {"VQ-5"}, false,
     [](RingBuilder& rb, DeviceQueue& dq) {
       rb.set_desc(0, d(kBuf, 8));
       rb.make_available(0);
       DescChain first;
       dq.pop(first);
       dq.push(0, 0);
       rb.make_available(0);
     },
     8, 0);
  ok("avail-idx-exactly-n-ahead", {"VQ-8"}, false,
     [](RingBuilder& rb, DeviceQueue& dq) {
       for (uint16_t i = 0; i < kN; ++i) {
         rb.set_desc(i, d(kBuf, 8));
         rb.make_available(i);
       }
       DescChain c;  // take all but the last, completing each
       for (uint16_t i = 0; i + 1 < kN; ++i) {
         dq.pop(c);
         dq.push(c.head, 0);
       }
     },
     8, 0);
  ok("index-wraparound-at-65535", {"VQ-5"}, false,
     [](RingBuilder& rb, DeviceQueue& dq) {
       rb.set_desc(0, d(kBuf, 8));
       DescChain c;
       for (uint32_t i = 0; i < 65535; ++i) {
         rb.make_available(0);
         dq.pop(c);
         dq.push(0, 0);
       }
       rb.make_available(0);  // avail.idx 65535 -> 0
     },
     8, 0);
  ok("ring-above-4gib", {"DMA-2"}, false, chain({d(kRamHigh + 0x8000, 64, N, 1), d(kBuf, 64, W)}),
     64, 64);
  c.back().ring_base = kRamHigh;

  // Queue programming the device must refuse (VQ-2, VQ-8).
  misprogram("desc-table-misaligned", [](DeviceQueueConfig& q) { q.desc += 8; },
             RingError::kMisaligned);
  misprogram("avail-ring-odd-address", [](DeviceQueueConfig& q) { q.avail += 1; },
             RingError::kMisaligned);
  misprogram("used-ring-misaligned", [](DeviceQueueConfig& q) { q.used += 2; },
             RingError::kMisaligned);
  misprogram("used-ring-in-hole", [](DeviceQueueConfig& q) { q.used = kHole; },
             RingError::kOutsideMemory);
  misprogram("desc-table-straddles-end-of-ram",
             [](DeviceQueueConfig& q) { q.desc = kRamEnd - 64; }, RingError::kOutsideMemory);
  misprogram("queue-size-not-power-of-two", [](DeviceQueueConfig& q) { q.size = 6; },
             RingError::kBadSize);
  misprogram("queue-size-zero", [](DeviceQueueConfig& q) { q.size = 0; }, RingError::kBadSize);
  return c;
}

}  // namespace

std::vector<Check> virtqueue_hostile_guest_checks() {
  std::vector<Check> checks;
  for (Case& k : cases()) {
    checks.push_back(Check{std::string("virtqueue.hostile-guest.") + k.name, k.rules,
                           [k] { return run_case(k); }});
  }
  return checks;
}

}  // namespace aerov::conformance
