// Records a simulation run as a trace (docs/trace-format.md): everything
// that crosses the boundary between the driver side and device 0.
//
//   * Driver side: the core's config and BAR accesses (reads with the value
//     the device answered), guest memory the driver changed (mem_write,
//     found before every write access, doorbell and host action by
//     comparing with a shadow the ranges guest memory's dirty log names and
//     the core's DMA memory), the moments the device looks at a queue
//     (doorbell), and the host's actions on the device (host_input).
//   * Device side: interrupts (intx), guest memory the device changed
//     (dma_write: the logged pages, compared after every write access and
//     doorbell; all watched memory before each state hash, so a write the
//     device did not log shows up), frames or audio it hands the host
//     (host_output), and every 1024 events a hash of the watched memory
//     (state_hash).
//
// Device events caused by an access are written after the access, so a
// replay that performs the access sees them in the recorded order. DMA
// reads are not recorded: the replay's memory equals the recording's at
// every doorbell, so the device reads the same bytes.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "drivers/windows7/common/os_services.hpp"
#include "sim/memory_shadow.hpp"
#include "traces/trace_writer.hpp"

namespace aerov::sim {

class SimMachine;

class Recorder {
 public:
  // The run's used RAM (CoreMachine::used_ranges()) is watched from now on.
  Recorder(SimMachine& machine, const std::string& path, const traces::Provenance& provenance);
  ~Recorder();

  // What the driver core must use instead of the machine's OsServices.
  drivers::windows7::OsServices& os();

  void doorbell_begin(uint16_t queue);
  void doorbell_end();
  void intx(bool level);
  void msi(uint64_t address, uint32_t data);
  void host_input(uint16_t channel, std::span<const uint8_t> bytes);
  void host_output(uint16_t channel, std::span<const uint8_t> bytes);
  // Writes the end record; the trace is complete only after this.
  void finish();

 private:
  class Os;
  friend class Os;
  void driver_changes();
  void device_changes();
  void device_event(traces::Event event);
  void flush_pending();
  uint64_t now() const;

  SimMachine& m_;
  traces::TraceWriter writer_;
  MemoryShadow shadow_;
  std::vector<model::GuestMemory::Span> spans_;  // the dirty log, storage reused
  std::unique_ptr<Os> os_;
  int in_access_ = 0;
  std::vector<traces::Event> pending_;
};

}  // namespace aerov::sim
