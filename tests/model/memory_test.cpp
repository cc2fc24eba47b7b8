// GuestMemory: the sparse 64-bit guest-physical address space every device
// model and every test ring lives in (contract DMA-1, DMA-2).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "model/memory/copy_bytes.hpp"
#include "model/memory/guest_memory.hpp"

namespace {

using aerov::model::GuestMemory;
using aerov::model::MemError;

constexpr uint64_t kPage = GuestMemory::kPageSize;
constexpr uint64_t k4G = 0x1'0000'0000ull;
constexpr uint64_t kFarAbove = 0x7f00'0000'0000ull;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), seed);
  return v;
}

std::vector<uint8_t> read_back(const GuestMemory& mem, uint64_t gpa, size_t n) {
  std::vector<uint8_t> v(n, 0xEE);
  REQUIRE(mem.read(gpa, v.data(), n) == MemError::kOk);
  return v;
}

// Resident set size of this process in bytes (Linux).
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  REQUIRE(statm);
  return resident_pages * kPage;
}

}  // namespace

TEST_CASE("memory: RAM below and far above 4 GiB round-trips data", "[memory][DMA-2]") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(kFarAbove, 16 * kPage) == MemError::kOk);
  REQUIRE(mem.add_ram(0, 16 * kPage) == MemError::kOk);
  REQUIRE(mem.add_ram(k4G, 16 * kPage) == MemError::kOk);

  // Regions are kept sorted by address whatever the order they were added in.
  const auto& regions = mem.regions();
  REQUIRE(regions.size() == 3);
  CHECK(regions[0].gpa == 0);
  CHECK(regions[1].gpa == k4G);
  CHECK(regions[2].gpa == kFarAbove);

  for (const uint64_t base : {uint64_t{0}, k4G, kFarAbove}) {
    CAPTURE(base);
    // First bytes, an unaligned run in the middle, and the region's last byte.
    for (const uint64_t gpa : {base, base + 5 * kPage + 3, base + 16 * kPage - 1}) {
      CAPTURE(gpa);
      const size_t n = gpa == base + 16 * kPage - 1 ? 1 : 77;
      const auto data = pattern(n, static_cast<uint8_t>(gpa >> 32 ^ gpa));
      REQUIRE(mem.write(gpa, data.data(), n) == MemError::kOk);
      CHECK(read_back(mem, gpa, n) == data);
    }
  }
  // The three regions are distinct storage: the same low offset differs.
  CHECK(read_back(mem, 0, 4) != read_back(mem, k4G, 4));
  CHECK(read_back(mem, k4G, 4) != read_back(mem, kFarAbove, 4));

  uint64_t v = 0;
  REQUIRE(mem.write_obj(kFarAbove + 8, uint64_t{0x1122334455667788}) == MemError::kOk);
  REQUIRE(mem.read_obj(kFarAbove + 8, &v) == MemError::kOk);
  CHECK(v == 0x1122334455667788);
}

TEST_CASE("memory: 64 GiB of RAM is sparse and reads zero until written",
          "[memory][DMA-2]") {
  constexpr uint64_t k64G = 64ull << 30;
  GuestMemory mem;
  const uint64_t rss_before = resident_bytes();
  REQUIRE(mem.add_ram(k4G, k64G) == MemError::kOk);

  // Untouched memory anywhere in the region reads as zero.
  for (const uint64_t gpa : {k4G, k4G + k64G / 2 + 123, k4G + k64G - kPage}) {
    CAPTURE(gpa);
    CHECK(read_back(mem, gpa, kPage) == std::vector<uint8_t>(kPage, 0));
  }
  // Touch the first and the last page, and one byte in between.
  const auto data = pattern(64, 1);
  REQUIRE(mem.write(k4G, data.data(), data.size()) == MemError::kOk);
  REQUIRE(mem.write(k4G + k64G - data.size(), data.data(), data.size()) == MemError::kOk);
  REQUIRE(mem.write_obj(k4G + 17 * (1ull << 30), uint8_t{0x5A}) == MemError::kOk);
  CHECK(read_back(mem, k4G + k64G - data.size(), data.size()) == data);

  // Only what was touched is backed: far less than 1/1000 of the region.
  CHECK(resident_bytes() - rss_before < (64ull << 20));
  // Bytes next to written ones are still zero.
  CHECK(read_back(mem, k4G + 64, 64) == std::vector<uint8_t>(64, 0));
}

TEST_CASE("memory: RAM added again after a release reads zero, the touched pages too",
          "[memory][DMA-2]") {
  // A released mapping is kept for the next add_ram of its size (a sweep
  // builds a machine per seed); it must come back as fresh RAM.
  constexpr uint64_t kSize = 4 << 20;
  const uint8_t* first_host = nullptr;
  {
    GuestMemory mem;
    REQUIRE(mem.add_ram(0, kSize) == MemError::kOk);
    const std::vector<uint8_t> ones(3 * kPage + 5, 0xFF);
    REQUIRE(mem.write(kPage - 2, ones.data(), ones.size()) == MemError::kOk);
    REQUIRE(mem.write_obj(kSize - 1, uint8_t{0x5A}) == MemError::kOk);
    first_host = mem.translate(0, 1);
  }
  GuestMemory mem;
  REQUIRE(mem.add_ram(0, kSize) == MemError::kOk);
  CHECK(mem.translate(0, 1) == first_host);  // the kept mapping, not a new one
  const std::vector<uint8_t> back = read_back(mem, 0, kSize);
  const auto nonzero = std::find_if(back.begin(), back.end(), [](uint8_t b) { return b != 0; });
  CHECK(nonzero - back.begin() == static_cast<std::ptrdiff_t>(kSize));  // else: the first stale byte
}

TEST_CASE("memory: an access spanning two adjacent regions works", "[memory][DMA-1]") {
  GuestMemory mem;
  // Adjacent at 4 GiB: the classic low-RAM / high-RAM boundary.
  REQUIRE(mem.add_ram(k4G - kPage, kPage) == MemError::kOk);
  REQUIRE(mem.add_ram(k4G, kPage) == MemError::kOk);

  const uint64_t gpa = k4G - 40;
  const auto data = pattern(100, 9);
  CHECK(mem.check(gpa, data.size()) == MemError::kOk);
  REQUIRE(mem.write(gpa, data.data(), data.size()) == MemError::kOk);
  CHECK(read_back(mem, gpa, data.size()) == data);
  // Each side holds its part.
  CHECK(read_back(mem, gpa, 40) == std::vector<uint8_t>(data.begin(), data.begin() + 40));
  CHECK(read_back(mem, k4G, 60) == std::vector<uint8_t>(data.begin() + 40, data.end()));
  // Covering both regions completely works too.
  CHECK(mem.check(k4G - kPage, 2 * kPage) == MemError::kOk);
}

TEST_CASE("memory: an access touching a hole fails with kUnmapped and has no partial effect",
          "[memory][DMA-1]") {
  // [A, A+P) mapped, [A+P, A+2P) hole, [A+2P, A+3P) mapped.
  constexpr uint64_t A = k4G;
  GuestMemory mem;
  REQUIRE(mem.add_ram(A, kPage) == MemError::kOk);
  REQUIRE(mem.add_ram(A + 2 * kPage, kPage) == MemError::kOk);
  const auto before = pattern(3 * kPage, 0x30);
  REQUIRE(mem.write(A, before.data(), kPage) == MemError::kOk);
  REQUIRE(mem.write(A + 2 * kPage, before.data() + 2 * kPage, kPage) == MemError::kOk);

  struct Range {
    const char* what;
    uint64_t gpa;
    uint64_t len;
  };
  const auto range = GENERATE(values<Range>({
      {"mapped start, ends in the hole", A + kPage - 8, 16},
      {"starts in the hole, ends mapped", A + 2 * kPage - 8, 16},
      {"mapped, across the hole, mapped", A + kPage - 8, kPage + 16},
      {"entirely in the hole", A + kPage + 100, 10},
      {"one byte past the last region", A + 3 * kPage, 1},
      {"last byte plus one past the last region", A + 3 * kPage - 1, 2},
      {"below the first region", A - 4, 8},
      {"empty range in the hole", A + kPage, 0},
  }));
  CAPTURE(range.what);
  const size_t n = static_cast<size_t>(range.len);

  CHECK(mem.check(range.gpa, range.len) == MemError::kUnmapped);

  std::vector<uint8_t> dst(n + 1, 0xAB);
  CHECK(mem.read(range.gpa, dst.data(), range.len) == MemError::kUnmapped);
  CHECK(dst == std::vector<uint8_t>(n + 1, 0xAB));  // destination untouched

  const std::vector<uint8_t> src(n, 0xCD);
  CHECK(mem.write(range.gpa, src.data(), range.len) == MemError::kUnmapped);
  // Guest memory untouched: both mapped pages still hold what they held.
  CHECK(read_back(mem, A, kPage) == std::vector<uint8_t>(before.begin(), before.begin() + kPage));
  CHECK(read_back(mem, A + 2 * kPage, kPage) ==
        std::vector<uint8_t>(before.begin() + 2 * kPage, before.end()));
}

TEST_CASE("memory: gpa plus len overflowing 64 bits is kOverflow", "[memory][DMA-1]") {
  GuestMemory mem;
  constexpr uint64_t kTop = 0xFFFF'FFFF'FFFF'E000ull;  // region [kTop, kTop + P)
  REQUIRE(mem.add_ram(kTop, kPage) == MemError::kOk);
  // The top region itself works, up to its last byte.
  REQUIRE(mem.write_obj(kTop + kPage - 1, uint8_t{7}) == MemError::kOk);

  struct Range {
    uint64_t gpa;
    uint64_t len;
  };
  const auto range = GENERATE(values<Range>({
      {0xFFFF'FFFF'FFFF'FFF0ull, 0x20},
      {UINT64_MAX, 2},
      {kTop, UINT64_MAX},
      {1, UINT64_MAX},
  }));
  CAPTURE(range.gpa, range.len);
  std::array<uint8_t, 16> dst{};
  dst.fill(0xAB);
  CHECK(mem.check(range.gpa, range.len) == MemError::kOverflow);
  CHECK(mem.read(range.gpa, dst.data(), range.len) == MemError::kOverflow);
  CHECK(mem.write(range.gpa, dst.data(), range.len) == MemError::kOverflow);
  CHECK(dst == std::array<uint8_t, 16>{0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB,
                                       0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB});
  CHECK(mem.translate(range.gpa, range.len) == nullptr);
  uint8_t last = 0;
  REQUIRE(mem.read_obj(kTop + kPage - 1, &last) == MemError::kOk);
  CHECK(last == 7);
}

TEST_CASE("memory: translate resolves ranges inside exactly one region", "[memory][DMA-1]") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(k4G, 2 * kPage) == MemError::kOk);
  REQUIRE(mem.add_ram(k4G + 2 * kPage, kPage) == MemError::kOk);  // adjacent
  REQUIRE(mem.add_ram(kFarAbove, kPage) == MemError::kOk);

  SECTION("a pointer into the region aliases guest memory") {
    uint8_t* p = mem.translate(k4G + 100, 8);
    REQUIRE(p != nullptr);
    REQUIRE(mem.write_obj(k4G + 100, uint64_t{0xA1B2C3D4E5F60718}) == MemError::kOk);
    uint64_t via_pointer = 0;
    std::memcpy(&via_pointer, p, sizeof via_pointer);
    CHECK(via_pointer == 0xA1B2C3D4E5F60718);
    p[0] = 0x42;
    uint8_t via_read = 0;
    REQUIRE(mem.read_obj(k4G + 100, &via_read) == MemError::kOk);
    CHECK(via_read == 0x42);
    // Offsets within one region are contiguous on the host.
    CHECK(mem.translate(k4G + kPage, 1) == mem.translate(k4G, 1) + kPage);
  }

  SECTION("which ranges translate") {
    struct Case {
      const char* what;
      uint64_t gpa;
      uint64_t len;
      bool ok;
    };
    const auto c = GENERATE(values<Case>({
        {"whole region", k4G, 2 * kPage, true},
        {"last byte", k4G + 2 * kPage - 1, 1, true},
        {"len 0 at the start", k4G, 0, true},
        {"len 0 inside", k4G + 77, 0, true},
        {"far above 4 GiB", kFarAbove + 8, 16, true},
        {"one byte too long", k4G, 2 * kPage + 1, false},
        {"spans adjacent regions", k4G + 2 * kPage - 4, 8, false},
        {"len 0 in a hole", k4G + 3 * kPage, 0, false},
        {"len 0 below all regions", 0, 0, false},
        {"huge len", k4G + 1, UINT64_MAX - 1, false},
    }));
    CAPTURE(c.what);
    CHECK((mem.translate(c.gpa, c.len) != nullptr) == c.ok);
  }
}

TEST_CASE("memory: add_ram rejects invalid regions and leaves the map unchanged",
          "[memory][DMA-1]") {
  GuestMemory mem;
  REQUIRE(mem.add_ram(k4G, 4 * kPage) == MemError::kOk);  // [4G, 4G + 4P)
  REQUIRE(mem.write_obj(k4G, uint32_t{0xFEEDFACE}) == MemError::kOk);

  struct Case {
    const char* what;
    uint64_t gpa;
    uint64_t size;
  };
  const auto c = GENERATE(values<Case>({
      {"zero size", 0, 0},
      {"unaligned gpa", 0x1001, kPage},
      {"unaligned size", 0, kPage + 1},
      {"identical region", k4G, 4 * kPage},
      {"overlaps the front", k4G - kPage, 2 * kPage},
      {"overlaps the back", k4G + 3 * kPage, 2 * kPage},
      {"inside", k4G + kPage, kPage},
      {"contains", k4G - kPage, 6 * kPage},
      {"wraps past 2^64", 0xFFFF'FFFF'FFFF'F000ull, 2 * kPage},
  }));
  CAPTURE(c.what);
  CHECK(mem.add_ram(c.gpa, c.size) == MemError::kBadRegion);
  REQUIRE(mem.regions().size() == 1);
  CHECK(mem.regions()[0].gpa == k4G);
  CHECK(mem.regions()[0].size == 4 * kPage);
  uint32_t v = 0;
  REQUIRE(mem.read_obj(k4G, &v) == MemError::kOk);
  CHECK(v == 0xFEEDFACE);  // the existing region was not replaced
  // Regions right next to the existing one (no overlap) are fine.
  CHECK(mem.add_ram(k4G - kPage, kPage) == MemError::kOk);
  CHECK(mem.add_ram(k4G + 4 * kPage, kPage) == MemError::kOk);
}

TEST_CASE("memory: add_external maps caller-owned host memory", "[memory][DMA-1][DMA-2]") {
  alignas(16) std::array<uint8_t, 256> host{};
  GuestMemory mem;
  CHECK(mem.add_external(kFarAbove, 0, host.data()) == MemError::kBadRegion);
  CHECK(mem.add_external(kFarAbove, host.size(), nullptr) == MemError::kBadRegion);
  CHECK(mem.add_external(UINT64_MAX - 10, host.size(), host.data()) == MemError::kBadRegion);
  REQUIRE(mem.add_external(kFarAbove, host.size(), host.data()) == MemError::kOk);
  CHECK(mem.add_external(kFarAbove + 255, 1, host.data()) == MemError::kBadRegion);
  // Host pointer and address must agree modulo 16, or an aligned ring
  // address would give a misaligned host pointer.
  CHECK(mem.add_external(kFarAbove + 0x1000, 16, host.data() + 1) == MemError::kBadRegion);
  CHECK(mem.add_external(kFarAbove + 0x1001, 16, host.data() + 1) == MemError::kOk);

  REQUIRE(mem.write_obj(kFarAbove + 3, uint16_t{0xBEEF}) == MemError::kOk);
  CHECK(host[3] == 0xEF);
  CHECK(host[4] == 0xBE);
  CHECK(mem.translate(kFarAbove + 3, 2) == host.data() + 3);
  CHECK(mem.check(kFarAbove + 250, 7) == MemError::kUnmapped);
}

TEST_CASE("copy_bytes copies exactly n bytes at any size and alignment", "[memory]") {
  const std::vector<uint8_t> src = pattern(3 * 4096 + 64, 7);
  for (const size_t n : {size_t{0}, size_t{1}, size_t{2047}, size_t{2048}, size_t{2049}, size_t{4096},
                         size_t{3 * 4096 + 13}}) {
    for (const size_t shift : {size_t{0}, size_t{3}, size_t{8}}) {
      CAPTURE(n, shift);
      std::vector<uint8_t> dst(src.size() + 32, 0xEE);
      aerov::model::copy_bytes(dst.data() + shift, src.data(), n);
      CHECK(std::equal(src.begin(), src.begin() + static_cast<ptrdiff_t>(n), dst.begin() + static_cast<ptrdiff_t>(shift)));
      CHECK(std::all_of(dst.begin(), dst.begin() + static_cast<ptrdiff_t>(shift), [](uint8_t b) { return b == 0xEE; }));
      CHECK(std::all_of(dst.begin() + static_cast<ptrdiff_t>(shift + n), dst.end(), [](uint8_t b) { return b == 0xEE; }));
    }
  }
}
