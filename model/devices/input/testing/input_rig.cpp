#include "model/devices/input/testing/input_rig.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

namespace {
constexpr uint32_t kDeviceCfg = 0x3000;  // BAR-2
constexpr uint16_t kEvq = InputDevice::kEventQueue;
constexpr uint16_t kStq = InputDevice::kStatusQueue;
}  // namespace

InputRig::InputRig(const InputRigOptions& o)
    : DriverRig("input rig", {kQueueSize, kQueueSize}),
      function_number(static_cast<uint8_t>(o.device.kind)),
      options_(o) {
  device = std::make_unique<InputDevice>(o.device);
  // Alone on the bus, the function sits at function 0 (firmware scans
  // functions 1..7 only behind a multi-function function 0) but carries the
  // identity of its contract function number.
  plug(*device, transport::contract_identity(contract::kInput, function_number),
       model::pci::Bdf{0, 6, 0});
  if (o.wire_pending) {
    device->on_events_pending = [this] { function->process_queue(kEvq); };
  }
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError InputRig::bring_up() {
  transport::testing::QueuePlan plans[2];
  for (uint16_t q = 0; q < 2; ++q) {
    plans[q].ring_gpa = q == kEvq ? kEventRingGpa : kStatusRingGpa;
    plans[q].raw = options_.raw_ring;
    plans[q].raw_scratch_bytes = kRawScratchBytes;
  }
  return DriverRig::bring_up(contract::kInput.features_offered, plans);
}

void InputRig::recover() {
  driver.reset();
  if (!options_.raw_ring) {
    detach_unused(kEvq);
    detach_unused(kStq);
  }
  require(bring_up() == TransportError::kNone, "bring-up after reset");
}

vq::DriverStatus InputRig::post_event(uint16_t slot, uint32_t len) {
  require(len <= kEventBufBytes, "event buffer too long");
  fill(event_buf(slot), kUnwritten, kEventBufBytes);
  const vq::Segment seg{event_buf(slot), len, true};
  return add_chain(kEvq, slot, {&seg, 1});
}

void InputRig::post_events(uint16_t count, uint16_t first, uint32_t len) {
  for (uint16_t s = first; s < first + count; ++s) {
    require(post_event(s, len) == vq::DriverStatus::kOk, "post_event");
  }
  kick(kEvq);
}

std::vector<EventCompletion> InputRig::reap_events() {
  std::vector<EventCompletion> out;
  for (const auto& u : take_used(kEvq)) {
    const std::vector<uint8_t> b = peek(event_buf(u.slot), input::kEventBytes);
    out.push_back({u.slot, u.len, input::decode_event(b.data())});
  }
  return out;
}

std::vector<EventCompletion> InputRig::reap_and_repost() {
  std::vector<EventCompletion> all;
  for (;;) {
    const auto got = reap_events();
    if (got.empty()) return all;
    for (const auto& c : got) require(post_event(c.slot) == vq::DriverStatus::kOk, "repost");
    all.insert(all.end(), got.begin(), got.end());
    kick(kEvq);
  }
}

vq::DriverStatus InputRig::send_status(uint16_t slot, std::span<const input::Event> events) {
  std::vector<uint8_t> bytes(events.size() * input::kEventBytes);
  for (size_t i = 0; i < events.size(); ++i) input::encode_event(events[i], &bytes[i * input::kEventBytes]);
  return send_status_bytes(slot, bytes);
}

vq::DriverStatus InputRig::send_status_bytes(uint16_t slot, std::span<const uint8_t> bytes) {
  require(bytes.size() <= kStatusBufBytes && !bytes.empty(), "status buffer size");
  poke(status_buf(slot), bytes);
  const vq::Segment seg{status_buf(slot), static_cast<uint32_t>(bytes.size()), false};
  const vq::DriverStatus s = add_chain(kStq, slot, {&seg, 1});
  if (s == vq::DriverStatus::kOk) kick(kStq);
  return s;
}

void InputRig::select(uint8_t sel, uint8_t subsel) {
  bar0_write(kDeviceCfg + input::kConfigSelect, 1, sel);
  bar0_write(kDeviceCfg + input::kConfigSubsel, 1, subsel);
}

uint8_t InputRig::config_size() { return read_config(input::kConfigSize, 1)[0]; }

std::vector<uint8_t> InputRig::config_payload(uint32_t len) {
  return read_config(input::kConfigPayload, len);
}

}  // namespace aerov::model::devices::testing
