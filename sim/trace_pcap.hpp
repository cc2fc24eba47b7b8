// Net payloads of a recorded run as a pcap capture (Wireshark, tcpdump):
// every frame the device handed its peer (host_output, channel kSent) and
// every frame the peer delivered to the device (host_input, channel
// kFrame), in trace order. Timestamps are the events' virtual time at a
// nominal 1 GHz (1,000 cycles = 1 microsecond); nothing reads the clock.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/trace_reader.hpp"

namespace aerov::sim {

struct PcapExport {
  std::vector<uint8_t> bytes;  // the capture file
  uint64_t sent = 0;           // frames the device sent
  uint64_t received = 0;       // frames the peer delivered
};

PcapExport export_pcap(const traces::Trace& trace);

}  // namespace aerov::sim
