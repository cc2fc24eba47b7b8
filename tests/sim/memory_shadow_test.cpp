// MemoryShadow: the change finder behind mem_write/dma_write events and the
// state hash. sync_spans() must report exactly what sync() would when only
// logged bytes changed, and the incremental hash must equal a fresh one.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "sim/memory_shadow.hpp"

namespace {

using aerov::model::GuestMemory;
using aerov::sim::MemoryShadow;

struct Run {
  uint64_t gpa;
  std::vector<uint8_t> bytes;
  bool operator==(const Run&) const = default;
};

std::vector<Run> collect(MemoryShadow& s, const std::vector<GuestMemory::Span>* spans) {
  std::vector<Run> runs;
  auto take = [&](uint64_t gpa, std::span<const uint8_t> b) {
    runs.push_back({gpa, {b.begin(), b.end()}});
  };
  if (spans == nullptr) {
    s.sync(take);
  } else {
    s.sync_spans(*spans, take);
  }
  return runs;
}

// Two ranges, one not page-aligned, so blocks and pages do not coincide.
const std::vector<MemoryShadow::Range> kRanges = {{0x1000, 0x9000}, {0x20010, 0x26010}};

// The definitions, byte by byte, for the shadow's word-wise and cached
// computations to be checked against.
uint64_t fnv_byte(uint64_t h, uint8_t b) { return (h ^ b) * 0x100000001b3ull; }

uint64_t reference_hash(const GuestMemory& mem, const std::vector<MemoryShadow::Range>& ranges) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& [lo, hi] : ranges) {
    for (uint64_t at = lo; at < hi; at += MemoryShadow::kBlock) {
      const uint64_t n = std::min<uint64_t>(MemoryShadow::kBlock, hi - at);
      std::vector<uint8_t> block(n);
      mem.read(at, block.data(), n);
      block.resize((n + 7) / 8 * 8, 0);  // a last partial word is zero-padded
      uint64_t bh = 0xcbf29ce484222325ull;
      for (size_t w = 0; w < block.size(); w += 8) {
        uint64_t word = 0;
        for (size_t k = 8; k-- > 0;) word = (word << 8) | block[w + k];
        bh = (bh ^ word) * 0x100000001b3ull;
      }
      for (int k = 0; k < 8; ++k) h = fnv_byte(h, static_cast<uint8_t>(bh >> (8 * k)));
    }
  }
  return h;
}

// The runs sync() reports going from `before` to `after` (snapshots of
// [0, after.size())): per block of each range, a run starts at a differing
// byte and ends after its last differing byte before 16 equal ones.
std::vector<Run> reference_runs(const std::vector<uint8_t>& before, const std::vector<uint8_t>& after,
                                const std::vector<MemoryShadow::Range>& ranges) {
  std::vector<Run> runs;
  for (const auto& [lo, hi] : ranges) {
    for (uint64_t block = lo; block < hi; block += MemoryShadow::kBlock) {
      const uint64_t end = std::min<uint64_t>(block + MemoryShadow::kBlock, hi);
      for (uint64_t i = block; i < end;) {
        if (before[i] == after[i]) {
          ++i;
          continue;
        }
        uint64_t j = i + 1;
        for (uint64_t k = i + 1, same = 0; k < end && same < 16; ++k) {
          if (before[k] != after[k]) {
            j = k + 1;
            same = 0;
          } else {
            ++same;
          }
        }
        runs.push_back({i, {after.begin() + static_cast<std::ptrdiff_t>(i),
                            after.begin() + static_cast<std::ptrdiff_t>(j)}});
        i = j;
      }
    }
  }
  return runs;
}

std::vector<uint8_t> snapshot(const GuestMemory& mem, uint64_t bytes) {
  std::vector<uint8_t> out(bytes);
  mem.read(0, out.data(), bytes);
  return out;
}

}  // namespace

TEST_CASE("memory shadow reports changed runs in address order and merges short gaps") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, 1 << 20) == aerov::model::MemError::kOk);
  MemoryShadow shadow(mem, kRanges);
  const uint8_t a[] = {1, 2, 3};
  const uint8_t b[] = {9};
  mem.write(0x2000, a, 3);
  mem.write(0x2000 + 3 + 10, b, 1);  // 10 equal bytes between: one run
  mem.write(0x3000 - 1, b, 1);       // the last byte of a block
  mem.write(0x50000, b, 1);          // outside every range: not reported
  const auto runs = collect(shadow, nullptr);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].gpa == 0x2000);
  CHECK(runs[0].bytes.size() == 14);
  CHECK(runs[1] == Run{0x2FFF, {9}});
  CHECK(collect(shadow, nullptr).empty());  // taken into the copy
}

TEST_CASE("memory shadow sync_spans equals sync and the incremental hash equals a fresh one") {
  rc::prop("random writes", [] {
    GuestMemory mem;
    RC_ASSERT(mem.add_ram(0, 1 << 20) == aerov::model::MemError::kOk);
    mem.set_dirty_logging(true);
    // Some bytes before the shadows exist: the zero-start shadow is told.
    const uint64_t early = *rc::gen::inRange<uint64_t>(0, 0x30000);
    const uint8_t early_byte = *rc::gen::inRange<uint8_t>(1, 255);
    mem.write(early, &early_byte, 1);
    std::vector<GuestMemory::Span> spans;
    mem.take_dirty_spans(spans);
    MemoryShadow full(mem, kRanges);
    MemoryShadow logged(mem, kRanges, spans);
    RC_ASSERT(full.hash() == logged.hash());
    const auto rounds = *rc::gen::inRange(1, 6);
    for (int r = 0; r < rounds; ++r) {
      const auto writes = *rc::gen::inRange(0, 12);
      for (int w = 0; w < writes; ++w) {
        // Mostly short writes close together (ring entries), some long ones.
        const uint64_t gpa = *rc::gen::inRange<uint64_t>(0, 0x30000);
        const auto len = *rc::gen::oneOf(rc::gen::inRange<size_t>(1, 40), rc::gen::inRange<size_t>(1, 9000));
        const auto bytes = *rc::gen::container<std::vector<uint8_t>>(len, rc::gen::arbitrary<uint8_t>());
        mem.write(gpa, bytes.data(), bytes.size());
        if (*rc::gen::inRange(0, 4) == 0) {  // the same bytes again: logged, not changed
          mem.write(gpa, bytes.data(), bytes.size());
        }
      }
      mem.take_dirty_spans(spans);
      RC_ASSERT(collect(full, nullptr) == collect(logged, &spans));
      RC_ASSERT(full.hash() == logged.hash());
    }
    MemoryShadow fresh(mem, kRanges);
    RC_ASSERT(fresh.hash() == full.hash());
  });
}

TEST_CASE("memory shadow runs and cached hash equal the byte-serial definitions") {
  rc::prop("sparse changes with gaps around 16", [] {
    constexpr uint64_t kTop = 0x30000;
    GuestMemory mem;
    RC_ASSERT(mem.add_ram(0, kTop) == aerov::model::MemError::kOk);
    mem.set_dirty_logging(true);
    // A last range ending at the end of RAM: the change finder must not
    // read past it.
    const std::vector<MemoryShadow::Range> ranges = {{0x1000, 0x9000}, {0x20010, 0x26010}, {0x2F003, kTop}};
    MemoryShadow full(mem, ranges);
    MemoryShadow logged(mem, ranges, {});
    std::vector<GuestMemory::Span> spans;
    RC_ASSERT(full.hash() == reference_hash(mem, ranges));
    const auto rounds = *rc::gen::inRange(1, 8);
    for (int r = 0; r < rounds; ++r) {
      const std::vector<uint8_t> before = snapshot(mem, kTop);
      const auto writes = *rc::gen::inRange(0, 6);
      for (int w = 0; w < writes; ++w) {
        // Bytes changed with equal gaps of 0..40 between them, over up to
        // a few hundred bytes; sometimes all of a block at random.
        uint64_t at = *rc::gen::inRange<uint64_t>(0, kTop);
        if (*rc::gen::inRange(0, 5) == 0) {
          const auto bytes = *rc::gen::container<std::vector<uint8_t>>(
              std::min<uint64_t>(kTop - at, 5000), rc::gen::arbitrary<uint8_t>());
          mem.write(at, bytes.data(), bytes.size());
          continue;
        }
        const auto changes = *rc::gen::inRange(1, 30);
        for (int c = 0; c < changes && at < kTop; ++c) {
          uint8_t b = 0;
          mem.read(at, &b, 1);
          b = static_cast<uint8_t>(b + *rc::gen::inRange(1, 256));
          mem.write(at, &b, 1);
          at += 1 + *rc::gen::inRange<uint64_t>(0, 41);
        }
      }
      mem.take_dirty_spans(spans);
      const std::vector<uint8_t> after = snapshot(mem, kTop);
      const auto expected = reference_runs(before, after, ranges);
      RC_ASSERT(collect(full, nullptr) == expected);
      RC_ASSERT(collect(logged, &spans) == expected);
      if (*rc::gen::inRange(0, 3) != 0) {  // hashes not taken every round
        const uint64_t h = reference_hash(mem, ranges);
        RC_ASSERT(full.hash() == h);
        RC_ASSERT(full.hash() == h);  // twice: nothing changed
        RC_ASSERT(logged.hash() == h);
      }
      if (*rc::gen::inRange(0, 3) == 0) {  // a replayed mem_write
        const uint64_t gpa = *rc::gen::inRange<uint64_t>(0, kTop - 64);
        const auto bytes = *rc::gen::container<std::vector<uint8_t>>(
            *rc::gen::inRange<size_t>(1, 64), rc::gen::arbitrary<uint8_t>());
        full.apply(mem, gpa, bytes);
        logged.apply(mem, gpa, bytes);
        RC_ASSERT(full.hash() == reference_hash(mem, ranges));
        RC_ASSERT(logged.hash() == reference_hash(mem, ranges));
      }
    }
  });
}

TEST_CASE("memory shadow hash folds long runs of zero blocks as the definition does") {
  // 16 MiB in three ranges: zero runs of every length up to thousands of
  // blocks between a few changed bytes, and a range of a partial block.
  constexpr uint64_t kTop = 16ull << 20;
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, kTop) == aerov::model::MemError::kOk);
  const std::vector<MemoryShadow::Range> ranges = {{0, 0x800123}, {0x800123, 0x800200}, {0x800200, kTop}};
  MemoryShadow shadow(mem, ranges);
  CHECK(shadow.hash() == reference_hash(mem, ranges));
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 12; ++round) {
    for (int w = 0; w < round % 4 + 1; ++w) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const uint8_t b = static_cast<uint8_t>(x >> 56 | 1);
      mem.write((x >> 8) % kTop, &b, 1);
    }
    if (round == 6) {  // and back to zero: runs grow again
      const std::vector<uint8_t> zeros(kTop / 2);
      mem.write(kTop / 4, zeros.data(), zeros.size());
    }
    shadow.sync([](uint64_t, std::span<const uint8_t>) {});
    CHECK(shadow.hash() == reference_hash(mem, ranges));
  }
}

TEST_CASE("guest memory dirty log merges touching ranges and hands the log over") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, 1 << 20) == aerov::model::MemError::kOk);
  const uint8_t b[8] = {};
  mem.write(0x100, b, 8);  // logging off: nothing
  mem.set_dirty_logging(true);
  mem.write(0x200, b, 8);
  mem.write(0x208, b, 4);   // touches: merged
  mem.write(0x1FC, b, 8);   // overlaps the start: merged
  mem.write(0x400, b, 2);   // apart: a new span
  mem.note_write(0x300, 0);  // empty: nothing
  std::vector<GuestMemory::Span> spans;
  mem.take_dirty_spans(spans);
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].gpa == 0x1FC);
  CHECK(spans[0].len == 0x10);
  CHECK(spans[1].gpa == 0x400);
  CHECK(spans[1].len == 2);
  mem.take_dirty_spans(spans);
  CHECK(spans.empty());
}

TEST_CASE("memory shadow apply writes memory and copy alike") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, 1 << 20) == aerov::model::MemError::kOk);
  MemoryShadow shadow(mem, kRanges);
  const uint64_t before = shadow.hash();
  const std::vector<uint8_t> bytes(5000, 0xAB);
  shadow.apply(mem, 0x8800, bytes);  // crosses the end of the first range
  CHECK(collect(shadow, nullptr).empty());
  uint8_t got = 0;
  mem.read(0x8800 + 4999, &got, 1);
  CHECK(got == 0xAB);
  CHECK(shadow.hash() != before);
  CHECK(MemoryShadow(mem, kRanges).hash() == shadow.hash());
}
