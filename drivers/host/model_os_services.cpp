#include "drivers/host/model_os_services.hpp"

#include <algorithm>

namespace aerov::drivers::host {

bool ModelOsServices::alloc_dma(uint32_t bytes, uint32_t alignment, windows7::DmaRegion* out) {
  if (out == nullptr || bytes == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > 4096) {
    return false;
  }
  if (allocations_left_ == 0) return false;
  const uint64_t start = (window_gpa_ + used_ + alignment - 1) & ~uint64_t{alignment - 1};
  if (start + bytes > window_gpa_ + window_bytes_) return false;
  uint8_t* host = memory_.translate(start, bytes);
  if (host == nullptr) return false;
  // Like a fresh uncached extension: zeroed. The host pointer has the same
  // alignment as the gpa because guest RAM regions are page-aligned
  // mappings of page-aligned host memory.
  std::fill(host, host + bytes, uint8_t{0});
  if (allocations_left_ > 0) --allocations_left_;
  used_ = start + bytes - window_gpa_;
  allocations_.push_back(DmaAllocation{start, bytes, alignment});
  *out = windows7::DmaRegion{host, start};
  return true;
}

void ModelOsServices::log(windows7::LogLevel level, const char* message, const uint64_t* args,
                          uint8_t num_args) {
  LogEntry e{level, message != nullptr ? message : "", {}};
  const uint8_t n = num_args < kMaxLogArgs ? num_args : kMaxLogArgs;
  if (args != nullptr) e.args.assign(args, args + n);
  log_.push_back(std::move(e));
}

bool ModelOsServices::logged(const std::string& substring) const {
  for (const auto& e : log_) {
    if (e.message.find(substring) != std::string::npos) return true;
  }
  return false;
}

}  // namespace aerov::drivers::host
