// The device side of each scenario: the device model with its backend, and
// the host_input actions a trace records for it. The scenarios and the
// replayer build the same stack from the same numbers, so a replay drives
// exactly the model the recording ran.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "model/devices/input/input_device.hpp"
#include "model/devices/net/net_device.hpp"
#include "model/devices/snd/snd_device.hpp"
#include "sim/mutants.hpp"

namespace aerov::sim {

// virtio-blk on a 2 MiB RAM disk behind a seeded FaultyDisk.
struct BlkStack {
  static constexpr uint64_t kSectors = 4096;

  // The disk mutants (kDiskHidesErrors, kAssumesFifoBackend,
  // kReadLeavesAByte) sit between disk and device.
  BlkStack(uint64_t disk_seed, Mutant mutant);
  // A zero-filled RAM disk of `sectors` with no fault layer: the disk image
  // a guest run (DeviceRecorder) started from.
  explicit BlkStack(uint64_t sectors);

  static std::vector<uint8_t> delay_input(uint32_t min_polls, uint32_t max_polls);
  static std::vector<uint8_t> errors_input(uint32_t per_million, uint8_t ops);
  // Performs a recorded host_input; false for a channel or payload it does
  // not know (a corrupt or foreign trace).
  bool apply(uint16_t channel, std::span<const uint8_t> bytes);

  model::backends::RamDisk ram;
  model::backends::FaultyDisk disk;
  std::optional<ErrorHidingDisk> hider;
  std::optional<FifoAssumingDisk> fifo;
  std::optional<ShortReadDisk> short_read;
  model::devices::BlkDevice device;

 private:
  model::backends::DiskBackend& backend_for(Mutant mutant);
};

// virtio-net with its default MAC; the peer is whoever attaches as backend.
struct NetStack {
  explicit NetStack(model::backends::NetBackend* peer, const model::devices::NetDeviceOptions& options = {})
      : device(peer, options) {}

  static std::vector<uint8_t> link_input(bool up) { return {static_cast<uint8_t>(up ? 1 : 0)}; }
  bool apply(uint16_t channel, std::span<const uint8_t> bytes);

  model::devices::NetDevice device;
};

// virtio-input, the mouse function: the host injects batches of events.
struct InputStack {
  InputStack() : device(model::devices::InputDeviceOptions{.kind = model::devices::input::InputKind::kMouse}) {}

  // One batch (without its SYN_REPORT): 8 bytes per event, le16 type,
  // le16 code, le32 value.
  static std::vector<uint8_t> events_input(std::span<const model::devices::input::Event> events);
  bool apply(uint16_t channel, std::span<const uint8_t> bytes);

  model::devices::InputDevice device;

 private:
  std::vector<model::devices::input::Event> events_;  // apply()'s decode buffer, kept across batches
};

// virtio-snd playing into `sink` (capture silent); time passes only as
// recorded host_input.
struct SndStack {
  explicit SndStack(model::backends::AudioSink* sink) : device(sink, nullptr) {}

  static std::vector<uint8_t> time_input(uint32_t frames);
  bool apply(uint16_t channel, std::span<const uint8_t> bytes);

  model::devices::SndDevice device;
};

}  // namespace aerov::sim
