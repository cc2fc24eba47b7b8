// A small trace holding every v1 kind, shared by the trace tests.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/trace_event.hpp"
#include "traces/trace_format.hpp"
#include "traces/trace_writer.hpp"

namespace aerov::traces::testing {

inline Provenance sample_provenance() {
  Provenance p;
  p.root_seed = 20261125;
  p.scenario = "blk-smoke";
  p.commit = "225942e";
  p.config_json = R"({"disk_mib":16,"queues":1})";
  p.devices = {{0, "virtio-blk", 0, 3, 0}, {1, "virtio-net", 0, 4, 0}};
  return p;
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 7 * i);
  return b;
}

// One event of every v1 kind, in kind order, times non-decreasing.
inline std::vector<Event> every_kind() {
  const std::vector<uint8_t> small = {0xde, 0xad, 0xbe, 0xef};
  const std::vector<uint8_t> frame = pattern(60, 1);
  return {
      make::config_read(10, 0, 0x04, 2, 0x0006),
      make::config_write(12, 0, 0x04, 2, 0x0007),
      make::mmio_read(100, 0, 0, 0x14, 1, 0x0f),
      make::mmio_write(1234, 0, 0, 0x3000, 2, 0x1),
      make::doorbell(1234, 0, 0),
      make::mem_write(1300, 0x10000, small),
      make::dma_read_of(1400, 0, 0x10000, small),
      make::dma_write(1500, 0, 0x20000, pattern(512, 3)),
      make::intx(1600, 0, 1),
      make::msi(1700, 1, 0xfee00000, 0x4021),
      make::host_input(1800, 1, 0, frame),
      make::state_hash(1900, 0x0123456789abcdefull),
      make::note(2000, "boot \"done\"\n"),
      make::host_output(2100, 1, 0, frame),
  };
}

inline std::vector<uint8_t> sample_bytes() {
  return write_trace(sample_provenance(), every_kind());
}

}  // namespace aerov::traces::testing
