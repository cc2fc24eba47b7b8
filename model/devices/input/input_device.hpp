// virtio-input device model (contract section 8, INP-1..INP-9) on the
// virtio-pci transport (transport::VirtioDevice): one function, a keyboard,
// a mouse or a tablet (PCI-6 puts the three on one multi-function device,
// see InputFunctionSet below).
//
// Queues eventq (0) and statusq (1) of 64 entries, features exactly the
// contract's offer (INP-1). Configuration (INP-2): the driver writes select
// and subsel (bytes 0 and 1; every other config byte is read-only) and reads
// size and payload. ID_NAME and ID_DEVIDS (INP-3), EV_BITS for exactly the
// advertised types (subsel = type, a bitmap of codes sized to the highest
// code, subsel EV_SYN gives SYN_REPORT) and, for the tablet, ABS_INFO for
// ABS_X and ABS_Y are implemented; any other select/subsel reads size 0 and
// a zero payload.
//
// Events (INP-4). The host injects batches; the device appends SYN_REPORT
// to each. Every event takes one eventq chain: the device writes the 8-byte
// event into the chain's writable bytes and completes it with used.len 8.
// Batches wait in a device-side queue of kPendingEvents events (INP-9):
// when a batch does not fit, the oldest whole batch that has not started
// reaching the guest is dropped (batches_dropped, events_dropped); a batch
// part of which is already in the guest is never cut short.
//
// The guest is hostile. Decisions the contract leaves to the device:
//   * eventq chains are taken only while an event waits. A chain error
//     (VQ-7, event_chain_error), a chain with a device-readable descriptor
//     (event_readable) or with fewer than 8 writable bytes (event_too_small)
//     is completed with used.len 0 and the event waits for the next chain.
//     Zero-length descriptors are skipped (project decision (b)); a
//     zero-length readable one still makes the chain malformed.
//   * statusq chains (INP-8) are all consumed and completed with used.len 0.
//     Their readable bytes are a sequence of 8-byte events; EV_LED with an
//     advertised LED code and value 0/1 updates the LED state and calls
//     on_led; EV_SYN is accepted silently; anything else is counted
//     (status_ignored), as is a trailing partial event (status_bad). A chain
//     error or a writable descriptor is counted (status_malformed) and the
//     chain completed without reading it. At most kMaxStatusBytes are read
//     from one chain; more is counted (status_oversize) and ignored.
//   * Work per doorbell is bounded (VQ-8): at most N chains per queue. A
//     ring error stops the queue and raises DEVICE_NEEDS_RESET (STAT-4).
//   * Reset forgets the LED state and drops queued events (counted in
//     reset_dropped): they were meant for the previous driver.
//
// Injection never touches guest memory itself: it queues and calls
// on_events_pending, which the machine wires to process_queue(eventq), so
// DMA stays behind DRIVER_OK and Bus Master (BAR-4).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "model/devices/input/input_wire.hpp"
#include "model/pci/pci_bus.hpp"
#include "transport/device/virtio_device.hpp"
#include "transport/device/virtio_pci_function.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::model::devices {

struct InputDeviceOptions {
  input::InputKind kind = input::InputKind::kKeyboard;
  // Tablet ABS_INFO range (INP-7), the same for ABS_X and ABS_Y.
  int32_t abs_min = 0;
  int32_t abs_max = input::kTabletDefaultMax;
};

struct InputStats {
  uint64_t batches_queued = 0;
  uint64_t events_queued = 0;     // including the SYN_REPORT of each batch
  uint64_t events_delivered = 0;  // written to a guest chain, used.len 8
  uint64_t batches_dropped = 0;   // INP-9: oldest whole batch dropped
  uint64_t events_dropped = 0;
  uint64_t refused = 0;           // injected batch with a code not advertised
  uint64_t event_chain_error = 0; // eventq chain completed with len 0 (VQ-7)
  uint64_t event_readable = 0;    // eventq chain with a readable descriptor
  uint64_t event_too_small = 0;   // eventq chain with < 8 writable bytes
  uint64_t status_buffers = 0;    // statusq chains completed (INP-8)
  uint64_t status_leds = 0;       // LED events applied
  uint64_t status_ignored = 0;    // whole events that are not an advertised LED
  uint64_t status_bad = 0;        // trailing partial event
  uint64_t status_malformed = 0;  // chain error or writable descriptor
  uint64_t status_oversize = 0;   // chain longer than kMaxStatusBytes
  uint64_t reset_dropped = 0;     // queued events dropped by a device reset
};

class InputDevice final : public transport::VirtioDevice {
 public:
  static constexpr uint16_t kEventQueue = 0;
  static constexpr uint16_t kStatusQueue = 1;
  static constexpr size_t kPendingEvents = 4096;  // INP-9 (P)
  static constexpr size_t kMaxBatchEvents = 64;   // per injected batch, SYN_REPORT included
  static constexpr uint32_t kMaxStatusBytes = 64 * input::kEventBytes;

  explicit InputDevice(const InputDeviceOptions& options = {});
  InputDevice(const InputDevice&) = delete;
  InputDevice& operator=(const InputDevice&) = delete;

  // transport::VirtioDevice
  uint16_t device_type() const override;
  uint64_t device_features() const override;
  uint16_t num_queues() const override;
  uint16_t queue_size(uint16_t q) const override;
  uint64_t config_read(uint32_t offset, unsigned width) override;
  void config_write(uint32_t offset, unsigned width, uint64_t value) override;
  void activate(transport::DeviceTransport& transport) override;
  void queue_notify(uint16_t q, transport::DeviceTransport& transport) override;
  void reset() override;

  // ---- host injection (an emulator front end) --------------------------------
  // Each call is one batch ending in SYN_REPORT. false when refused: a code
  // the function does not advertise, or a batch too long (counted).
  bool key(uint16_t code, bool pressed);             // keyboard keys, mouse buttons, BTN_TOUCH
  bool mouse_button(uint16_t button, bool pressed) { return key(button, pressed); }
  // Mouse only; zero components are left out, and all-zero queues nothing.
  bool mouse_move(int32_t dx, int32_t dy);
  bool wheel(int32_t vertical, int32_t horizontal);  // REL_WHEEL, REL_HWHEEL
  bool tablet_position(int32_t x, int32_t y);        // clamped to ABS_INFO
  // Any advertised events, without SYN_REPORT (appended here); values are
  // passed as they are. At most kMaxBatchEvents - 1 events.
  bool inject(std::span<const input::Event> events);

  // Called after a batch was queued, unless inside queue_notify. Wire it to
  // process_queue(kEventQueue).
  std::function<void()> on_events_pending;
  // An LED update from statusq (INP-8).
  std::function<void(uint16_t led, bool on)> on_led;

  input::InputKind kind() const { return kind_; }
  uint32_t led_state() const { return leds_; }  // bit n: LED code n is on
  size_t pending_events() const { return pending_.size(); }
  size_t pending_batches() const { return batches_.size(); }
  bool active() const { return transport_ != nullptr; }
  const InputStats& stats() const { return stats_; }
  int32_t abs_min() const { return abs_min_; }
  int32_t abs_max() const { return abs_max_; }

 private:
  // The payload of the current selection; returns its size.
  uint8_t payload(uint8_t out[input::kPayloadBytes]) const;
  // Rebuilds config_ for the current selection (a driver reads the
  // selection byte by byte; building EV_BITS per read is wasted).
  void select(uint8_t select, uint8_t subsel);
  bool serve_events(transport::DeviceTransport& t);
  bool serve_status(transport::DeviceTransport& t);
  void read_status(const virtqueue::DescChain& chain, transport::DeviceTransport& t);
  void drop_oldest_batch();

  input::InputKind kind_;
  int32_t abs_min_;
  int32_t abs_max_;
  uint8_t select_ = 0;
  uint8_t subsel_ = 0;
  uint8_t config_[input::kConfigBytes + 8] = {};  // zero tail: reads past the end (BAR-3)
  uint32_t leds_ = 0;
  transport::DeviceTransport* transport_ = nullptr;
  int notify_depth_ = 0;
  std::deque<input::Event> pending_;  // at most kPendingEvents
  std::deque<size_t> batches_;        // lengths of the batches in pending_, oldest first
  size_t front_delivered_ = 0;        // events of batches_.front() already in the guest
  virtqueue::DescChain chain_;
  std::vector<uint8_t> status_bytes_;
  InputStats stats_;
};

// PCI-6: virtio-input as one multi-function PCI device: keyboard on
// function 0 (header type multi-function bit), mouse on function 1, the
// optional tablet on function 2, each its own virtio-pci function with the
// contract's subsystem ID (PCI-4). Each device's on_events_pending is wired
// to its own function.
class InputFunctionSet {
 public:
  InputFunctionSet(GuestMemory& memory, transport::VirtioPciOptions options, bool with_tablet,
                   const InputDeviceOptions& tablet = {.kind = input::InputKind::kTablet});
  // Attaches every function at (bus, device, function = kind).
  pci::PciError attach(pci::PciBus& bus, uint8_t bus_number, uint8_t device);

  InputDevice& keyboard() { return *devices_[0]; }
  InputDevice& mouse() { return *devices_[1]; }
  InputDevice* tablet() { return devices_[2].get(); }
  transport::VirtioPciFunction* function(uint8_t f) { return f < 3 ? functions_[f].get() : nullptr; }

 private:
  std::unique_ptr<InputDevice> devices_[input::kFunctionCount];
  std::unique_ptr<transport::VirtioPciFunction> functions_[input::kFunctionCount];
};

}  // namespace aerov::model::devices
