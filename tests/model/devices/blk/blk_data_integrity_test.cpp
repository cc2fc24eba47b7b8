// Data integrity: thousands of random reads, writes and flushes through the
// real driver ring, the transport and the device, against a shadow disk,
// byte for byte. Sizes, guest addresses (below and above 4 GiB, any
// alignment) and the split into segments are random; batches of requests
// share a doorbell and, with a slow backend, complete out of order. Every
// run is seeded: the seed is printed with any failure, and
// AEROV_BLK_SEED=<n> reruns one seed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <set>

#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/file_disk.hpp"
#include "model/devices/blk/testing/blk_rig.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace vq = aerov::virtqueue;
namespace blk = aerov::model::devices::blk;

namespace {

constexpr uint32_t kSector = 512;
constexpr uint8_t kReadFill = 0xCD;

uint64_t seed_for(uint64_t fallback) {
  const char* env = std::getenv("AEROV_BLK_SEED");
  return env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 0) : fallback;
}

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

struct WorkloadOptions {
  int requests = 3000;
  uint32_t max_sectors = 64;   // per request
  uint32_t max_segments = 8;   // per request (<= seg_max)
  uint32_t max_batch = 12;
  uint32_t flush_percent = 8;
  bool indirect = false;       // the driver ring has an indirect pool
  bool track_durability = false;  // keep what a crash may leave (durable_ok)
};

// Drives random batches and keeps the shadow. With track_durability, also
// remembers per sector what a crash may leave behind (see durable_ok).
class Workload {
 public:
  Workload(BlkRig& rig, uint64_t seed, uint64_t sectors, const WorkloadOptions& o)
      : rig_(rig), rng_(seed), sectors_(sectors), o_(o), shadow_(sectors * kSector, 0),
        guaranteed_(sectors, fnv1a(zero_sector_, kSector)), since_(sectors) {}

  void run() {
    int issued = 0;
    while (issued < o_.requests) issued += batch();
  }

  // After a crash of a volatile cache: every sector holds what the last
  // completed FLUSH covered, or something written after that FLUSH was taken.
  bool durable_ok(const std::vector<uint8_t>& disk, std::string& why) const {
    for (uint64_t s = 0; s < sectors_; ++s) {
      const uint64_t h = fnv1a(&disk[s * kSector], kSector);
      if (h != guaranteed_[s] && since_[s].count(h) == 0) {
        why = "sector " + std::to_string(s) + " holds data no FLUSH or later write explains";
        return false;
      }
    }
    return true;
  }

  const std::vector<uint8_t>& shadow() const { return shadow_; }
  uint64_t completed() const { return completed_; }
  uint64_t out_of_order() const { return out_of_order_; }

 private:
  struct Req {
    uint32_t type;
    uint64_t sector;
    uint32_t sectors;
    std::vector<vq::Segment> segs;
    std::vector<uint8_t> data;  // OUT: what was written
    uint64_t seq;
  };

  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // Guest address for `len` bytes: low or high RAM, random alignment, with
  // a gap so a guard byte follows every segment.
  uint64_t place(uint32_t len) {
    uint64_t& next = pick(2) ? next_high_ : next_low_;
    const uint64_t at = next + pick(4096);
    next = at + len + 1 + pick(64);
    return at;
  }

  int batch() {
    next_low_ = BlkRig::kDataGpa;
    next_high_ = BlkRig::kHighRam;
    const uint32_t n = 1 + static_cast<uint32_t>(pick(o_.max_batch));
    std::vector<Req> reqs;
    std::set<std::pair<uint64_t, uint64_t>> taken;  // disjoint ranges within a batch
    uint32_t descs = 0;
    for (uint32_t i = 0; i < n; ++i) {
      Req r{};
      r.seq = seq_++;
      const uint64_t roll = pick(100);
      r.type = roll < o_.flush_percent ? blk::kTypeFlush : roll % 2 ? blk::kTypeOut : blk::kTypeIn;
      if (r.type != blk::kTypeFlush) {
        r.sectors = 1 + static_cast<uint32_t>(pick(pick(8) == 0 ? o_.max_sectors * 4 : o_.max_sectors));
        r.sectors = static_cast<uint32_t>(std::min<uint64_t>(r.sectors, sectors_));
        r.sector = pick(sectors_ - r.sectors + 1);
        bool clash = false;
        for (const auto& [a, b] : taken) clash |= r.sector < b && a < r.sector + r.sectors;
        if (clash) continue;
        taken.insert({r.sector, r.sector + r.sectors});
        // Random cut points, any byte boundary.
        const uint32_t bytes = r.sectors * kSector;
        const uint32_t nsegs = 1 + static_cast<uint32_t>(pick(std::min(o_.max_segments, bytes)));
        std::set<uint32_t> cuts;
        while (cuts.size() + 1 < nsegs) cuts.insert(1 + static_cast<uint32_t>(pick(bytes - 1)));
        cuts.insert(bytes);
        uint32_t from = 0;
        const bool in = r.type == blk::kTypeIn;
        if (!in) {
          r.data.resize(bytes);
          for (uint8_t& b : r.data) b = static_cast<uint8_t>(rng_());
        }
        for (uint32_t cut : cuts) {
          const uint32_t len = cut - from;
          const uint64_t gpa = place(len);
          if (in) {
            rig_.fill(gpa, kReadFill, len + 1);  // plus the guard byte
          } else {
            rig_.poke(gpa, std::span<const uint8_t>(r.data).subspan(from, len));
          }
          r.segs.push_back(vq::Segment{gpa, len, in});
          from = cut;
        }
      }
      const uint32_t need = o_.indirect ? 1 : static_cast<uint32_t>(r.segs.size()) + 2;
      if (descs + need > rig_.queue.size()) break;
      descs += need;
      const auto slot = static_cast<uint16_t>(reqs.size());
      REQUIRE(rig_.submit(slot, r.type, r.sector, r.segs) == vq::DriverStatus::kOk);
      reqs.push_back(std::move(r));
    }
    if (reqs.empty()) return 0;
    rig_.kick();

    std::vector<std::pair<uint16_t, BlkResult>> done;
    for (int round = 0; round < 1000 && done.size() < reqs.size(); ++round) {
      for (auto& d : rig_.reap()) done.push_back(d);
      if (done.size() < reqs.size()) rig_.function->process_queue(0);
    }
    REQUIRE(done.size() == reqs.size());
    for (size_t i = 0; i < done.size(); ++i) {
      if (i > 0 && done[i].first < done[i - 1].first) ++out_of_order_;
    }
    // Model every OUT at its place in the pop order (= slot order): ranges
    // in a batch are disjoint, so completion order cannot matter.
    for (const auto& [slot, res] : done) {
      INFO("request " << slot << " type " << reqs[slot].type << " sector " << reqs[slot].sector
                      << " sectors " << reqs[slot].sectors << " segments " << reqs[slot].segs.size());
      REQUIRE(res.status == blk::kStatusOk);
      REQUIRE(res.used_len == 0);
    }
    for (const Req& r : reqs) {
      if (r.type == blk::kTypeOut) {
        std::copy(r.data.begin(), r.data.end(), shadow_.begin() + static_cast<std::ptrdiff_t>(r.sector * kSector));
        if (o_.track_durability) {
          for (uint32_t s = 0; s < r.sectors; ++s) {
            since_[r.sector + s].insert(fnv1a(&r.data[s * kSector], kSector));
          }
        }
      } else if (r.type == blk::kTypeIn) {
        std::vector<uint8_t> got;
        for (const vq::Segment& seg : r.segs) {
          const auto bytes = rig_.peek(seg.addr, seg.len + 1);
          REQUIRE(bytes.back() == kReadFill);  // nothing written past the segment
          got.insert(got.end(), bytes.begin(), bytes.end() - 1);
        }
        INFO("IN sector " << r.sector << " sectors " << r.sectors << " segments " << r.segs.size());
        REQUIRE(std::equal(got.begin(), got.end(),
                           shadow_.begin() + static_cast<std::ptrdiff_t>(r.sector * kSector)));
      } else if (o_.track_durability) {
        // Walking in pop order, the shadow now is the disk as this FLUSH
        // found it: all of it is durable once the FLUSH completed (BLK-8).
        // OUTs popped after it may or may not be; they join since_ below.
        for (uint64_t s = 0; s < sectors_; ++s) {
          guaranteed_[s] = fnv1a(&shadow_[s * kSector], kSector);
          since_[s].clear();
        }
      }
    }
    completed_ += reqs.size();
    return static_cast<int>(reqs.size());
  }

 private:
  BlkRig& rig_;
  std::mt19937_64 rng_;
  uint64_t sectors_;
  WorkloadOptions o_;
  std::vector<uint8_t> shadow_;
  const uint8_t zero_sector_[kSector] = {};
  std::vector<uint64_t> guaranteed_;
  std::vector<std::set<uint64_t>> since_;
  uint64_t next_low_ = 0, next_high_ = 0;
  uint64_t seq_ = 0;
  uint64_t completed_ = 0;
  uint64_t out_of_order_ = 0;
};

void check_disk_equals_shadow(BlkRig& rig, const Workload& w, uint64_t sectors) {
  const auto disk = rig.disk_bytes(0, sectors);
  for (uint64_t s = 0; s < sectors; ++s) {
    INFO("sector " << s);
    REQUIRE(std::equal(disk.begin() + static_cast<std::ptrdiff_t>(s * kSector),
                       disk.begin() + static_cast<std::ptrdiff_t>((s + 1) * kSector),
                       w.shadow().begin() + static_cast<std::ptrdiff_t>(s * kSector)));
  }
}

}  // namespace

TEST_CASE("blk.integrity: random requests on a RAM disk, direct descriptors", "[blk][BLK-4][BLK-5][DMA-1][DMA-2]") {
  const uint64_t seed = seed_for(20261125);
  CAPTURE(seed);
  constexpr uint64_t kSectors = 2048;
  BlkRig rig({.disk_sectors = kSectors});
  Workload w(rig, seed, kSectors, {});
  w.run();
  check_disk_equals_shadow(rig, w, kSectors);
  CHECK(w.completed() >= 3000);
}

TEST_CASE("blk.integrity: random requests, indirect tables and many segments", "[blk][BLK-4][VQ-4]") {
  const uint64_t seed = seed_for(7);
  CAPTURE(seed);
  constexpr uint64_t kSectors = 4096;
  BlkRig rig({.disk_sectors = kSectors, .device = {.seg_max = 64}, .indirect_max = 66});
  Workload w(rig, seed, kSectors, {.requests = 2000, .max_sectors = 128, .max_segments = 64, .max_batch = 24, .indirect = true});
  w.run();
  check_disk_equals_shadow(rig, w, kSectors);
}

TEST_CASE("blk.integrity: random requests completing out of order", "[blk][VQ-5][BLK-7]") {
  const uint64_t seed = seed_for(99);
  CAPTURE(seed);
  constexpr uint64_t kSectors = 2048;
  backends::RamDisk ram(kSectors);
  backends::FaultyDisk slow(ram, {.seed = seed, .write_cache = false, .min_delay = 0, .max_delay = 6});
  BlkRig rig({.backend = &slow, .indirect_max = 10});
  Workload w(rig, seed, kSectors, {.requests = 2000, .indirect = true});
  w.run();
  check_disk_equals_shadow(rig, w, kSectors);
  CHECK(w.out_of_order() > 0);
}

TEST_CASE("blk.integrity: after a crash the disk holds what FLUSH promised", "[blk][BLK-8]") {
  const uint64_t seed = seed_for(4242);
  CAPTURE(seed);
  constexpr uint64_t kSectors = 512;
  for (int run = 0; run < 5; ++run) {
    CAPTURE(run);
    backends::RamDisk ram(kSectors);
    backends::FaultyDisk cache(ram, {.seed = seed + run, .min_delay = 0, .max_delay = 4});
    BlkRig rig({.backend = &cache, .indirect_max = 10});
    Workload w(rig, seed + run, kSectors,
               {.requests = 300 + 100 * run, .max_sectors = 16, .flush_percent = 15, .indirect = true,
                .track_durability = true});
    w.run();
    check_disk_equals_shadow(rig, w, kSectors);  // before the crash: everything
    cache.crash();
    cache.restart();
    std::string why;
    const bool ok = w.durable_ok(rig.disk_bytes(0, kSectors), why);
    INFO(why);
    CHECK(ok);
  }
}

TEST_CASE("blk.integrity: random requests on a file-backed disk", "[blk][BLK-8]") {
  const uint64_t seed = seed_for(31337);
  CAPTURE(seed);
  constexpr uint64_t kSectors = 1024;
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/aerov-blk-XXXXXX";
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const std::string path = dir + "/disk.img";
  {
    backends::FileDiskOpen o = backends::FileDisk::open(path, {.create = true, .resize_sectors = kSectors});
    REQUIRE(o.disk != nullptr);
    BlkRig rig({.backend = o.disk.get()});
    Workload w(rig, seed, kSectors, {.requests = 1000});
    w.run();
    check_disk_equals_shadow(rig, w, kSectors);
    CHECK(o.disk->syncs() > 0);
  }
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}
