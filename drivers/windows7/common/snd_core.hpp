// The portable core of the virtio-snd WaveRT miniport (contract sections
// 3-5, 9 and 10: STAT-3, STAT-4, VQ-9, SND-1..SND-8, DRV-1, DRV-2).
//
// Streams. Stream 0 plays and stream 1 captures, with the contract's fixed
// format (SND-3). The WaveRT glue gives the core the cyclic buffer the OS
// allocated (physically contiguous DMA memory) cut into 2..kMaxPeriods
// periods. open() sends SET_PARAMS and PREPARE; start() queues every period
// and sends START; stop() sends STOP; close() sends RELEASE.
//
// Periods. Each period is one chain: the core's {stream_id, 0} header
// (readable), the period's bytes in the cyclic buffer (readable for
// playback, writable for capture), the core's 8-byte status (writable).
// The device completes them in order as the stream's time passes; each
// completion advances the stream position by the bytes it carried and, while
// the stream runs, the period is queued again at once: for playback it plays
// again one buffer-length later (WaveRT: the application has refilled it by
// then), for capture it is filled again. Every period is in flight at most
// once, so at most kMaxPeriods chains of 3 descriptors per queue: they fit
// the contract's rings (SND-1) without indirect descriptors.
//
// Position (what IMiniportWaveRTStream::GetPosition reports): bytes_done()
// counts every byte completed since open(); position() is that offset in
// the cyclic buffer. It advances only as periods complete. A capture STOP
// returns a partly filled period (SND-7); its bytes count, and the next
// start() continues at the following period boundary.
//
// Control requests are synchronous: one at a time, the core waits for the
// completion on controlq (up to kControlPolls looks at the used ring with
// a kControlPollUs stall between them, about 100 ms: a device model on
// another host thread answers well within that; one that does not answer
// is reset, STAT-4). A non-OK status fails
// the call with kDeviceStatus and last_status() says which.
//
// eventq (SND-5): kEventBuffers buffers stay posted; the core does not need
// events, and any the device sends are counted and the buffer reposted.
//
// Recovery (STAT-4, VQ-9). On DEVICE_NEEDS_RESET, a broken ring or a
// control timeout the core first takes what the device completed, then
// resets and brings the device up in the same memory, and restores every
// open stream: SET_PARAMS and PREPARE again, the periods that had not
// completed queued again in their order, START if it was running. The
// position is kept: nothing completed is counted twice, nothing unplayed is
// lost. Too many resets without progress fail the device.
//
// Freestanding; the caller serialises every call; memory is fixed arrays in
// the object plus DMA memory allocated once at init.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/windows7/common/interrupts.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "model/devices/snd/snd_wire.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::drivers::windows7 {

enum class SndError : uint8_t {
  kNone = 0,
  kInvalidArgument,  // bad stream, buffer, period size or count
  kBadState,         // the call is not valid in the stream's current state
  kNotReady,         // init has not succeeded, or the device failed
  kTransport,        // see transport_error()
  kQueueSize,        // a queue size or count the core cannot use
  kNoMemory,         // OsServices::alloc_dma failed
  kQueueInit,        // DriverQueue refused the memory
  kDeviceChanged,    // after a reset the device offers less than before
  kDeviceStatus,     // the device answered a control request with non-OK
  kNoResponse,       // no (or a malformed) control response: device reset
  kUnsupportedDevice,// config or PCM_INFO does not describe the contract's streams
};

const char* to_string(SndError e);

enum class SndStreamState : uint8_t { kClosed, kPrepared, kRunning, kStopped };

// A period completed: the position moved (WaveRT notification events).
using SndPeriodFn = void (*)(void* context, uint32_t stream, uint64_t bytes_done);

struct SndCoreConfig {
  SndPeriodFn on_period;  // may be null
  void* context;
};

struct SndCounters {
  uint64_t control_requests;
  uint64_t control_failures;   // non-OK status or no response
  uint64_t periods_submitted;
  uint64_t periods_completed;
  uint64_t period_errors;      // a period completed with a non-OK status
  uint64_t short_status;       // used.len too small to carry the status
  uint64_t events;             // unexpected eventq completions (SND-5)
  uint64_t kicks;
  uint64_t interrupts;
  uint64_t messages;
  uint64_t spurious;
  uint64_t vector_fallbacks;
  uint64_t resets;
  uint64_t resubmitted;        // periods queued again after a reset
};

class SndCore {
 public:
  static constexpr uint16_t kControlQueue = model::devices::snd::kControlQueue;
  static constexpr uint16_t kEventQueue = model::devices::snd::kEventQueue;
  static constexpr uint16_t kTxQueue = model::devices::snd::kTxQueue;
  static constexpr uint16_t kRxQueue = model::devices::snd::kRxQueue;
  static constexpr uint16_t kNumQueues = 4;
  static constexpr uint16_t kMaxQueueSize = 256;
  static constexpr uint32_t kStreams = model::devices::snd::kStreamCount;
  static constexpr uint32_t kMinPeriods = 2;
  static constexpr uint32_t kMaxPeriods = 16;
  static constexpr uint16_t kEventBuffers = 8;
  static constexpr uint32_t kControlPolls = 10000;
  static constexpr uint32_t kControlPollUs = 10;
  static constexpr uint32_t kMaxResetsWithoutProgress = 4;

  // DRV-1, STAT-3: attach (strict, revision 1), reset, negotiate, check
  // the configuration (SND-2) and the streams (PCM_INFO, SND-3), allocate,
  // program the four queues, post eventq buffers, DRIVER_OK.
  SndError init(OsServices& os, const SndCoreConfig& config);

  // SET_PARAMS + PREPARE. `buffer` is the cyclic buffer (va and bus
  // address), buffer_bytes = periods * period_bytes, period_bytes a whole
  // number of frames and at most 262144 (SND-8).
  SndError open(uint32_t stream, DmaRegion buffer, uint32_t buffer_bytes, uint32_t period_bytes);
  SndError start(uint32_t stream);
  SndError stop(uint32_t stream);
  // RELEASE; the device gives every period back. The stream is closed.
  SndError close(uint32_t stream);

  uint64_t bytes_done(uint32_t stream) const { return stream < kStreams ? streams_[stream].bytes_done : 0; }
  uint32_t position(uint32_t stream) const;
  SndStreamState state(uint32_t stream) const {
    return stream < kStreams ? streams_[stream].state : SndStreamState::kClosed;
  }
  uint32_t periods_in_flight(uint32_t stream) const;

  bool interrupt();
  bool message_interrupt(uint16_t message);
  void poll();

  bool ready() const { return state_ == State::kRunning; }
  bool failed() const { return state_ == State::kFailed; }
  uint32_t last_status() const { return last_status_; }
  transport::TransportError transport_error() const { return transport_error_; }
  InterruptMode interrupt_mode() const { return plan_.mode(); }
  const SndCounters& counters() const { return counters_; }

 private:
  enum class State : uint8_t { kUninitialized, kRunning, kFailed };

  struct Period {
    bool busy;        // a chain is in the device's hands
    uint8_t stream;
    uint8_t index;
  };
  struct Stream {
    SndStreamState state;
    DmaRegion buffer;
    uint32_t buffer_bytes;
    uint32_t period_bytes;
    uint32_t periods;
    uint32_t next_done;     // the period the device completes next
    uint64_t bytes_done;
    uint32_t offset;        // bytes_done modulo buffer_bytes
    Period period[kMaxPeriods];
  };

  SndError bring_up(bool first);
  SndError check_device();
  SndError allocate();
  SndError control(const uint8_t* request, uint32_t request_bytes, uint32_t response_bytes);
  SndError pcm_command(uint32_t code, uint32_t stream);
  SndError set_params(uint32_t stream);
  SndError submit_period(uint32_t stream, uint32_t index);
  SndError submit_pending(uint32_t stream, bool all);
  bool post_event(uint16_t index);
  void kick(virtqueue::DriverQueue& q, uint16_t index);
  bool service(const InterruptWork& work, uint64_t* counter);
  void drain_queues(uint32_t queues);
  bool drain_pcm(uint32_t stream);
  bool drain_events();
  void complete_period(Period& p, uint32_t used_len);
  void advance_position(Stream& s, uint32_t bytes);
  void realign(Stream& s);
  void recover(const char* why);
  void fail_device();
  uint8_t* status_va(uint32_t stream, uint32_t index) const;

  OsServices* os_ = nullptr;
  SndCoreConfig config_{};
  State state_ = State::kUninitialized;
  bool attached_ = false;
  bool recovering_ = false;
  bool draining_ = false;
  transport::VirtioPciDriver driver_{};
  transport::TransportError transport_error_ = transport::TransportError::kNone;
  InterruptPlan plan_{};
  uint8_t config_generation_ = 0;
  uint32_t last_status_ = 0;
  uint64_t features_ = 0;
  uint16_t sizes_[kNumQueues] = {};

  virtqueue::DriverQueue queues_[kNumQueues] = {};
  virtqueue::DriverQueueConfig queue_config_[kNumQueues] = {};
  DmaRegion rings_[kNumQueues] = {};
  DmaRegion control_dma_{};  // request at 0, response at kResponseOffset
  DmaRegion pcm_dma_{};      // per stream and period: header (8) and status (8)
  DmaRegion event_dma_{};    // kEventBuffers buffers of 8 bytes
  virtqueue::DescState ctl_state_[kMaxQueueSize] = {};
  virtqueue::DescState evt_state_[kMaxQueueSize] = {};
  virtqueue::DescState tx_state_[kMaxQueueSize] = {};
  virtqueue::DescState rx_state_[kMaxQueueSize] = {};
  uint8_t event_cookie_[kEventBuffers] = {};
  Stream streams_[kStreams] = {};
  uint32_t resets_without_progress_ = 0;
  SndCounters counters_{};
};

}  // namespace aerov::drivers::windows7
