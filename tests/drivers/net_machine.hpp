// A one-NIC CoreMachine for the Windows 7 net core tests: the real
// virtio-net device model and a NetCore. The device's backend is the
// machine itself: it records every frame the guest sends and, in loopback
// mode, sends it straight back. A test can hold txq doorbells (the device
// then sees them only on release_tx()) so frames are really in flight.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/net_core.hpp"
#include "model/devices/net/net_device.hpp"

namespace aerov::drivers::testing {

namespace w7 = windows7;
using host::testing::CoreMachine;

struct NetMachineOptions {
  model::devices::NetDeviceOptions device{};
  uint64_t hide_features = 0;
  bool loopback = false;
  bool init = true;
  uint16_t msix_vectors = 0;    // MSI-X table size of the function (0: none)
  uint16_t grant_messages = 0;  // messages the platform grants the driver
};

// One frame the test sends: its bytes, the fragments in guest RAM.
struct TestFrame {
  std::vector<uint8_t> bytes;
  std::vector<w7::NetFragment> fragments;
  int completions = 0;
  w7::NetTxResult result = w7::NetTxResult::kSent;
};

class NetMachine : public CoreMachine, private model::backends::NetBackend {
 public:
  explicit NetMachine(const NetMachineOptions& options = {});
  ~NetMachine() override;

  w7::NetError init();

  // Hands every recorded MSI-X message to the core; returns how many.
  int deliver_messages();
  // Runs interrupts (INTx and MSI-X) until nothing changes.
  void service(int max_rounds = 100000);

  // A frame of `length` bytes (seeded pattern, first 6 bytes the device's
  // MAC) split into fragments of the given lengths (the last one takes the
  // rest), each in its own guest buffer.
  TestFrame& make(uint32_t length, std::vector<uint32_t> fragment_lengths = {},
                  uint32_t seed = 1);
  w7::NetError transmit(TestFrame& f);

  // txq doorbells wait until release_tx() while held.
  void hold_tx(bool on) { hold_tx_ = on; }
  void release_tx();

  std::unique_ptr<model::devices::NetDevice> device;
  w7::NetCore core;
  std::deque<TestFrame> frames;                   // stable addresses
  std::vector<std::vector<uint8_t>> sent;         // what the device transmitted
  std::vector<std::vector<uint8_t>> received;     // what the core handed up
  std::vector<bool> link_events;
  uint64_t stray_completions = 0;

 private:
  class Gate;
  // NetBackend (the device's peer).
  void attach(model::backends::NetPort* port) override { port_ = port; }
  void transmit(std::span<const uint8_t> frame) override;

  static void on_tx_done(void* context, void* cookie, w7::NetTxResult result);
  static void on_receive(void* context, const uint8_t* frame, uint32_t length);
  static void on_link(void* context, bool up);

  NetMachineOptions options_;
  std::unique_ptr<Gate> gate_;
  model::backends::NetPort* port_ = nullptr;
  bool hold_tx_ = false;
  int held_tx_ = 0;
};

}  // namespace aerov::drivers::testing
