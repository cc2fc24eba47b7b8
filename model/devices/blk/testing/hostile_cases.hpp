// The virtio-blk hostile-guest table: one malformed (or deliberately odd but
// valid) request per case, built descriptor by descriptor in a raw ring and
// sent through the real transport. tests/model/devices/blk runs every case
// as a Catch2 section and the conformance suite registers each as a check,
// so the two cannot drift apart.
//
// For every case run_hostile_case() checks: the chain completes (used.id is
// its head, used.len is 0, BLK-7); the status byte is exactly the expected
// one, or untouched when the request has no status place; a request that
// does not succeed reads and writes no data (guest buffers and disk keep
// their patterns, BLK-6); a successful IN/OUT moved exactly the right bytes;
// and a valid OUT followed by an IN still works afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "model/devices/blk/testing/blk_rig.hpp"

namespace aerov::model::devices::testing {

enum class Expect : uint8_t { kOk, kIoErr, kUnsupp, kNoStatus };

// Builds a case's buffers in a raw-ring rig and remembers what it made.
class HostileEnv {
 public:
  static constexpr uint8_t kGuestPattern = 0xA5;

  explicit HostileEnv(BlkRig& rig) : rig_(rig) {}

  // A header of `len` bytes ({type, ioprio, sector}, truncated or
  // zero-padded), low or above 4 GiB.
  uint64_t header(uint32_t type, uint64_t sector, uint32_t len = 16, bool high = false,
                  uint32_t ioprio = 0);
  // A status place of `len` bytes holding BlkRig::kStatusUnwritten; the
  // case's status byte is the first byte of the last one made.
  uint64_t status(uint32_t len = 1, bool high = false);
  // A data buffer filled with kGuestPattern, low or above 4 GiB.
  uint64_t buffer(uint32_t len, bool high = false);
  // Records the request a successful case should have carried out.
  void expect_transfer(uint32_t type, uint64_t sector) {
    transfer_type_ = type;
    transfer_sector_ = sector;
  }

  BlkRig& rig() { return rig_; }
  // Rings the doorbell for a chain of descriptors starting at index 0.
  void send(std::initializer_list<RawDesc> descs) { rig_.raw_chain(descs); }

  struct Buffer {
    uint64_t gpa;
    uint32_t len;
  };
  const std::vector<Buffer>& buffers() const { return buffers_; }
  uint64_t status_gpa() const { return status_gpa_; }
  uint32_t transfer_type() const { return transfer_type_; }
  uint64_t transfer_sector() const { return transfer_sector_; }

 private:
  BlkRig& rig_;
  std::vector<Buffer> buffers_;
  uint64_t status_gpa_ = 0;
  uint64_t alloc(uint64_t len, bool high);

  uint64_t next_high_ = BlkRig::kHighRam + 0x10000;
  uint32_t transfer_type_ = UINT32_MAX;  // none
  uint64_t transfer_sector_ = 0;
};

struct HostileCase {
  std::string name;                 // "in-past-capacity"
  std::vector<std::string> rules;   // contract rule IDs it exercises
  Expect expect;
  std::function<void(HostileEnv&)> build;  // writes descriptors and rings the doorbell
  uint32_t seg_max = 126;
  bool negotiate_indirect = true;
};

inline constexpr uint64_t kHostileDiskSectors = 4096;

std::vector<HostileCase> hostile_cases();

// Runs one case on a fresh rig; returns "" on success, else what went wrong.
std::string run_hostile_case(const HostileCase& c);

}  // namespace aerov::model::devices::testing
