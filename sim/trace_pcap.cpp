#include "sim/trace_pcap.hpp"

#include "model/backends/net/pcap.hpp"
#include "sim/trace_channels.hpp"

namespace aerov::sim {

PcapExport export_pcap(const traces::Trace& trace) {
  PcapExport out;
  uint64_t now_us = 0;
  model::backends::PcapWriter pcap([&now_us] { return now_us; });
  for (const auto& e : trace.events) {
    if (e.undescribed) continue;
    const auto k = e.event_kind();
    const bool sent = k == traces::EventKind::kHostOutput && e.u(1) == channel::kSent;
    const bool received = k == traces::EventKind::kHostInput && e.u(1) == channel::kFrame;
    if (!sent && !received) continue;
    now_us = e.time_cycles / 1000;
    pcap.record(e.data(2));
    ++(sent ? out.sent : out.received);
  }
  out.bytes = pcap.bytes();
  return out;
}

}  // namespace aerov::sim
