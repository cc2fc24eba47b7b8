// A one-function CoreMachine for the Windows 7 input core tests and the
// input stack benchmark: the real virtio-input device model (keyboard,
// mouse or tablet) and an InputCore. Every HID report the core hands up and
// every LED update the device receives is recorded.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/input_core.hpp"
#include "model/devices/input/input_device.hpp"

namespace aerov::drivers::testing {

namespace w7 = windows7;
using host::testing::CoreMachine;

struct InputMachineOptions {
  model::devices::InputDeviceOptions device{};
  bool init = true;
  bool record = true;            // keep every report (the benchmark only counts)
  uint16_t msix_vectors = 0;     // MSI-X table size of the function (0: none)
  uint16_t grant_messages = 0;   // messages the platform grants the driver
};

class InputMachine : public CoreMachine {
 public:
  explicit InputMachine(const InputMachineOptions& options = {});

  w7::InputError init();
  // Hands every recorded MSI-X message to the core; returns how many.
  int deliver_messages();
  // Runs interrupts (INTx and MSI-X) until nothing changes.
  void service(int max_rounds = 100000);

  std::unique_ptr<model::devices::InputDevice> device;
  w7::InputCore core;
  std::vector<std::vector<uint8_t>> reports;        // every report, in order
  uint64_t report_count = 0;
  std::vector<std::pair<uint16_t, bool>> led_updates;  // what the device was told

 private:
  static void on_report(void* context, const uint8_t* report, uint32_t length);
  InputMachineOptions options_;
};

}  // namespace aerov::drivers::testing
