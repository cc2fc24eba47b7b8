#include "model/backends/net/pcap.hpp"

#include <algorithm>
#include <cstdio>

namespace aerov::model::backends {

PcapWriter::PcapWriter(VirtualClock clock, uint64_t max_bytes)
    : clock_(std::move(clock)), max_bytes_(std::max<uint64_t>(max_bytes, kGlobalHeaderBytes)) {
  put32(kMagic);
  put16(kVersionMajor);
  put16(kVersionMinor);
  put32(0);  // thiszone: timestamps are the virtual clock's, no zone
  put32(0);  // sigfigs
  put32(kSnapLen);
  put32(kLinkTypeEthernet);
}

void PcapWriter::put32(uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PcapWriter::put16(uint16_t v) {
  bytes_.push_back(static_cast<uint8_t>(v));
  bytes_.push_back(static_cast<uint8_t>(v >> 8));
}

void PcapWriter::record(std::span<const uint8_t> frame) {
  const auto incl = static_cast<uint32_t>(std::min<size_t>(frame.size(), kSnapLen));
  if (bytes_.size() + kRecordHeaderBytes + incl > max_bytes_) {
    ++dropped_;
    return;
  }
  const uint64_t us = clock_ ? clock_() : 0;
  put32(static_cast<uint32_t>(us / 1'000'000));
  put32(static_cast<uint32_t>(us % 1'000'000));
  put32(incl);
  put32(static_cast<uint32_t>(std::min<size_t>(frame.size(), UINT32_MAX)));
  bytes_.insert(bytes_.end(), frame.begin(), frame.begin() + incl);
  ++records_;
}

bool PcapWriter::write_file(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes_.data(), 1, bytes_.size(), f) == bytes_.size();
  return (std::fclose(f) == 0) && ok;
}

}  // namespace aerov::model::backends
