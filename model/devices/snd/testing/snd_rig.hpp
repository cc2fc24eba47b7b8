// A one-sound-card machine for virtio-snd tests, conformance checks and the
// fuzzer: a DriverRig (guest RAM, PCI bus, INTx, firmware enumeration, the
// driver end) whose virtio-pci function holds an SndDevice. Driver and
// device meet only through config space, BAR0 MMIO, guest memory and INTx;
// virtual time passes only through advance().
//
// Queues are the real driver rings (DriverQueue) or, with options.raw_ring,
// raw rings written descriptor by descriptor (a hostile driver).
//
// Guest-physical layout: queue q's ring (and raw scratch) at
// kRingGpa + q * kRingStride; controlq request/response buffers per slot
// from kCtlBufGpa; TX slots from kTxBufGpa and RX slots from kRxBufGpa,
// kSlotBytes each (header at +0, payload at +kPayloadOffset, status right
// after the payload); a large area at kBigGpa for oversized buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "model/backends/audio/audio_backend.hpp"
#include "model/devices/snd/snd_device.hpp"
#include "transport/testing/driver_rig.hpp"

namespace aerov::model::devices::testing {

struct SndRigOptions {
  backends::AudioSink* sink = nullptr;        // kept alive by the caller
  backends::CaptureSource* source = nullptr;  // kept alive by the caller
  bool raw_ring = false;
  bool wire_time = true;  // advance() runs process_queue(txq) at once
  bool bring_up = true;
};

// A control response as the driver sees it.
struct CtlReply {
  bool completed = false;
  uint32_t used_len = 0;
  uint32_t status = 0;        // first 4 response bytes
  std::vector<uint8_t> body;  // used_len bytes of response
};

// A PCM completion: slot, used.len and the 8-byte status.
struct PcmDone {
  uint16_t slot;
  uint32_t used_len;
  uint32_t status;
  uint32_t latency;
};

class SndRig : public transport::testing::DriverRig {
 public:
  static constexpr uint64_t kRingGpa = 0x100000;
  static constexpr uint64_t kRingStride = 0x100000;
  static constexpr uint64_t kRawScratchBytes = 0x80000;
  static constexpr uint64_t kCtlBufGpa = 0x500000;
  static constexpr uint64_t kCtlSlotBytes = 0x200;
  static constexpr uint64_t kEventBufGpa = 0x600000;
  static constexpr uint64_t kTxBufGpa = 0x800000;
  static constexpr uint64_t kRxBufGpa = 0xC00000;
  static constexpr uint64_t kSlotBytes = 0x4000;
  static constexpr uint64_t kPayloadOffset = 0x40;
  static constexpr uint64_t kBigGpa = 0x1000000;
  static constexpr uint64_t kBigBytes = 0x100000;
  static constexpr uint8_t kUnwritten = 0xEE;
  static constexpr model::pci::Bdf kBdf{0, 6, 0};

  explicit SndRig(const SndRigOptions& options = {});

  transport::TransportError bring_up();
  // STAT-4 recovery: reset, detach every outstanding chain, bring up again.
  void recover();

  // ---- controlq through the real driver ring --------------------------------
  // One request (readable) + a response place of resp_len bytes (writable),
  // kicked and reaped.
  CtlReply control(std::span<const uint8_t> request, uint32_t resp_len = 4);
  CtlReply pcm_command(uint32_t code, uint32_t stream);
  CtlReply set_params(uint32_t stream, uint32_t buffer_bytes, uint32_t period_bytes,
                      uint8_t channels, uint8_t format, uint8_t rate, uint32_t features = 0);
  // The fixed parameters for the stream with these sizes.
  CtlReply set_fixed_params(uint32_t stream, uint32_t buffer_bytes = 0x4000, uint32_t period_bytes = 0x1000);
  CtlReply pcm_info(uint32_t start, uint32_t count, uint32_t size = 32, uint32_t resp_len = 4 + 64);
  // SET_PARAMS, PREPARE and START with the fixed parameters; true if all OK.
  bool open_and_start(uint32_t stream);

  // ---- eventq -----------------------------------------------------------------
  void post_events(uint16_t count, uint32_t len = 8);

  // ---- txq / rxq through the real driver rings ------------------------------
  uint64_t tx_buf(uint16_t slot) const { return kTxBufGpa + kSlotBytes * slot; }
  uint64_t rx_buf(uint16_t slot) const { return kRxBufGpa + kSlotBytes * slot; }
  // {stream_id, 0} header, payload, 8-byte status: not kicked.
  virtqueue::DriverStatus queue_tx(uint16_t slot, std::span<const uint8_t> payload, uint32_t stream = 0);
  // {stream_id, 0} header, payload_len writable bytes (kUnwritten), status.
  virtqueue::DriverStatus queue_rx(uint16_t slot, uint32_t payload_len, uint32_t stream = 1);
  void kick_tx() { kick(SndDevice::kTxQueue); }
  void kick_rx() { kick(SndDevice::kRxQueue); }
  std::vector<PcmDone> reap_tx();
  std::vector<PcmDone> reap_rx();
  std::vector<uint8_t> rx_payload(uint16_t slot, uint32_t len) const {
    return peek(rx_buf(slot) + kPayloadOffset, len);
  }

  void advance(uint64_t frames) { device->advance(frames); }

  std::unique_ptr<SndDevice> device;

 private:
  std::vector<PcmDone> reap_pcm(uint16_t q, uint64_t base);
  SndRigOptions options_;
  std::vector<uint32_t> tx_len_;  // payload length per TX slot
  std::vector<uint32_t> rx_len_;
};

// Little-endian request builders shared with the fuzzer and the tests.
std::vector<uint8_t> snd_pcm_request(uint32_t code, uint32_t stream);
std::vector<uint8_t> snd_set_params_request(uint32_t stream, uint32_t buffer_bytes, uint32_t period_bytes,
                                            uint8_t channels, uint8_t format, uint8_t rate,
                                            uint32_t features = 0);
std::vector<uint8_t> snd_query_info_request(uint32_t start, uint32_t count, uint32_t size);
// `frames` S16 frames of `channels` channels: a deterministic ramp from seed.
std::vector<uint8_t> snd_pattern(uint32_t frames, uint32_t channels, uint16_t seed);

}  // namespace aerov::model::devices::testing
