#include "model/backends/disk/file_disk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace aerov::model::backends {

FileDiskOpen FileDisk::open(const std::string& path, const FileDiskOptions& options) {
  const int flags = O_RDWR | O_CLOEXEC | (options.create ? O_CREAT : 0);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return {nullptr, errno};
  const auto fail = [fd] {
    const int e = errno;
    ::close(fd);
    return FileDiskOpen{nullptr, e};
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail();
  if (options.resize_sectors != 0 && S_ISREG(st.st_mode)) {
    const uint64_t sectors = std::min(options.resize_sectors, kMaxSectors);
    if (sectors > static_cast<uint64_t>(INT64_MAX) / kSectorSize) {
      errno = EFBIG;
      return fail();
    }
    if (::ftruncate(fd, static_cast<off_t>(sectors * kSectorSize)) != 0) return fail();
  }
  // SEEK_END gives the size of regular files and block devices alike.
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return fail();
  return {std::unique_ptr<FileDisk>(new FileDisk(fd, static_cast<uint64_t>(end) / kSectorSize)), 0};
}

FileDisk::~FileDisk() { ::close(fd_); }

DiskStatus FileDisk::read(uint64_t sector, std::span<const DiskBuffer> buffers) {
  uint64_t pos = sector * kSectorSize;
  for (const DiskBuffer& b : buffers) {
    size_t done = 0;
    while (done < b.len) {
      const ssize_t n = ::pread(fd_, b.data + done, b.len - done, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // 0: the file shrank under us
        last_error_ = n < 0 ? errno : EIO;
        return DiskStatus::kIoError;
      }
      done += static_cast<size_t>(n);
      pos += static_cast<uint64_t>(n);
    }
  }
  return DiskStatus::kOk;
}

DiskStatus FileDisk::write(uint64_t sector, std::span<const DiskBuffer> buffers) {
  uint64_t pos = sector * kSectorSize;
  for (const DiskBuffer& b : buffers) {
    size_t done = 0;
    while (done < b.len) {
      const ssize_t n = ::pwrite(fd_, b.data + done, b.len - done, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        last_error_ = n < 0 ? errno : EIO;
        return DiskStatus::kIoError;
      }
      done += static_cast<size_t>(n);
      pos += static_cast<uint64_t>(n);
    }
  }
  return DiskStatus::kOk;
}

DiskStatus FileDisk::flush() {
  if (flush_failed_) return DiskStatus::kIoError;
  int rc;
  do {
    rc = ::fdatasync(fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    last_error_ = errno;
    flush_failed_ = true;
    return DiskStatus::kIoError;
  }
  ++syncs_;
  return DiskStatus::kOk;
}

}  // namespace aerov::model::backends
