// A one-sound-card CoreMachine for the Windows 7 snd core tests: the real
// virtio-snd device model (an in-memory sink, a capture source) and an
// SndCore. Time passes only through advance(), which lets the device
// consume frames and then services the interrupts it raised. A test can
// make the device ignore controlq doorbells (a device that never answers).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/snd_core.hpp"
#include "model/backends/audio/audio_backend.hpp"
#include "model/devices/snd/snd_device.hpp"

namespace aerov::drivers::testing {

namespace w7 = windows7;
using host::testing::CoreMachine;

struct SndMachineOptions {
  model::backends::CaptureSource* source = nullptr;  // kept alive by the caller
  bool init = true;
  uint16_t msix_vectors = 0;    // MSI-X table size of the function (0: none)
  uint16_t grant_messages = 0;  // messages the platform grants the driver
};

// A cyclic buffer the "OS" gives a stream.
struct CyclicBuffer {
  w7::DmaRegion region{};
  uint32_t bytes = 0;
};

class SndMachine : public CoreMachine {
 public:
  explicit SndMachine(const SndMachineOptions& options = {});
  ~SndMachine();

  w7::SndError init();
  CyclicBuffer make_buffer(uint32_t bytes);
  // `frames` of stream time pass, then interrupts are serviced.
  void advance(uint64_t frames);
  // Runs interrupts (INTx and MSI-X messages) until nothing is pending.
  void service(int max_rounds = 10000);

  // controlq doorbells are dropped while set.
  void mute_control(bool on) { mute_control_ = on; }

  model::backends::MemorySink sink;
  std::unique_ptr<model::devices::SndDevice> device;
  w7::SndCore core;
  std::vector<std::pair<uint32_t, uint64_t>> period_events;  // (stream, bytes_done)

 private:
  class Gate;
  static void on_period(void* context, uint32_t stream, uint64_t bytes_done);
  std::unique_ptr<Gate> gate_;
  bool mute_control_ = false;
};

}  // namespace aerov::drivers::testing
