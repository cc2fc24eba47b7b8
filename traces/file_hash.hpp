// The end record's hash over every byte of a trace before it. Major 1 uses
// FNV-1a 64, which is byte-serial (one multiply per byte: ~0.6 GB/s, the
// bound on reading v1 traces); major 2 uses XXH3-64 with seed 0 (the
// xxHash library), which reads at memory speed. Everything else about the
// two majors is the same (docs/trace-format.md).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace aerov::traces {

inline constexpr uint16_t kOldestMajor = 1;  // the oldest major a reader reads

class FileHash {
 public:
  // `major` is kOldestMajor or kVersionMajor.
  explicit FileHash(uint16_t major);
  ~FileHash();
  FileHash(const FileHash&) = delete;
  FileHash& operator=(const FileHash&) = delete;

  void add(std::span<const uint8_t> bytes);
  uint64_t value() const;

  // The hash of `bytes` in one step.
  static uint64_t of(uint16_t major, std::span<const uint8_t> bytes);

 private:
  struct Xxh3;
  uint64_t fnv_;
  std::unique_ptr<Xxh3> xxh3_;  // null for major 1
};

}  // namespace aerov::traces
