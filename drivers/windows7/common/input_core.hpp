// The portable core of the virtio-input HID minidriver (contract sections
// 3-5, 8 and 10: STAT-3, STAT-4, VQ-9, INP-1..INP-9, DRV-1, DRV-2). One
// core per PCI function: keyboard, mouse or tablet (PCI-6); the KMDF glue
// hands HID class the report descriptor and the reports this core makes.
//
// Bring-up. attach (strict, revision 1), reset, negotiate VERSION_1 (and
// INDIRECT_DESC, unused), read the configuration (INP-2): the function kind
// comes from EV_BITS (EV_ABS with ABS_X and ABS_Y: tablet; EV_REL: mouse;
// EV_KEY: keyboard), the tablet's range from ABS_INFO. Selector writes go
// straight to the device-config window (1-byte writes of select, subsel),
// reads through the transport's generation-checked read.
//
// Events (INP-4). The core owns one 8-byte buffer per eventq entry and
// keeps all of them posted; each completion is one event. A completion whose
// used.len is not 8 is counted (bad_events) and its buffer reposted.
// Events accumulate into the function's state until SYN_REPORT, which
// produces one HID input report if the state changed (keyboard) or anything
// moved or changed (mouse, tablet):
//   keyboard  8 bytes, boot protocol: modifiers (LeftCtrl..RightGUI), a
//             reserved 0, six usages in press order; more than six keys
//             down (modifiers aside) gives six ErrorRollOver (0x01).
//             Auto-repeat values (2) change nothing.
//   mouse     7 bytes: buttons 1..5 (LEFT, RIGHT, MIDDLE, SIDE, EXTRA) in
//             bits 0..4, le16 X, le16 Y (-32767..32767), i8 wheel, i8 AC Pan
//             (REL_HWHEEL), each clamped (counted in clamped) - the
//             excess is dropped, not carried.
//   tablet    5 bytes: button 1 (BTN_TOUCH, or BTN_LEFT), le16 X, le16 Y
//             scaled from the device's ABS_INFO [min, max] to 0..32767,
//             values clamped into [min, max] first; min >= max gives 0.
// Codes the function does not map are counted (ignored_events).
//
// LEDs (INP-5, INP-8). set_leds(output report byte) sends EV_LED for the
// five LEDs and SYN_REPORT as one readable statusq buffer (one of 64,
// freed when the device completes it); kBusy when none is free.
//
// Recovery (STAT-4, VQ-9). On DEVICE_NEEDS_RESET or a broken ring the core
// takes what the device completed before it gave up, resets, brings the
// device up in the same memory and reposts every event buffer. Whatever was
// held down is released (one report with nothing pressed), since the device
// dropped its queue; the LED state is sent again. Too many resets without
// progress fail the device.
//
// Concurrency and memory as for NetCore: the caller serialises every call,
// the report callback runs inside interrupt()/poll(); DMA memory is
// allocated once at init and reused across resets. Freestanding.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/windows7/common/interrupts.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "model/devices/input/input_wire.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::drivers::windows7 {

using InputKind = model::devices::input::InputKind;

enum class InputError : uint8_t {
  kNone = 0,
  kInvalidArgument,  // bad config, or set_leds on a function without LEDs
  kNotReady,         // init has not succeeded, or the device failed
  kTransport,        // see transport_error()
  kQueueSize,        // a queue size the core cannot use
  kNoMemory,         // OsServices::alloc_dma failed
  kQueueInit,        // DriverQueue refused the memory
  kUnsupported,      // the device advertises no function the core knows
  kDeviceChanged,    // after a reset the device is another function
  kBusy,             // no free statusq buffer now
};

const char* to_string(InputError e);

// One HID input report: valid during the call only.
using InputReportFn = void (*)(void* context, const uint8_t* report, uint32_t length);

struct InputCoreConfig {
  InputReportFn on_report;
  void* context;
  // kStrict (the contract, BAR-1/BAR-2/NTF-1) unless the caller drives a
  // device that is not ours (conformance/qtest: QEMU's virtio-keyboard-pci).
  transport::ValidationMode validation = transport::ValidationMode::kStrict;
};

struct InputCounters {
  uint64_t events;          // eventq completions with used.len 8
  uint64_t bad_events;      // used.len != 8: dropped, buffer reposted
  uint64_t ignored_events;  // types/codes the function does not map
  uint64_t reports;         // input reports handed up
  uint64_t rollover;        // keyboard reports sent as ErrorRollOver
  uint64_t clamped;         // mouse values beyond the report's range
  uint64_t led_reports;     // set_leds() calls sent to statusq
  uint64_t led_busy;        // set_leds() refused: statusq full
  uint64_t kicks;
  uint64_t interrupts;
  uint64_t messages;
  uint64_t spurious;
  uint64_t vector_fallbacks;
  uint64_t config_changes;
  uint64_t resets;
};

class InputCore {
 public:
  static constexpr uint16_t kEventQueue = 0;
  static constexpr uint16_t kStatusQueue = 1;
  static constexpr uint16_t kMaxQueueSize = 64;  // INP-1
  static constexpr uint32_t kKeyboardReportBytes = 8;
  static constexpr uint32_t kMouseReportBytes = 7;
  static constexpr uint32_t kTabletReportBytes = 5;
  static constexpr uint32_t kMaxReportBytes = 8;
  static constexpr uint32_t kRolloverKeys = 6;
  static constexpr uint8_t kErrorRollOver = 0x01;
  static constexpr int32_t kTabletMax = 32767;  // HID logical maximum (INP-7)
  static constexpr uint32_t kStatusEvents = model::devices::input::kLedCount + 1;
  static constexpr uint32_t kMaxResetsWithoutProgress = 4;

  // The HID report descriptor of `kind` (static storage).
  static const uint8_t* report_descriptor(InputKind kind, uint32_t* length);
  // The HID usage (Keyboard/Keypad page) of a Linux key code, 0 if unmapped.
  static uint8_t hid_usage(uint16_t linux_key);

  // DRV-1, STAT-3: attach, reset, negotiate, read config, allocate, program
  // both queues, post every event buffer, DRIVER_OK.
  InputError init(OsServices& os, const InputCoreConfig& config);

  // Keyboard HID output report: bit n = LED n (NumLock, CapsLock,
  // ScrollLock, Compose, Kana), sent to the device as EV_LED events.
  InputError set_leds(uint8_t leds);

  bool interrupt();
  bool message_interrupt(uint16_t message);
  void poll();

  bool ready() const { return state_ == State::kRunning; }
  bool failed() const { return state_ == State::kFailed; }
  InputKind kind() const { return kind_; }
  uint32_t report_bytes() const;
  int32_t abs_min(uint8_t axis) const { return abs_min_[axis & 1]; }
  int32_t abs_max(uint8_t axis) const { return abs_max_[axis & 1]; }
  uint16_t events_posted() const { return events_posted_; }
  uint16_t status_in_flight() const { return status_in_use_; }
  InterruptMode interrupt_mode() const { return plan_.mode(); }
  transport::TransportError transport_error() const { return transport_error_; }
  const InputCounters& counters() const { return counters_; }

 private:
  enum class State : uint8_t { kUninitialized, kRunning, kFailed };

  InputError bring_up(bool first);
  InputError read_config(InputKind* kind);
  bool select(uint8_t select, uint8_t subsel, uint8_t* payload, uint8_t* size);
  InputError allocate();
  bool post_event(uint16_t buffer);
  void kick(virtqueue::DriverQueue& q, uint16_t index);
  bool service(const InterruptWork& work, uint64_t* counter);
  void drain();
  bool drain_events();
  bool drain_status();
  void harvest();
  void recover(const char* why);
  void fail_device();

  void on_event(uint16_t type, uint16_t code, uint32_t value);
  void on_key(uint16_t code, uint32_t value);
  void on_syn();
  void store_position(uint8_t* report) const;
  void emit(const uint8_t* report, uint32_t length);
  void release_all();
  InputError send_leds();

  OsServices* os_ = nullptr;
  InputCoreConfig config_{};
  State state_ = State::kUninitialized;
  bool attached_ = false;
  transport::VirtioPciDriver driver_{};
  transport::TransportError transport_error_ = transport::TransportError::kNone;
  InterruptPlan plan_{};
  uint8_t config_generation_ = 0;
  InputKind kind_ = InputKind::kKeyboard;
  int32_t abs_min_[2] = {0, 0};
  int32_t abs_max_[2] = {0, 0};
  uint64_t features_ = 0;
  uint16_t event_size_ = 0;
  uint16_t status_size_ = 0;

  virtqueue::DriverQueue eventq_{};
  virtqueue::DriverQueue statusq_{};
  virtqueue::DriverQueueConfig event_config_{};
  virtqueue::DriverQueueConfig status_config_{};
  DmaRegion event_ring_{};
  DmaRegion status_ring_{};
  DmaRegion event_buffers_{};   // event_size_ buffers of 8 bytes
  DmaRegion status_buffers_{};  // status_size_ buffers of kStatusEvents events
  virtqueue::DescState event_state_[kMaxQueueSize] = {};
  virtqueue::DescState status_state_[kMaxQueueSize] = {};
  uint16_t events_posted_ = 0;
  bool status_busy_[kMaxQueueSize] = {};
  uint16_t status_in_use_ = 0;
  uint32_t resets_without_progress_ = 0;
  bool harvesting_ = false;

  // Translation state, between SYN_REPORTs.
  uint8_t modifiers_ = 0;
  uint8_t pressed_[128] = {};  // non-modifier usages held, in press order
  uint8_t pressed_count_ = 0;
  uint8_t buttons_ = 0;
  int64_t rel_[4] = {};  // X, Y, wheel, pan accumulated since the last report
  int32_t abs_[2] = {};  // raw device values
  bool dirty_ = false;
  uint8_t leds_ = 0;
  InputCounters counters_{};
};

}  // namespace aerov::drivers::windows7
