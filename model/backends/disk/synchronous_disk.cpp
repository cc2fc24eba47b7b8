#include "model/backends/disk/synchronous_disk.hpp"

namespace aerov::model::backends {

void SynchronousDisk::submit(const DiskRequest& r) {
  DiskStatus status = DiskStatus::kOutOfRange;
  if (r.op == DiskOp::kFlush) {
    if (r.buffers.empty()) status = flush();
  } else if (valid_range(sector_count(), r.sector, total_bytes(r.buffers))) {
    status = r.op == DiskOp::kRead ? read(r.sector, r.buffers) : write(r.sector, r.buffers);
  }
  ready_.push_back(DiskCompletion{r.tag, status});
}

size_t SynchronousDisk::poll(std::vector<DiskCompletion>& out) {
  const size_t n = ready_.size();
  out.insert(out.end(), ready_.begin(), ready_.end());
  ready_.clear();
  return n;
}

}  // namespace aerov::model::backends
