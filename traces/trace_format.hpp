// Wire constants, the provenance header and the low-level encoders shared by
// the writer and reader. The byte-level format is docs/trace-format.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aerov::traces {

inline constexpr std::array<uint8_t, 8> kMagic = {'A', 'E', 'R', 'O', 'V', 'T', 'R', 'C'};
inline constexpr uint16_t kVersionMajor = 2;  // 2: the end record hash is XXH3-64 (file_hash.hpp)
inline constexpr uint16_t kVersionMinor = 0;
// magic, major, minor, header length.
inline constexpr size_t kPreambleBytes = 8 + 2 + 2 + 4;
// The end record's payload: event count (u64) and file hash (u64).
inline constexpr uint32_t kEndPayloadBytes = 16;
// An unsigned LEB128 varint of a u64 takes at most 10 bytes.
inline constexpr size_t kVarintMaxBytes = 10;
// Writers should put a state_hash record at least every this many events.
inline constexpr uint64_t kDefaultStateHashInterval = 1024;

struct Device {
  uint8_t id = 0;
  std::string type;  // e.g. "virtio-blk"
  uint8_t bus = 0;
  uint8_t slot = 0;      // 0..31
  uint8_t function = 0;  // 0..7
  bool operator==(const Device&) const = default;
};

struct Provenance {
  uint64_t root_seed = 0;
  std::string scenario;
  std::string commit;
  std::string config_json;  // the run's configuration, a JSON document
  std::vector<Device> devices;
  bool operator==(const Provenance&) const = default;
};

// Little-endian and LEB128 encoders; they append to `out`.
void put_u8(std::vector<uint8_t>& out, uint8_t v);
void put_u16(std::vector<uint8_t>& out, uint16_t v);
void put_u32(std::vector<uint8_t>& out, uint32_t v);
void put_u64(std::vector<uint8_t>& out, uint64_t v);
void put_varint(std::vector<uint8_t>& out, uint64_t v);

enum class VarintStatus { kOk, kTruncated, kBad };
// Decodes the minimal unsigned LEB128 encoding of a u64 from [p, end).
// kBad: more than 10 bytes, bits beyond 64, or a non-minimal encoding (a
// trailing 0x00 group), so every value has exactly one encoding.
VarintStatus get_varint(const uint8_t* p, const uint8_t* end, uint64_t* value, size_t* used);

}  // namespace aerov::traces
