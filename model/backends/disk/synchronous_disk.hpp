// Base for backends that finish a request inside submit() (RAM, POSIX file):
// the work is done at once and only the completion waits for poll(), so the
// asynchronous interface costs them nothing and their users are still
// written for out-of-order completion.
#pragma once

#include <vector>

#include "model/backends/disk/disk_backend.hpp"

namespace aerov::model::backends {

class SynchronousDisk : public DiskBackend {
 public:
  void submit(const DiskRequest& request) final;
  size_t poll(std::vector<DiskCompletion>& out) final;
  void drain() final {}
  size_t in_flight() const final { return ready_.size(); }

 protected:
  // Called with a request already checked by valid_range (reads and writes)
  // or carrying no buffers (flush).
  virtual DiskStatus read(uint64_t sector, std::span<const DiskBuffer> buffers) = 0;
  virtual DiskStatus write(uint64_t sector, std::span<const DiskBuffer> buffers) = 0;
  virtual DiskStatus flush() = 0;

 private:
  std::vector<DiskCompletion> ready_;
};

}  // namespace aerov::model::backends
