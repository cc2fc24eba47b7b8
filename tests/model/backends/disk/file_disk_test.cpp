// FileDisk: a POSIX file as a disk. Data reaches the file with pwrite,
// FLUSH is fdatasync (BLK-8), capacity is the file size in whole sectors.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/backends/disk/file_disk.hpp"

using namespace aerov::model::backends;

namespace {

// A private directory removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                       "/aerov-file-disk-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed ^ (i * 7 + i / 512));
  return v;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::vector<uint8_t> out;
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  uint8_t buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("disk.file: create, size, write, read back, reopen", "[disk]") {
  TempDir dir;
  const std::string path = dir.file("disk.img");
  const auto data = pattern(3 * 512, 0x42);
  {
    FileDiskOpen o = FileDisk::open(path, {.create = true, .resize_sectors = 64});
    REQUIRE(o.disk != nullptr);
    CHECK(o.error == 0);
    CHECK(o.disk->sector_count() == 64);
    REQUIRE(write_sync(*o.disk, 61, data) == DiskStatus::kOk);
    std::vector<uint8_t> back(data.size());
    REQUIRE(read_sync(*o.disk, 61, back) == DiskStatus::kOk);
    CHECK(back == data);
    CHECK(write_sync(*o.disk, 62, data) == DiskStatus::kOutOfRange);
  }
  const auto file = read_file(path);
  REQUIRE(file.size() == 64 * 512);
  CHECK(std::equal(data.begin(), data.end(), file.begin() + 61 * 512));
  FileDiskOpen again = FileDisk::open(path);
  REQUIRE(again.disk != nullptr);
  CHECK(again.disk->sector_count() == 64);
  std::vector<uint8_t> back(data.size());
  REQUIRE(read_sync(*again.disk, 61, back) == DiskStatus::kOk);
  CHECK(back == data);
}

TEST_CASE("disk.file: FLUSH is fdatasync and the data is in the file", "[disk][BLK-8]") {
  TempDir dir;
  const std::string path = dir.file("flush.img");
  FileDiskOpen o = FileDisk::open(path, {.create = true, .resize_sectors = 8});
  REQUIRE(o.disk != nullptr);
  const auto data = pattern(512, 9);
  REQUIRE(write_sync(*o.disk, 2, data) == DiskStatus::kOk);
  CHECK(o.disk->syncs() == 0);  // a completed write is not a durable one
  REQUIRE(flush_sync(*o.disk) == DiskStatus::kOk);
  CHECK(o.disk->syncs() == 1);
  CHECK_FALSE(o.disk->flush_failed());
  const auto file = read_file(path);
  CHECK(std::equal(data.begin(), data.end(), file.begin() + 2 * 512));
}

TEST_CASE("disk.file: a trailing partial sector is not addressable", "[disk]") {
  TempDir dir;
  const std::string path = dir.file("odd.img");
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, 5 * 512 + 100) == 0);
  ::close(fd);
  FileDiskOpen o = FileDisk::open(path);
  REQUIRE(o.disk != nullptr);
  CHECK(o.disk->sector_count() == 5);
}

TEST_CASE("disk.file: open failures are values", "[disk]") {
  TempDir dir;
  FileDiskOpen missing = FileDisk::open(dir.file("missing.img"));
  CHECK(missing.disk == nullptr);
  CHECK(missing.error == ENOENT);
}

TEST_CASE("disk.file: scatter-gather and completion through poll", "[disk]") {
  TempDir dir;
  FileDiskOpen o = FileDisk::open(dir.file("sg.img"), {.create = true, .resize_sectors = 16});
  REQUIRE(o.disk != nullptr);
  auto data = pattern(1024, 3);
  const DiskBuffer pieces[] = {{data.data(), 3}, {data.data() + 3, 1021}};
  o.disk->submit({7, DiskOp::kWrite, 4, pieces});
  CHECK(o.disk->in_flight() == 1);
  std::vector<DiskCompletion> done;
  REQUIRE(o.disk->poll(done) == 1);
  CHECK((done[0].tag == 7 && done[0].status == DiskStatus::kOk));
  std::vector<uint8_t> back(1024);
  REQUIRE(read_sync(*o.disk, 4, back) == DiskStatus::kOk);
  CHECK(back == data);
}

TEST_CASE("disk.file: more pieces than one preadv/pwritev takes, odd lengths, zero-length pieces", "[disk]") {
  TempDir dir;
  FileDiskOpen o = FileDisk::open(dir.file("iov.img"), {.create = true, .resize_sectors = 4096});
  REQUIRE(o.disk != nullptr);
  // 1500 pieces (IOV_MAX is 1024 on Linux) of 1..255 bytes plus empty ones,
  // padded to whole sectors.
  std::vector<size_t> lengths;
  size_t total = 0;
  for (size_t i = 0; i < 1500; ++i) {
    lengths.push_back(i % 7 == 0 ? 0 : 1 + (i * 37) % 255);
    total += lengths.back();
  }
  lengths.push_back(512 - total % 512);
  total += lengths.back();
  auto data = pattern(total, 9);
  std::vector<DiskBuffer> pieces;
  size_t at = 0;
  for (size_t len : lengths) {
    pieces.push_back({data.data() + at, len});
    at += len;
  }
  o.disk->submit({1, DiskOp::kWrite, 8, pieces});
  std::vector<DiskCompletion> done;
  REQUIRE(o.disk->poll(done) == 1);
  REQUIRE(done[0].status == DiskStatus::kOk);
  // Read back through the same odd pieces into a fresh buffer.
  std::vector<uint8_t> back(total, 0xee);
  at = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    pieces[i].data = back.data() + at;
    at += lengths[i];
  }
  done.clear();
  o.disk->submit({2, DiskOp::kRead, 8, pieces});
  REQUIRE(o.disk->poll(done) == 1);
  REQUIRE(done[0].status == DiskStatus::kOk);
  CHECK(back == data);
}
