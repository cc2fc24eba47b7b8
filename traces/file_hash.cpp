#include "traces/file_hash.hpp"

#include <new>
#include <stdexcept>
#include <string>
#include <xxhash.h>

#include "traces/trace_event.hpp"
#include "traces/trace_format.hpp"

namespace aerov::traces {

struct FileHash::Xxh3 {
  Xxh3() : state(XXH3_createState()) {
    if (state == nullptr) throw std::bad_alloc();
    XXH3_64bits_reset(state);
  }
  ~Xxh3() { XXH3_freeState(state); }
  XXH3_state_t* state;
};

namespace {

// True for major 1 (FNV-1a); false for the current major (XXH3).
bool fnv_major(uint16_t major) {
  if (major != kOldestMajor && major != kVersionMajor) {
    throw std::invalid_argument("no trace file hash for major version " + std::to_string(major));
  }
  return major == kOldestMajor;
}

}  // namespace

FileHash::FileHash(uint16_t major) : fnv_(kFnvOffset) {
  if (!fnv_major(major)) xxh3_ = std::make_unique<Xxh3>();
}

FileHash::~FileHash() = default;

void FileHash::add(std::span<const uint8_t> bytes) {
  if (xxh3_) {
    XXH3_64bits_update(xxh3_->state, bytes.data(), bytes.size());
  } else {
    fnv_ = fnv1a64(bytes, fnv_);
  }
}

uint64_t FileHash::value() const { return xxh3_ ? XXH3_64bits_digest(xxh3_->state) : fnv_; }

uint64_t FileHash::of(uint16_t major, std::span<const uint8_t> bytes) {
  return fnv_major(major) ? fnv1a64(bytes) : XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace aerov::traces
