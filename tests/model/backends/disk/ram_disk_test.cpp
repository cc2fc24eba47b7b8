// RamDisk: sparse storage, sector-granular ranges, scatter-gather, and the
// asynchronous completion model (submit, then poll) every backend shares.
#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "model/backends/disk/ram_disk.hpp"

using namespace aerov::model::backends;

namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + i / 512);
  return v;
}

}  // namespace

TEST_CASE("disk.ram: unwritten sectors read as zero and writes read back", "[disk]") {
  RamDisk disk(1000);
  CHECK(disk.sector_count() == 1000);
  std::vector<uint8_t> buf(4096, 0xFF);
  REQUIRE(read_sync(disk, 10, buf) == DiskStatus::kOk);
  CHECK(buf == std::vector<uint8_t>(4096, 0));

  const auto data = pattern(3 * 512, 7);
  REQUIRE(write_sync(disk, 998, std::span<const uint8_t>(data).first(1024)) == DiskStatus::kOk);
  REQUIRE(write_sync(disk, 5, data) == DiskStatus::kOk);
  std::vector<uint8_t> back(3 * 512);
  REQUIRE(read_sync(disk, 5, back) == DiskStatus::kOk);
  CHECK(back == data);
  std::vector<uint8_t> tail(1024);
  REQUIRE(read_sync(disk, 998, tail) == DiskStatus::kOk);
  CHECK(std::equal(tail.begin(), tail.end(), data.begin()));
}

TEST_CASE("disk.ram: a huge disk costs only what is written", "[disk]") {
  const uint64_t sectors = 1ull << 31;  // 1 TiB
  RamDisk disk(sectors);
  const auto data = pattern(512, 3);
  REQUIRE(write_sync(disk, sectors - 1, data) == DiskStatus::kOk);
  REQUIRE(write_sync(disk, 0, data) == DiskStatus::kOk);
  CHECK(disk.allocated_bytes() == 2 * RamDisk::kChunkBytes);
  std::vector<uint8_t> back(512);
  REQUIRE(read_sync(disk, sectors - 1, back) == DiskStatus::kOk);
  CHECK(back == data);
}

TEST_CASE("disk.ram: capacity is clamped so byte offsets fit in 64 bits", "[disk]") {
  RamDisk disk(UINT64_MAX);
  CHECK(disk.sector_count() == kMaxSectors);
  const auto data = pattern(512, 9);
  CHECK(write_sync(disk, kMaxSectors - 1, data) == DiskStatus::kOk);
  CHECK(write_sync(disk, kMaxSectors, data) == DiskStatus::kOutOfRange);
}

TEST_CASE("disk.ram: scatter-gather pieces of any length", "[disk]") {
  RamDisk disk(64);
  auto data = pattern(2048, 1);
  // Write as 1 + 1000 + 23 + 1024 bytes, read back as 511 + 1537.
  const DiskBuffer out[] = {{data.data(), 1}, {data.data() + 1, 1000}, {data.data() + 1001, 23},
                            {data.data() + 1024, 1024}};
  REQUIRE(run_sync(disk, {1, DiskOp::kWrite, 8, out}) == DiskStatus::kOk);
  std::vector<uint8_t> a(511), b(1537);
  const DiskBuffer in[] = {{a.data(), a.size()}, {b.data(), b.size()}};
  REQUIRE(run_sync(disk, {2, DiskOp::kRead, 8, in}) == DiskStatus::kOk);
  a.insert(a.end(), b.begin(), b.end());
  CHECK(a == data);
}

TEST_CASE("disk.ram: invalid requests complete with kOutOfRange and change nothing", "[disk]") {
  RamDisk disk(16);
  auto data = pattern(1024, 5);
  REQUIRE(write_sync(disk, 0, std::span<const uint8_t>(data).first(512)) == DiskStatus::kOk);
  const auto before = [&] {
    std::vector<uint8_t> all(16 * 512);
    REQUIRE(read_sync(disk, 0, all) == DiskStatus::kOk);
    return all;
  }();
  auto bad = pattern(1024, 99);
  const DiskBuffer b511{bad.data(), 511}, b1024{bad.data(), 1024}, b0{bad.data(), 0};
  CHECK(run_sync(disk, {0, DiskOp::kWrite, 0, {&b511, 1}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kWrite, 15, {&b1024, 1}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kWrite, 16, {&b511, 1}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kWrite, UINT64_MAX, {&b1024, 1}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kWrite, 3, {&b0, 1}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kRead, 3, {}}) == DiskStatus::kOutOfRange);
  CHECK(run_sync(disk, {0, DiskOp::kFlush, 0, {&b1024, 1}}) == DiskStatus::kOutOfRange);
  std::vector<uint8_t> after(16 * 512);
  REQUIRE(read_sync(disk, 0, after) == DiskStatus::kOk);
  CHECK(after == before);
}

TEST_CASE("disk.ram: completions arrive only through poll, once each, with their tags",
          "[disk][BLK-8]") {
  RamDisk disk(8);
  auto data = pattern(512, 2);
  const DiskBuffer b{data.data(), 512};
  disk.submit({41, DiskOp::kWrite, 1, {&b, 1}});
  disk.submit({42, DiskOp::kFlush, 0, {}});
  disk.submit({43, DiskOp::kRead, 9, {&b, 1}});  // past the end
  CHECK(disk.in_flight() == 3);
  std::vector<DiskCompletion> done;
  CHECK(disk.poll(done) == 3);
  CHECK(disk.in_flight() == 0);
  REQUIRE(done.size() == 3);
  CHECK((done[0].tag == 41 && done[0].status == DiskStatus::kOk));
  CHECK((done[1].tag == 42 && done[1].status == DiskStatus::kOk));
  CHECK((done[2].tag == 43 && done[2].status == DiskStatus::kOutOfRange));
  CHECK(disk.poll(done) == 0);
  CHECK(disk.flushes() == 1);
}
