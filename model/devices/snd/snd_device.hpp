// virtio-snd device model (contract section 9, SND-1..SND-8) on the
// virtio-pci transport (transport::VirtioDevice), an AudioSink for playback
// and a CaptureSource for capture.
//
// Queues controlq (0), eventq (1), txq (2), rxq (3) with the contract's
// sizes, features VERSION_1 and INDIRECT_DESC (SND-1); config {jacks 0,
// streams 2, chmaps 0} (SND-2), read-only, zero after. Stream 0 plays
// 2 x S16_LE at 48000 Hz, stream 1 captures 1 x S16_LE at 48000 Hz (SND-3).
//
// Time. The device never reads a clock. The machine calls advance(frames)
// to let that many frames of stream time pass; the frames are owed to both
// streams and paid inside the next queue_notify (the on_time_pending hook,
// wired to VirtioPciFunction::process_queue(kTxQueue), runs one at once),
// so every DMA stays behind the transport's DRIVER_OK and Bus Master gates
// (BAR-4). Time owed to a stream that is not running is forgotten.
//
// Decisions the contract leaves to the device (the guest is hostile):
//
// controlq (SND-4). A request is the chain's readable bytes, the response
//   goes into its writable bytes; used.len = bytes of response written.
//   * Fewer than 4 readable bytes, or a known code whose request is not
//     exactly its struct's size, or a stream id >= 2: BAD_MSG.
//   * Codes other than the six PCM requests: NOT_SUPP.
//   * PCM_INFO: size must be 32, start_id + count <= 2 and the writable
//     part must hold 4 + 32 * count bytes, else BAD_MSG.
//   * SET_PARAMS: features 0, the stream's channels, S16, 48000 only, else
//     NOT_SUPP; period_bytes a non-zero multiple of the frame size and at
//     most 262144, buffer_bytes a non-zero multiple of period_bytes, else
//     BAD_MSG.
//   * The state machine is virtio's: SET_PARAMS from idle, params-set,
//     prepared or released; PREPARE from params-set, prepared or released;
//     START from prepared or stopped; STOP from running; RELEASE from
//     prepared or stopped. Any other request in a state answers BAD_MSG
//     and changes nothing.
//   * A response place under 4 bytes cannot carry a status: the chain is
//     completed with used.len 0 and counted (ctl_no_response).
// eventq (SND-5). Well-formed buffers (only writable bytes) are kept and
//   never completed; the transport's reset returns them. A chain error or a
//   buffer with readable bytes is completed at once with used.len 0.
// txq / rxq (SND-6..SND-8). The status is the chain's last 8 writable
//   bytes; a chain with fewer than 8 writable bytes cannot be answered and
//   is completed with used.len 0 (counted). Else BAD_MSG for: a ring chain
//   error, a header under 8 bytes, the wrong stream (0 on txq, 1 on rxq),
//   TX with more than 8 writable bytes, RX with more than 8 readable bytes,
//   a payload over 262144 bytes or not a whole number of frames.
//   * TX buffers are accepted while stream 0 is prepared, running or
//     stopped and play in order while it runs; each completes OK (used.len
//     8, latency_bytes = payload still queued behind it) once its last byte
//     was played. Time with nothing queued plays silence (underrun_frames,
//     underruns). In any other state: IO_ERR at once. RELEASE completes the
//     unplayed ones with IO_ERR before it answers, and so does SET_PARAMS
//     (allowed from prepared: the buffers were queued for the old parameters).
//   * RX buffers are taken only while stream 1 runs (else IO_ERR at once)
//     and filled in order from the source (silence without one); a full
//     buffer completes OK with used.len = payload + 8. STOP completes the
//     partly filled ones OK with what they hold. Captured frames with no
//     buffer waiting are dropped (overrun_frames).
//
// Work per doorbell is bounded (VQ-8): at most N chains popped per queue.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/backends/audio/audio_backend.hpp"
#include "model/devices/snd/snd_wire.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::model::devices {

enum class PcmState : uint8_t { kIdle, kParamsSet, kPrepared, kRunning, kStopped, kReleased };
const char* to_string(PcmState s);

// What the device did, per cause.
struct SndStats {
  uint64_t ctl_ok = 0;
  uint64_t ctl_bad_msg = 0;
  uint64_t ctl_not_supp = 0;
  uint64_t ctl_bad_state = 0;      // a BAD_MSG for a request the state forbids
  uint64_t ctl_no_response = 0;    // no room for a status: used.len 0
  uint64_t event_held = 0;         // eventq buffers kept
  uint64_t event_rejected = 0;     // eventq chains completed with len 0
  uint64_t tx_buffers = 0;         // completed OK
  uint64_t tx_bytes = 0;           // guest payload played
  uint64_t rx_buffers = 0;         // completed OK
  uint64_t rx_bytes = 0;           // payload bytes written to the guest
  uint64_t pcm_bad_msg = 0;
  uint64_t pcm_io_err = 0;
  uint64_t pcm_no_status = 0;      // no room for a status: used.len 0
  uint64_t underruns = 0;          // advance() calls that ran out of TX data
  uint64_t underrun_frames = 0;    // silence frames played
  uint64_t overrun_frames = 0;     // captured frames with no RX buffer
};

class SndDevice final : public transport::VirtioDevice {
 public:
  static constexpr uint16_t kControlQueue = snd::kControlQueue;
  static constexpr uint16_t kEventQueue = snd::kEventQueue;
  static constexpr uint16_t kTxQueue = snd::kTxQueue;
  static constexpr uint16_t kRxQueue = snd::kRxQueue;

  // sink / source may be null (playback discarded, capture silent).
  SndDevice(backends::AudioSink* sink, backends::CaptureSource* source);
  SndDevice(const SndDevice&) = delete;
  SndDevice& operator=(const SndDevice&) = delete;

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

  // Lets `frames` frames of stream time pass (virtual time, both streams).
  void advance(uint64_t frames);
  // Called by advance(); wire it to process_queue(kTxQueue).
  std::function<void()> on_time_pending;

  PcmState state(uint32_t stream) const { return streams_[stream].state; }
  size_t tx_pending() const { return streams_[0].pending.size() - streams_[0].first; }
  size_t rx_pending() const { return streams_[1].pending.size() - streams_[1].first; }
  size_t events_held() const { return events_held_; }
  uint64_t frames_played() const { return streams_[0].frames_done; }
  uint64_t frames_captured() const { return streams_[1].frames_done; }
  const SndStats& stats() const { return stats_; }

 private:
  // A PCM buffer the device holds: its payload pieces and where its status goes.
  struct PcmBuffer {
    uint16_t head = 0;
    std::vector<virtqueue::ChainSegment> payload;
    uint64_t payload_bytes = 0;
    uint64_t done_bytes = 0;  // played (TX) or filled (RX)
    std::vector<virtqueue::ChainSegment> status;
  };
  struct Stream {
    PcmState state = PcmState::kIdle;
    std::vector<PcmBuffer> pending;  // in order; at most the queue size
    size_t first = 0;                // pending[first..] still owed
    uint64_t owed_frames = 0;
    uint64_t frames_done = 0;
  };

  bool serve_control(transport::DeviceTransport& t);
  bool serve_events(transport::DeviceTransport& t);
  bool serve_pcm(uint16_t q, transport::DeviceTransport& t);
  bool run_clock(transport::DeviceTransport& t, bool& tx_published, bool& rx_published);
  uint32_t control_request(const virtqueue::DescChain& chain, transport::DeviceTransport& t,
                           std::vector<uint8_t>& response);
  uint32_t pcm_info(const uint8_t* req, uint64_t writable, std::vector<uint8_t>& response);
  uint32_t set_params(const uint8_t* req);
  uint32_t transition(uint32_t code, uint32_t stream, transport::DeviceTransport& t);
  uint32_t accept_pcm(uint16_t q, const virtqueue::DescChain& chain, transport::DeviceTransport& t,
                      PcmBuffer& out);
  void complete_pcm(uint16_t q, PcmBuffer& b, uint32_t status, uint32_t used_len,
                    uint32_t latency, transport::DeviceTransport& t);
  bool flush_stream(uint32_t stream, uint32_t status, transport::DeviceTransport& t);
  bool play(uint64_t frames, transport::DeviceTransport& t);
  bool capture(uint64_t frames, transport::DeviceTransport& t);
  void compact(Stream& s);

  backends::AudioSink* sink_;
  backends::CaptureSource* source_;
  backends::SilenceSource silence_;
  transport::DeviceTransport* transport_ = nullptr;
  Stream streams_[snd::kStreamCount];
  size_t events_held_ = 0;
  bool tx_flushed_ = false;   // a flush inside control completed txq buffers
  bool rx_flushed_ = false;
  virtqueue::DescChain chain_;
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> response_;
  SndStats stats_;
};

}  // namespace aerov::model::devices
