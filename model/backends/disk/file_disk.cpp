#include "model/backends/disk/file_disk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

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

// One preadv/pwritev per IOV_MAX pieces instead of one call per piece: a
// guest's request is typically one 4 KiB page per descriptor, so this is a
// syscall per request rather than per page. Short transfers resume where
// they stopped.
DiskStatus FileDisk::transfer(bool write, uint64_t sector, std::span<const DiskBuffer> buffers) {
  uint64_t pos = sector * kSectorSize;
  iov_.clear();
  for (const DiskBuffer& b : buffers) {
    if (b.len != 0) iov_.push_back(iovec{b.data, b.len});
  }
  size_t first = 0;
  while (first < iov_.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov_.size() - first, IOV_MAX));
    const ssize_t n = write ? ::pwritev(fd_, &iov_[first], count, static_cast<off_t>(pos))
                            : ::preadv(fd_, &iov_[first], count, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // 0: the file shrank under us
      last_error_ = n < 0 ? errno : EIO;
      return DiskStatus::kIoError;
    }
    pos += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (left != 0 && first < iov_.size()) {
      iovec& v = iov_[first];
      const size_t take = std::min(left, v.iov_len);
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + take;
      v.iov_len -= take;
      left -= take;
      if (v.iov_len == 0) ++first;
    }
  }
  return DiskStatus::kOk;
}

DiskStatus FileDisk::read(uint64_t sector, std::span<const DiskBuffer> buffers) {
  return transfer(false, sector, buffers);
}

DiskStatus FileDisk::write(uint64_t sector, std::span<const DiskBuffer> buffers) {
  return transfer(true, sector, buffers);
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
