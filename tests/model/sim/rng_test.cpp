#include <catch2/catch.hpp>

#include <vector>

#include "model/sim/rng.hpp"

using aerov::model::sim::Rng;
using aerov::model::sim::RngStreams;

TEST_CASE("sim rng: the same seed yields the same sequence", "[sim][rng]") {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    CHECK(x == b.next());
    differs |= x != c.next();
  }
  CHECK(differs);
}

TEST_CASE("sim rng: a known sequence, so every compiler agrees", "[sim][rng]") {
  // First outputs for seed 0, pinned: a change here changes every replay.
  Rng r(0);
  const uint64_t first = r.next();
  const uint64_t second = r.next();
  Rng again(0);
  CHECK(again.next() == first);
  CHECK(again.next() == second);
  CHECK(first != second);
  CHECK(first == 0x99EC5F36CB75F2B4ull);
}

TEST_CASE("sim rng: named streams are independent of each other", "[sim][rng]") {
  RngStreams one(7), two(7);
  const uint64_t disk_first = one.stream("disk").next();
  // Drawing from another stream, or creating it first, changes nothing.
  for (int i = 0; i < 100; ++i) two.stream("net").next();
  CHECK(two.stream("disk").next() == disk_first);
  CHECK(one.stream("disk").next() != disk_first);
  CHECK(RngStreams(8).stream("disk").next() != disk_first);
}

TEST_CASE("sim rng: below stays in range and covers it, chance uses integer odds", "[sim][rng]") {
  Rng r(1);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.below(7);
    REQUIRE(v < 7);
    ++seen[v];
  }
  for (int n : seen) CHECK(n > 800);  // ~1000 each
  CHECK(r.below(0) == 0);
  CHECK(r.below(1) == 0);
  int hits = 0;
  for (int i = 0; i < 10000; ++i) hits += r.chance(1, 4) ? 1 : 0;
  CHECK(hits > 2200);
  CHECK(hits < 2800);
  CHECK_FALSE(r.chance(1, 0));
  CHECK(r.chance(5, 5));
}
