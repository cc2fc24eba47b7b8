// FLUSH (BLK-8): durability against a crash of a volatile cache, the write
// barrier, file-backed fdatasync, failing flushes and torn writes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/file_disk.hpp"
#include "model/devices/blk/testing/blk_rig.hpp"
#include "model/devices/blk/testing/blk_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace vq = aerov::virtqueue;
namespace blk = aerov::model::devices::blk;

namespace {

std::vector<uint8_t> bytes_of(uint8_t b, size_t n) { return std::vector<uint8_t>(n, b); }

// Requests that complete in the order they are reaped, polling as needed.
std::vector<std::pair<uint16_t, BlkResult>> reap_all(BlkRig& rig, size_t want) {
  std::vector<std::pair<uint16_t, BlkResult>> all;
  for (int round = 0; round < 200 && all.size() < want; ++round) {
    for (auto& d : rig.reap()) all.push_back(d);
    if (all.size() < want) rig.function->process_queue(0);
  }
  return all;
}

std::vector<uint16_t> slots_of(const std::vector<std::pair<uint16_t, BlkResult>>& done) {
  std::vector<uint16_t> s;
  for (const auto& d : done) s.push_back(d.first);
  return s;
}

}  // namespace

TEST_CASE("blk.flush: completed FLUSH makes earlier OUTs durable - it waits for OUTs in flight",
          "[blk][BLK-8]") {
  AEROV_CHECK_SCENARIO(check_flush_durability());
}

TEST_CASE("blk.flush: a FLUSH is held only by earlier OUTs, not by INs or later OUTs",
          "[blk][BLK-8]") {
  backends::RamDisk ram(256);
  backends::FaultyDisk cache(ram);
  BlkRig rig({.backend = &cache});
  const vq::Segment in_seg{BlkRig::kDataGpa, 512, true};
  const vq::Segment out1{BlkRig::kDataGpa + 0x1000, 512, false};
  const vq::Segment out2{BlkRig::kDataGpa + 0x2000, 512, false};

  cache.set_delay(10, 10);
  rig.submit(0, blk::kTypeIn, 1, {&in_seg, 1});  // slow IN
  rig.kick();
  cache.set_delay(0, 0);
  rig.submit(1, blk::kTypeFlush, 0, {});
  rig.kick();
  auto done = reap_all(rig, 2);
  CHECK(slots_of(done) == std::vector<uint16_t>{1, 0});  // the FLUSH did not wait for the IN
  CHECK(rig.device->stats().flushes_deferred == 0);

  cache.set_delay(10, 10);
  rig.submit(2, blk::kTypeOut, 2, {&out1, 1});  // slow OUT before the FLUSH
  rig.kick();
  cache.set_delay(0, 0);
  rig.submit(3, blk::kTypeFlush, 0, {});
  rig.kick();
  rig.submit(4, blk::kTypeOut, 3, {&out2, 1});  // quick OUT after it
  rig.kick();
  done = reap_all(rig, 3);
  CHECK(slots_of(done) == std::vector<uint16_t>{4, 2, 3});
  CHECK(rig.device->stats().flushes_deferred == 1);
  for (const auto& d : done) CHECK(d.second.status == blk::kStatusOk);
}

TEST_CASE("blk.flush: several FLUSHes waiting on the same OUT all complete after it",
          "[blk][BLK-8]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk cache(ram);
  BlkRig rig({.backend = &cache});
  rig.poke(BlkRig::kDataGpa, bytes_of(0x42, 512));
  const vq::Segment out{BlkRig::kDataGpa, 512, false};
  cache.set_delay(7, 7);
  rig.submit(0, blk::kTypeOut, 5, {&out, 1});
  rig.kick();
  cache.set_delay(0, 0);
  rig.submit(1, blk::kTypeFlush, 0, {});
  rig.submit(2, blk::kTypeFlush, 0, {});
  rig.kick();
  const auto done = reap_all(rig, 3);
  REQUIRE(done.size() == 3);
  CHECK(done[0].first == 0);
  CHECK(rig.device->in_flight() == 0);
  cache.crash();
  cache.restart();
  CHECK(rig.disk_bytes(5, 1) == bytes_of(0x42, 512));
}

TEST_CASE("blk.flush: a backend that cannot flush answers IOERR", "[blk][BLK-8]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk cache(ram);
  BlkRig rig({.backend = &cache});
  cache.set_fail_flushes(true);
  CHECK(rig.flush() == blk::kStatusIoErr);
  cache.set_fail_flushes(false);
  CHECK(rig.flush() == blk::kStatusOk);
}

TEST_CASE("blk.flush: a torn write through the device keeps only a prefix", "[blk][BLK-8]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk cache(ram);
  BlkRig rig({.backend = &cache});
  rig.poke(BlkRig::kDataGpa, bytes_of(0x11, 8 * 512));
  REQUIRE(rig.write(0, BlkRig::kDataGpa, 8 * 512) == blk::kStatusOk);
  REQUIRE(rig.flush() == blk::kStatusOk);
  rig.poke(BlkRig::kDataGpa, bytes_of(0x22, 8 * 512));
  cache.arm_torn_write(3);
  CHECK(rig.write(0, BlkRig::kDataGpa, 8 * 512) == blk::kStatusIoErr);
  cache.restart();
  const auto disk = rig.disk_bytes(0, 8);
  for (size_t s = 0; s < 8; ++s) {
    INFO("sector " << s);
    CHECK(disk[s * 512] == (s < 3 ? 0x22 : 0x11));
  }
  CHECK(rig.read(0, BlkRig::kDataGpa, 512) == blk::kStatusOk);  // still serving
}

TEST_CASE("blk.flush: a file-backed disk fdatasyncs on FLUSH", "[blk][BLK-8]") {
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/aerov-blk-XXXXXX";
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const std::string path = dir + "/disk.img";
  {
    backends::FileDiskOpen o = backends::FileDisk::open(path, {.create = true, .resize_sectors = 128});
    REQUIRE(o.disk != nullptr);
    BlkRig rig({.backend = o.disk.get()});
    CHECK(rig.device->capacity() == 128);
    rig.poke(BlkRig::kDataGpa, bytes_of(0x5A, 1024));
    CHECK(rig.write(100, BlkRig::kDataGpa, 1024) == blk::kStatusOk);
    CHECK(o.disk->syncs() == 0);
    CHECK(rig.flush() == blk::kStatusOk);
    CHECK(o.disk->syncs() == 1);
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::vector<uint8_t> file(1024);
    CHECK(::pread(fd, file.data(), file.size(), 100 * 512) == 1024);
    ::close(fd);
    CHECK(file == bytes_of(0x5A, 1024));
  }
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}
