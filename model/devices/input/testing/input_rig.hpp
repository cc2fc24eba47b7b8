// A one-function virtio-input machine for tests, conformance checks and the
// fuzzer: a DriverRig (guest RAM below and above 4 GiB, a PCI bus, a
// recorded INTx line, firmware enumeration, the driver end) whose
// virtio-pci function holds an InputDevice of the chosen kind with the
// contract's identity for that kind (subsystem ID; the keyboard's
// multi-function bit). InputFunctionSet is the whole multi-function device. Driver and device meet only through config space,
// BAR0 MMIO, guest memory and INTx.
//
// Queues are driven through the real driver rings (post_events / reap_events,
// send_status / reap_status) or, with options.raw_ring, raw rings written
// descriptor by descriptor (DriverRig's raw_chain / raw_used): a hostile
// driver.
//
// Guest-physical layout: eventq ring at kEventRingGpa, statusq ring at
// kStatusRingGpa (raw scratch after each), one kEventBufBytes buffer per
// eventq slot from kEventBufGpa, one kStatusBufBytes buffer per statusq
// slot from kStatusBufGpa, free space from kDataGpa and in high RAM from
// kHighRam.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "model/devices/input/input_device.hpp"
#include "transport/testing/driver_rig.hpp"

namespace aerov::model::devices::testing {

struct InputRigOptions {
  InputDeviceOptions device{};
  bool raw_ring = false;         // RingBuilder rings instead of DriverQueues
  bool wire_pending = true;      // injection runs process_queue(eventq) at once
  bool bring_up = true;
};

// One eventq completion: its slot, used.len and the event in its buffer.
struct EventCompletion {
  uint16_t slot;
  uint32_t len;
  input::Event event;
};

class InputRig : public transport::testing::DriverRig {
 public:
  static constexpr uint64_t kEventRingGpa = 0x100000;
  static constexpr uint64_t kStatusRingGpa = 0x200000;
  static constexpr uint64_t kRawScratchBytes = 0x80000;
  static constexpr uint64_t kEventBufGpa = 0x400000;
  static constexpr uint64_t kEventBufBytes = 64;
  static constexpr uint64_t kStatusBufGpa = 0x600000;
  static constexpr uint64_t kStatusBufBytes = 1024;
  static constexpr uint64_t kDataGpa = 0x800000;
  static constexpr uint8_t kUnwritten = 0xEE;  // event buffers start with this
  static constexpr uint16_t kQueueSize = 64;   // INP-1

  explicit InputRig(const InputRigOptions& options = {});

  // attach, reset, negotiate, program both queues, DRIVER_OK (STAT-3).
  transport::TransportError bring_up();
  // STAT-4 recovery: reset, detach every outstanding chain, bring up again.
  void recover();

  uint64_t event_buf(uint16_t slot) const { return kEventBufGpa + kEventBufBytes * slot; }
  uint64_t status_buf(uint16_t slot) const { return kStatusBufGpa + kStatusBufBytes * slot; }

  // ---- eventq ----------------------------------------------------------------
  // One writable segment of `len` bytes at event_buf(slot), filled with
  // kUnwritten; not yet published.
  virtqueue::DriverStatus post_event(uint16_t slot, uint32_t len = input::kEventBytes);
  // Posts slots [first, first + count) and kicks.
  void post_events(uint16_t count, uint16_t first = 0, uint32_t len = input::kEventBytes);
  std::vector<EventCompletion> reap_events();
  // Reaps and reposts each buffer at once, until nothing more arrives.
  std::vector<EventCompletion> reap_and_repost();

  // ---- statusq ---------------------------------------------------------------
  // The events as one readable buffer at status_buf(slot), kicked.
  virtqueue::DriverStatus send_status(uint16_t slot, std::span<const input::Event> events);
  virtqueue::DriverStatus send_status_bytes(uint16_t slot, std::span<const uint8_t> bytes);
  std::vector<transport::testing::UsedSlot> reap_status() { return take_used(InputDevice::kStatusQueue); }

  // ---- device configuration (INP-2) -------------------------------------------
  // Writes select and subsel as a driver does (1-byte BAR0 writes).
  void select(uint8_t select, uint8_t subsel);
  uint8_t config_size();
  std::vector<uint8_t> config_payload(uint32_t len = input::kPayloadBytes);

  void notify(uint16_t q) { driver.notify(q); }

  std::unique_ptr<InputDevice> device;
  uint8_t function_number = 0;  // the contract's function number of the kind

 private:
  InputRigOptions options_;
};

}  // namespace aerov::model::devices::testing
