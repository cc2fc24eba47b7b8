// A disk backed by a regular file or a raw image / block device, through
// POSIX pread/pwrite. Capacity is the file's size at open, in whole sectors
// (a trailing partial sector is not addressable).
//
// Durability statement (BLK-8). Every request finishes inside submit():
//   * A write has completed once pwrite has handed all of its bytes to the
//     kernel. That is not durable: it may sit in the page cache.
//   * A FLUSH calls fdatasync(2) on the file. When it completes kOk, every
//     write that completed before the FLUSH was submitted, and the metadata
//     needed to read it back (such as the file size), is on stable storage
//     as far as the kernel, the filesystem and the device honour cache
//     flushes. FileDisk cannot promise more than fdatasync does: on a device
//     or filesystem that acknowledges flushes it has not performed (some
//     consumer drives, some network or FUSE filesystems, tmpfs which is
//     never durable), data can still be lost. This is the exception BLK-8
//     allows, and the ordering still holds.
//   * If fdatasync fails once, the kernel may already have discarded the
//     dirty pages it could not write back, so a later successful fdatasync
//     would prove nothing. FileDisk therefore fails that FLUSH and every
//     later one with kIoError (sticky) until the file is opened again.
#pragma once

#include <memory>
#include <string>
#include <sys/uio.h>
#include <vector>

#include "model/backends/disk/synchronous_disk.hpp"

namespace aerov::model::backends {

struct FileDiskOptions {
  bool create = false;          // create the file if it does not exist
  uint64_t resize_sectors = 0;  // regular files: set the size to this first (0: keep)
};

class FileDisk;

struct FileDiskOpen {
  std::unique_ptr<FileDisk> disk;  // null on failure
  int error = 0;                   // errno of the failing call
};

class FileDisk final : public SynchronousDisk {
 public:
  static FileDiskOpen open(const std::string& path, const FileDiskOptions& options = {});

  ~FileDisk() override;
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;

  uint64_t sector_count() const override { return sectors_; }

  uint64_t syncs() const { return syncs_; }             // successful fdatasync calls
  bool flush_failed() const { return flush_failed_; }  // the sticky error above
  int last_error() const { return last_error_; }       // errno of the last failure

 protected:
  DiskStatus read(uint64_t sector, std::span<const DiskBuffer> buffers) override;
  DiskStatus write(uint64_t sector, std::span<const DiskBuffer> buffers) override;
  DiskStatus flush() override;

 private:
  FileDisk(int fd, uint64_t sectors) : fd_(fd), sectors_(sectors) {}
  DiskStatus transfer(bool write, uint64_t sector, std::span<const DiskBuffer> buffers);

  int fd_;
  uint64_t sectors_;
  uint64_t syncs_ = 0;
  bool flush_failed_ = false;
  int last_error_ = 0;
  std::vector<iovec> iov_;  // reused by every transfer
};

}  // namespace aerov::model::backends
