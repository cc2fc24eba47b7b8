// Classic libpcap capture files (magic 0xa1b2c3d4, version 2.4, microsecond
// timestamps, LINKTYPE_ETHERNET) and a tap that records every frame crossing
// any NetBackend.
//
// Timestamps come from a caller-supplied virtual clock, never the wall
// clock, so a capture of a deterministic run is byte-for-byte reproducible.
// The capture is kept in memory and is bounded: once a record would take it
// past max_bytes the record is dropped and counted (write_file() saves what
// was kept). Integers are written little-endian whatever the host, which is
// what the magic number tells readers.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/backends/net/net_backend.hpp"

namespace aerov::model::backends {

// Virtual time in microseconds since the start of the run.
using VirtualClock = std::function<uint64_t()>;

class PcapWriter {
 public:
  static constexpr uint32_t kMagic = 0xa1b2c3d4;
  static constexpr uint16_t kVersionMajor = 2;
  static constexpr uint16_t kVersionMinor = 4;
  static constexpr uint32_t kLinkTypeEthernet = 1;
  static constexpr uint32_t kSnapLen = 65535;
  static constexpr size_t kGlobalHeaderBytes = 24;
  static constexpr size_t kRecordHeaderBytes = 16;
  static constexpr uint64_t kDefaultMaxBytes = 64ull << 20;

  explicit PcapWriter(VirtualClock clock, uint64_t max_bytes = kDefaultMaxBytes);

  // Appends one record stamped with clock(); frames longer than the snap
  // length are truncated in the record (orig_len keeps the real length).
  void record(std::span<const uint8_t> frame);

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  uint64_t records() const { return records_; }
  uint64_t dropped() const { return dropped_; }
  // Writes the capture to `path`; false on any I/O error.
  bool write_file(const std::string& path) const;

 private:
  void put32(uint32_t v);
  void put16(uint16_t v);

  VirtualClock clock_;
  uint64_t max_bytes_;
  std::vector<uint8_t> bytes_;
  uint64_t records_ = 0;
  uint64_t dropped_ = 0;
};

// A NetBackend in front of another one: every frame the guest transmits and
// every frame delivered to the guest is recorded, in the order it crosses.
class PcapTap final : public NetBackend, private NetPort {
 public:
  PcapTap(NetBackend& inner, PcapWriter& writer) : inner_(inner), writer_(writer) {}
  ~PcapTap() override { inner_.attach(nullptr); }
  PcapTap(const PcapTap&) = delete;
  PcapTap& operator=(const PcapTap&) = delete;

  void attach(NetPort* port) override {
    port_ = port;
    inner_.attach(port != nullptr ? static_cast<NetPort*>(this) : nullptr);
  }
  void transmit(std::span<const uint8_t> frame) override {
    writer_.record(frame);
    inner_.transmit(frame);
  }

 private:
  void receive_frame(std::span<const uint8_t> frame) override {
    writer_.record(frame);
    if (port_ != nullptr) port_->receive_frame(frame);
  }

  NetBackend& inner_;
  PcapWriter& writer_;
  NetPort* port_ = nullptr;
};

}  // namespace aerov::model::backends
