// FaultyDisk: injected I/O errors (chosen sectors, seeded probability),
// delayed and out-of-order completion, a volatile write cache, power loss
// and torn writes, and the FLUSH ordering BLK-8 relies on.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <map>
#include <vector>

#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/ram_disk.hpp"

using namespace aerov::model::backends;

namespace {

std::vector<uint8_t> sectors_of(uint8_t byte, size_t count) {
  return std::vector<uint8_t>(count * kSectorSize, byte);
}

std::vector<uint8_t> read_all(DiskBackend& d, uint64_t sector, size_t count) {
  std::vector<uint8_t> out(count * kSectorSize);
  REQUIRE(read_sync(d, sector, out) == DiskStatus::kOk);
  return out;
}

// Submits one request and polls until it completes; returns its status and
// the number of polls that came back without it.
struct Timed {
  DiskStatus status;
  int empty_polls;
};
Timed poll_until_done(DiskBackend& d, const DiskRequest& r) {
  d.submit(r);
  std::vector<DiskCompletion> done;
  for (int polls = 0; polls < 1000; ++polls) {
    done.clear();
    d.poll(done);
    for (const DiskCompletion& c : done) {
      if (c.tag == r.tag) return {c.status, polls};
    }
  }
  return {DiskStatus::kIoError, -1};
}

}  // namespace

TEST_CASE("disk.faulty: I/O errors on chosen sectors, per operation", "[disk]") {
  RamDisk ram(64);
  FaultyDisk disk(ram);
  REQUIRE(write_sync(disk, 10, sectors_of(0x11, 4)) == DiskStatus::kOk);
  disk.fail_sectors(12, 2, kFaultWrite);
  CHECK(write_sync(disk, 13, sectors_of(0x22, 1)) == DiskStatus::kIoError);
  CHECK(write_sync(disk, 8, sectors_of(0x22, 5)) == DiskStatus::kIoError);  // reaches into 12
  CHECK(write_sync(disk, 8, sectors_of(0x22, 4)) == DiskStatus::kOk);       // ends at 11
  CHECK(write_sync(disk, 14, sectors_of(0x22, 1)) == DiskStatus::kOk);
  // A failed write changed nothing; reads of a write-only fault still work.
  auto back = read_all(disk, 12, 2);
  CHECK(back == sectors_of(0x11, 2));
  disk.fail_sectors(0, 1, kFaultRead);
  std::vector<uint8_t> one(512);
  CHECK(read_sync(disk, 0, one) == DiskStatus::kIoError);
  CHECK(disk.injected_errors() == 3);
  disk.clear_sector_faults();
  CHECK(read_sync(disk, 0, one) == DiskStatus::kOk);
  CHECK(write_sync(disk, 13, sectors_of(0x22, 1)) == DiskStatus::kOk);
}

TEST_CASE("disk.faulty: sector faults near the end of a huge disk", "[disk]") {
  RamDisk ram(kMaxSectors);
  FaultyDisk disk(ram);
  disk.fail_sectors(kMaxSectors - 1, 1, kFaultRead);
  std::vector<uint8_t> buf(1024);
  CHECK(read_sync(disk, kMaxSectors - 2, buf) == DiskStatus::kIoError);
  CHECK(read_sync(disk, kMaxSectors - 3, buf) == DiskStatus::kOk);
}

TEST_CASE("disk.faulty: random errors follow the seed", "[disk]") {
  const auto pattern_for = [](uint64_t seed) {
    RamDisk ram(8);
    FaultyDisk disk(ram, {.seed = seed, .error_per_million = 500000});
    std::vector<bool> failed;
    std::vector<uint8_t> buf(512);
    for (int i = 0; i < 400; ++i) failed.push_back(read_sync(disk, 0, buf) != DiskStatus::kOk);
    return failed;
  };
  const auto a = pattern_for(1), b = pattern_for(1), c = pattern_for(2);
  CHECK(a == b);
  CHECK(a != c);
  const auto failures = std::count(a.begin(), a.end(), true);
  CHECK(failures > 140);  // 50 % of 400, with room for chance
  CHECK(failures < 260);
}

TEST_CASE("disk.faulty: FLUSH failures can be injected", "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram);
  REQUIRE(write_sync(disk, 0, sectors_of(0x33, 1)) == DiskStatus::kOk);
  disk.set_fail_flushes(true);
  CHECK(flush_sync(disk) == DiskStatus::kIoError);
  CHECK(disk.cached_sectors() == 1);  // nothing was made durable
  CHECK(read_all(ram, 0, 1) == sectors_of(0, 1));
  disk.set_fail_flushes(false);
  CHECK(flush_sync(disk) == DiskStatus::kOk);
  CHECK(read_all(ram, 0, 1) == sectors_of(0x33, 1));
}

TEST_CASE("disk.faulty: a delay of N polls means N polls without the completion", "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram, {.min_delay = 3, .max_delay = 3});
  auto data = sectors_of(0x44, 1);
  const DiskBuffer b{data.data(), data.size()};
  const Timed t = poll_until_done(disk, {5, DiskOp::kWrite, 1, {&b, 1}});
  CHECK(t.status == DiskStatus::kOk);
  CHECK(t.empty_polls == 3);
  disk.set_delay(0, 0);
  CHECK(poll_until_done(disk, {6, DiskOp::kFlush, 0, {}}).empty_polls == 0);
}

TEST_CASE("disk.faulty: seeded delays complete requests out of order", "[disk]") {
  RamDisk ram(256);
  FaultyDisk disk(ram, {.seed = 7, .min_delay = 0, .max_delay = 8});
  std::vector<std::vector<uint8_t>> data;
  std::vector<DiskBuffer> bufs;
  data.reserve(32);
  for (uint64_t i = 0; i < 32; ++i) {
    data.push_back(sectors_of(static_cast<uint8_t>(i + 1), 1));
    bufs.push_back({data.back().data(), kSectorSize});
  }
  for (uint64_t i = 0; i < 32; ++i) disk.submit({i, DiskOp::kWrite, i, {&bufs[i], 1}});
  std::vector<DiskCompletion> done;
  for (int polls = 0; polls < 20 && disk.in_flight() != 0; ++polls) disk.poll(done);
  REQUIRE(done.size() == 32);
  CHECK_FALSE(std::is_sorted(done.begin(), done.end(),
                             [](const DiskCompletion& a, const DiskCompletion& b) { return a.tag < b.tag; }));
  for (uint64_t i = 0; i < 32; ++i) CHECK(read_all(disk, i, 1) == data[i]);
}

TEST_CASE("disk.faulty: drain finishes everything at once", "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram, {.min_delay = 100, .max_delay = 100});
  auto data = sectors_of(0x55, 1);
  const DiskBuffer b{data.data(), data.size()};
  disk.submit({1, DiskOp::kWrite, 0, {&b, 1}});
  disk.submit({2, DiskOp::kFlush, 0, {}});
  disk.drain();
  CHECK(disk.in_flight() == 2);
  std::vector<DiskCompletion> done;
  CHECK(disk.poll(done) == 2);
  CHECK((done[0].tag == 1 && done[1].tag == 2));
  CHECK(read_all(ram, 0, 1) == data);  // written, then flushed
}

TEST_CASE("disk.faulty: transfers happen when a request executes, not at submit", "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram, {.min_delay = 2, .max_delay = 2});
  auto data = sectors_of(0x66, 1);
  const DiskBuffer b{data.data(), data.size()};
  disk.submit({1, DiskOp::kWrite, 0, {&b, 1}});
  std::fill(data.begin(), data.end(), 0x77);  // the "guest" changes the buffer meanwhile
  disk.drain();
  std::vector<DiskCompletion> done;
  disk.poll(done);
  CHECK(read_all(disk, 0, 1) == sectors_of(0x77, 1));
}

TEST_CASE("disk.faulty: writes sit in the cache until FLUSH - crash drops them", "[disk][BLK-8]") {
  RamDisk ram(16);
  FaultyDisk disk(ram);
  REQUIRE(write_sync(disk, 1, sectors_of(0xA1, 2)) == DiskStatus::kOk);
  CHECK(read_all(disk, 1, 2) == sectors_of(0xA1, 2));  // reads see the cache
  CHECK(read_all(ram, 1, 2) == sectors_of(0, 2));       // the medium does not
  CHECK(disk.cached_sectors() == 2);
  REQUIRE(flush_sync(disk) == DiskStatus::kOk);
  CHECK(disk.cached_sectors() == 0);
  CHECK(read_all(ram, 1, 2) == sectors_of(0xA1, 2));
  CHECK(ram.flushes() == 1);

  REQUIRE(write_sync(disk, 2, sectors_of(0xB2, 2)) == DiskStatus::kOk);  // not flushed
  disk.crash();
  CHECK(disk.crashed());
  std::vector<uint8_t> buf(512);
  CHECK(read_sync(disk, 0, buf) == DiskStatus::kIoError);  // the disk is gone
  disk.restart();
  CHECK(read_all(disk, 1, 3) ==
        [] {
          auto v = sectors_of(0xA1, 2);
          const auto z = sectors_of(0, 1);
          v.insert(v.end(), z.begin(), z.end());
          return v;
        }());
}

TEST_CASE("disk.faulty: a torn write persists a prefix of its sectors, then the disk crashes",
          "[disk][BLK-8]") {
  RamDisk ram(32);
  FaultyDisk disk(ram);
  REQUIRE(write_sync(disk, 0, sectors_of(0x10, 16)) == DiskStatus::kOk);
  REQUIRE(flush_sync(disk) == DiskStatus::kOk);
  REQUIRE(write_sync(disk, 20, sectors_of(0x20, 1)) == DiskStatus::kOk);  // cached only

  disk.arm_torn_write(3);
  CHECK(write_sync(disk, 4, sectors_of(0x30, 8)) == DiskStatus::kIoError);
  CHECK(disk.crashed());
  disk.restart();
  const auto after = read_all(disk, 0, 32);
  for (uint64_t s = 0; s < 32; ++s) {
    const uint8_t want = s >= 4 && s < 7 ? 0x30 : s < 16 ? 0x10 : 0x00;
    INFO("sector " << s);
    CHECK(after[s * kSectorSize] == want);
    CHECK(after[s * kSectorSize + kSectorSize - 1] == want);
  }
}

TEST_CASE("disk.faulty: requests pending at a crash fail - the disk serves again after restart",
          "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram, {.min_delay = 5, .max_delay = 5});
  auto data = sectors_of(0x99, 1);
  const DiskBuffer b{data.data(), data.size()};
  disk.submit({1, DiskOp::kWrite, 0, {&b, 1}});
  disk.crash();
  disk.restart();
  disk.submit({2, DiskOp::kWrite, 1, {&b, 1}});
  disk.drain();
  std::vector<DiskCompletion> done;
  disk.poll(done);
  REQUIRE(done.size() == 2);
  for (const DiskCompletion& c : done) {
    CHECK(c.status == (c.tag == 1 ? DiskStatus::kIoError : DiskStatus::kOk));
  }
}

TEST_CASE("disk.faulty: FLUSH covers exactly the writes completed before it was submitted",
          "[disk][BLK-8]") {
  RamDisk ram(8);
  FaultyDisk disk(ram);
  auto early = sectors_of(0xE1, 1), late = sectors_of(0xE2, 1);
  const DiskBuffer be{early.data(), early.size()}, bl{late.data(), late.size()};
  std::vector<DiskCompletion> done;

  // "early" completes, then FLUSH is submitted; "late" is submitted before
  // the FLUSH but completes after it.
  disk.set_delay(0, 0);
  disk.submit({1, DiskOp::kWrite, 0, {&be, 1}});
  disk.poll(done);
  disk.set_delay(4, 4);
  disk.submit({2, DiskOp::kWrite, 1, {&bl, 1}});
  disk.set_delay(1, 1);
  disk.submit({3, DiskOp::kFlush, 0, {}});
  done.clear();
  while (std::none_of(done.begin(), done.end(), [](auto& c) { return c.tag == 3; })) disk.poll(done);
  REQUIRE(done.back().status == DiskStatus::kOk);
  CHECK(disk.in_flight() == 1);  // "late" is still pending
  disk.drain();
  disk.poll(done);
  disk.crash();
  disk.restart();
  CHECK(read_all(disk, 0, 1) == early);             // durable
  CHECK(read_all(disk, 1, 1) == sectors_of(0, 1));  // completed after the FLUSH: lost
}

TEST_CASE("disk.faulty: without a write cache, writes go straight through", "[disk]") {
  RamDisk ram(8);
  FaultyDisk disk(ram, {.write_cache = false});
  REQUIRE(write_sync(disk, 3, sectors_of(0x5C, 1)) == DiskStatus::kOk);
  CHECK(read_all(ram, 3, 1) == sectors_of(0x5C, 1));
  disk.crash();
  disk.restart();
  CHECK(read_all(disk, 3, 1) == sectors_of(0x5C, 1));
}

// The write cache against a model of its contract: a map of cached sectors
// over the inner disk's content. Writes, reads, flushes, torn writes and
// crashes in any order and at any sector (runs that overlap, abut, straddle
// 64-sector boundaries), then the inner disk is compared sector by sector.
TEST_CASE("disk.faulty: the write cache behaves as a map of sectors over the inner disk",
          "[disk][BLK-8]") {
  rc::prop("cache model", [] {
    constexpr uint64_t kDiskSectors = 300;
    RamDisk ram(kDiskSectors);
    FaultyDisk disk(ram);
    std::map<uint64_t, uint8_t> cached;              // sector -> fill byte
    std::vector<uint8_t> inner(kDiskSectors, 0);     // fill byte per sector
    const auto steps = *rc::gen::inRange<int>(1, 60);
    uint8_t fill = 1;
    for (int step = 0; step < steps; ++step) {
      const int what = *rc::gen::inRange(0, 10);
      const uint64_t first = *rc::gen::inRange<uint64_t>(0, kDiskSectors);
      const uint64_t count = *rc::gen::inRange<uint64_t>(1, std::min<uint64_t>(130, kDiskSectors - first) + 1);
      if (what < 5) {  // write
        const std::vector<uint8_t> data = sectors_of(fill, count);
        RC_ASSERT(write_sync(disk, first, data) == DiskStatus::kOk);
        for (uint64_t s = 0; s < count; ++s) cached[first + s] = fill;
        fill = static_cast<uint8_t>(fill % 250 + 1);
      } else if (what < 8) {  // read: cached sectors win over the inner disk
        std::vector<uint8_t> got(count * kSectorSize);
        RC_ASSERT(read_sync(disk, first, got) == DiskStatus::kOk);
        for (uint64_t s = 0; s < count; ++s) {
          const auto it = cached.find(first + s);
          const uint8_t want = it != cached.end() ? it->second : inner[first + s];
          RC_ASSERT(std::all_of(got.begin() + s * kSectorSize, got.begin() + (s + 1) * kSectorSize,
                                [&](uint8_t b) { return b == want; }));
        }
      } else if (what == 8) {  // flush: everything cached becomes durable
        RC_ASSERT(flush_sync(disk) == DiskStatus::kOk);
        for (const auto& [s, b] : cached) inner[s] = b;
        cached.clear();
      } else {  // a torn write of `count` sectors keeping `keep`, then power is back
        const uint64_t keep = *rc::gen::inRange<uint64_t>(0, count + 1);
        disk.arm_torn_write(static_cast<uint32_t>(keep));
        RC_ASSERT(write_sync(disk, first, sectors_of(fill, count)) == DiskStatus::kIoError);
        for (uint64_t s = 0; s < keep; ++s) inner[first + s] = fill;
        cached.clear();
        fill = static_cast<uint8_t>(fill % 250 + 1);
        disk.restart();
      }
      RC_ASSERT(disk.cached_sectors() == cached.size());
    }
    std::vector<uint8_t> durable(kDiskSectors * kSectorSize);
    RC_ASSERT(read_sync(ram, 0, durable) == DiskStatus::kOk);
    for (uint64_t s = 0; s < kDiskSectors; ++s) {
      RC_ASSERT(durable[s * kSectorSize] == inner[s]);
      RC_ASSERT(durable[s * kSectorSize + kSectorSize - 1] == inner[s]);
    }
  });
}
