#include "drivers/windows7/common/snd_core.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/windows7/common/little_endian.hpp"

namespace aerov::drivers::windows7 {

namespace vq = virtqueue;
namespace wire = model::devices::snd;
using transport::TransportError;

namespace {

constexpr uint64_t kWantedFeatures = contract::feature_mask(contract::kFeatureVersion1) |
                                     contract::feature_mask(contract::kFeatureRingIndirectDesc);
constexpr uint64_t kRequiredFeatures = contract::feature_mask(contract::kFeatureVersion1);
constexpr uint32_t kResponseOffset = 64;
constexpr uint32_t kControlBytes = 256;
constexpr uint32_t kPcmSlotBytes = wire::kXferHdrBytes + wire::kPcmStatusBytes;
constexpr uint32_t kEventBytes = 8;
constexpr uint16_t kSegmentsPerPeriod = 3;

bool usable_size(uint16_t size, uint16_t min) {
  return size >= min && size <= SndCore::kMaxQueueSize && (size & (size - 1)) == 0;
}

uint16_t pcm_queue(uint32_t stream) {
  return stream == wire::kPlaybackStream ? SndCore::kTxQueue : SndCore::kRxQueue;
}

}  // namespace

const char* to_string(SndError e) {
  switch (e) {
    case SndError::kNone: return "none";
    case SndError::kInvalidArgument: return "invalid argument";
    case SndError::kBadState: return "not valid in this stream state";
    case SndError::kNotReady: return "not ready";
    case SndError::kTransport: return "transport error";
    case SndError::kQueueSize: return "unsupported queue size";
    case SndError::kNoMemory: return "no DMA memory";
    case SndError::kQueueInit: return "queue init failed";
    case SndError::kDeviceChanged: return "device changed across reset";
    case SndError::kDeviceStatus: return "device answered with an error status";
    case SndError::kNoResponse: return "no control response";
    case SndError::kUnsupportedDevice: return "device does not offer the contract's streams";
  }
  return "unknown";
}

// ---- bring-up ---------------------------------------------------------------

SndError SndCore::init(OsServices& os, const SndCoreConfig& config) {
  if (state_ != State::kUninitialized) return SndError::kInvalidArgument;
  os_ = &os;
  config_ = config;
  // DRV-1, DRV-2
  transport_error_ = attach_device(driver_, os, transport::ValidationMode::kStrict, &plan_);
  if (transport_error_ != TransportError::kNone) {
    log_event(os, LogLevel::kError, "snd: attach failed", static_cast<uint64_t>(transport_error_));
    return SndError::kTransport;
  }
  attached_ = true;
  state_ = State::kRunning;  // control() needs it; undone below on failure
  SndError e = bring_up(true);
  if (e == SndError::kNone) e = check_device();
  if (e != SndError::kNone) {
    log_event(os, LogLevel::kError, "snd: init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    state_ = State::kUninitialized;
    driver_.fail();
    return e;
  }
  log_event(os, LogLevel::kInfo, "snd: ready (features, interrupt mode)", features_,
            static_cast<uint64_t>(plan_.mode()));
  return SndError::kNone;
}

SndError SndCore::bring_up(bool first) {
  // STAT-3: RESET -> ACK -> DRIVER -> features -> FEATURES_OK -> queues -> DRIVER_OK.
  uint64_t accepted = 0;
  transport_error_ = reset_and_negotiate(driver_, kWantedFeatures, kRequiredFeatures, &accepted);
  uint16_t queues = 0;
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.num_queues(&queues);
  if (transport_error_ == TransportError::kNone && queues < kNumQueues) return SndError::kQueueSize;
  uint16_t sizes[kNumQueues] = {};
  for (uint16_t q = 0; q < kNumQueues && transport_error_ == TransportError::kNone; ++q) {
    transport_error_ = driver_.queue_size(q, &sizes[q]);
  }
  if (transport_error_ != TransportError::kNone) return SndError::kTransport;
  if (first) {
    // Every chain the core keeps in flight must fit its ring (SND-1).
    if (!usable_size(sizes[kControlQueue], 2) || !usable_size(sizes[kEventQueue], kEventBuffers) ||
        !usable_size(sizes[kTxQueue], kMaxPeriods * kSegmentsPerPeriod) ||
        !usable_size(sizes[kRxQueue], kMaxPeriods * kSegmentsPerPeriod)) {
      return SndError::kQueueSize;
    }
    features_ = accepted;
    for (uint16_t q = 0; q < kNumQueues; ++q) sizes_[q] = sizes[q];
    const SndError a = allocate();
    if (a != SndError::kNone) return a;
  } else {
    if (accepted != features_) return SndError::kDeviceChanged;
    for (uint16_t q = 0; q < kNumQueues; ++q) {
      if (sizes[q] != sizes_[q]) return SndError::kDeviceChanged;  // memory was sized for these
    }
  }
  QueueRings rings[kNumQueues];
  for (uint16_t q = 0; q < kNumQueues; ++q) {
    if (queues_[q].init(queue_config_[q]) != vq::DriverStatus::kOk) return SndError::kQueueInit;
    rings[q] = {queues_[q].desc_pa(), queues_[q].avail_pa(), queues_[q].used_pa()};
  }
  transport_error_ = setup_queues(driver_, &plan_, rings, kNumQueues, &counters_.vector_fallbacks,
                                *os_, "snd: device refused MSI-X vectors; now mode");
  if (transport_error_ != TransportError::kNone) return SndError::kTransport;
  for (uint16_t b = 0; b < kEventBuffers; ++b) {
    if (!post_event(b)) return SndError::kQueueInit;
  }
  driver_.driver_ok();
  config_generation_ = driver_.config_generation();
  kick(queues_[kEventQueue], kEventQueue);
  return SndError::kNone;
}

// SND-2, SND-3: at least the two streams, each offering the fixed format.
SndError SndCore::check_device() {
  uint8_t cfg[wire::kConfigBytes] = {};
  transport_error_ = driver_.read_device_config(0, cfg, wire::kConfigBytes);
  if (transport_error_ != TransportError::kNone) return SndError::kTransport;
  if (load_le(cfg + wire::kConfigStreams, 4) < kStreams) return SndError::kUnsupportedDevice;
  uint8_t req[wire::kQueryInfoBytes] = {};
  store_le(req, wire::kReqPcmInfo, 4);
  store_le(req + wire::kQueryStartId, 0, 4);
  store_le(req + wire::kQueryCount, kStreams, 4);
  store_le(req + wire::kQuerySize, wire::kPcmInfoBytes, 4);
  const SndError e = control(req, sizeof req, wire::kHdrBytes + kStreams * wire::kPcmInfoBytes);
  if (e != SndError::kNone) return e;
  const uint8_t* info = static_cast<const uint8_t*>(control_dma_.va) + kResponseOffset + wire::kHdrBytes;
  for (uint32_t s = 0; s < kStreams; ++s, info += wire::kPcmInfoBytes) {
    const uint8_t want_dir = s == wire::kPlaybackStream ? wire::kDirectionOutput : wire::kDirectionInput;
    const uint8_t ch = wire::stream_channels(s);
    if ((load_le(info + wire::kInfoFormats, 8) & (uint64_t{1} << wire::kFormatS16)) == 0 ||
        (load_le(info + wire::kInfoRates, 8) & (uint64_t{1} << wire::kRate48000)) == 0 ||
        info[wire::kInfoDirection] != want_dir || info[wire::kInfoChannelsMin] > ch ||
        info[wire::kInfoChannelsMax] < ch) {
      return SndError::kUnsupportedDevice;
    }
  }
  return SndError::kNone;
}

SndError SndCore::allocate() {
  for (uint16_t q = 0; q < kNumQueues; ++q) {
    const uint32_t bytes = static_cast<uint32_t>(vq::ring_layout(sizes_[q], false).total_bytes);
    if (!os_->alloc_dma(bytes, 4096, &rings_[q])) return SndError::kNoMemory;
  }
  if (!os_->alloc_dma(kControlBytes, 64, &control_dma_) ||
      !os_->alloc_dma(kStreams * kMaxPeriods * kPcmSlotBytes, 64, &pcm_dma_) ||
      !os_->alloc_dma(kEventBuffers * kEventBytes, 64, &event_dma_)) {
    log_event(*os_, LogLevel::kError, "snd: DMA allocation failed");
    return SndError::kNoMemory;
  }
  vq::DescState* states[kNumQueues] = {ctl_state_, evt_state_, tx_state_, rx_state_};
  for (uint16_t q = 0; q < kNumQueues; ++q) {
    queue_config_[q] = vq::DriverQueueConfig{};
    queue_config_[q].size = sizes_[q];
    queue_config_[q].ring = rings_[q];
    queue_config_[q].state = states[q];
  }
  return SndError::kNone;
}

bool SndCore::post_event(uint16_t index) {
  const vq::Segment seg{event_dma_.pa + uint32_t{index} * kEventBytes, kEventBytes, true};
  return queues_[kEventQueue].add(&seg, 1, &event_cookie_[index]) == vq::DriverStatus::kOk;
}

void SndCore::kick(vq::DriverQueue& q, uint16_t index) {
  q.publish();
  if (q.kick_needed()) {
    driver_.notify(index);
    ++counters_.kicks;
  }
}

// ---- control requests (SND-4) ---------------------------------------------------

SndError SndCore::control(const uint8_t* request, uint32_t request_bytes, uint32_t response_bytes) {
  if (state_ != State::kRunning) return SndError::kNotReady;
  uint8_t* base = static_cast<uint8_t*>(control_dma_.va);
  for (uint32_t i = 0; i < request_bytes; ++i) base[i] = request[i];
  for (uint32_t i = 0; i < response_bytes; ++i) base[kResponseOffset + i] = 0xFF;  // no status yet
  const vq::Segment segs[2] = {{control_dma_.pa, request_bytes, false},
                               {control_dma_.pa + kResponseOffset, response_bytes, true}};
  ++counters_.control_requests;
  vq::DriverQueue& q = queues_[kControlQueue];
  if (q.add(segs, 2, base) != vq::DriverStatus::kOk) {
    recover("snd: controlq full (a request was never answered)");
    return SndError::kNoResponse;
  }
  kick(q, kControlQueue);
  // One request at a time: the next used entry is this one's.
  vq::UsedBuffer used{};
  vq::DriverStatus st = vq::DriverStatus::kEmpty;
  for (uint32_t i = 0; i < kControlPolls; ++i) {
    st = q.get_used(&used);
    if (st != vq::DriverStatus::kEmpty) break;
    os_->stall_us(kControlPollUs);
  }
  if (st != vq::DriverStatus::kOk || used.len < wire::kHdrBytes) {
    ++counters_.control_failures;
    last_status_ = 0;
    recover(st == vq::DriverStatus::kOk ? "snd: control response without a status"
                                         : "snd: control request not answered");
    return SndError::kNoResponse;
  }
  last_status_ = static_cast<uint32_t>(load_le(base + kResponseOffset, 4));
  if (last_status_ != wire::kStatusOk) {
    ++counters_.control_failures;
    return SndError::kDeviceStatus;
  }
  return SndError::kNone;
}

SndError SndCore::pcm_command(uint32_t code, uint32_t stream) {
  uint8_t req[wire::kPcmHdrBytes] = {};
  store_le(req, code, 4);
  store_le(req + wire::kPcmHdrStreamId, stream, 4);
  return control(req, sizeof req, wire::kHdrBytes);
}

SndError SndCore::set_params(uint32_t stream) {
  const Stream& s = streams_[stream];
  uint8_t req[wire::kSetParamsBytes] = {};
  store_le(req, wire::kReqPcmSetParams, 4);
  store_le(req + wire::kPcmHdrStreamId, stream, 4);
  store_le(req + wire::kParamsBufferBytes, s.buffer_bytes, 4);
  store_le(req + wire::kParamsPeriodBytes, s.period_bytes, 4);
  req[wire::kParamsChannels] = wire::stream_channels(stream);
  req[wire::kParamsFormat] = wire::kFormatS16;
  req[wire::kParamsRate] = wire::kRate48000;
  return control(req, sizeof req, wire::kHdrBytes);
}

// ---- streams ------------------------------------------------------------------

SndError SndCore::open(uint32_t stream, DmaRegion buffer, uint32_t buffer_bytes, uint32_t period_bytes) {
  if (state_ != State::kRunning) return SndError::kNotReady;
  if (stream >= kStreams || buffer.va == nullptr || period_bytes == 0 ||
      period_bytes % wire::frame_bytes(stream) != 0 || period_bytes > wire::kMaxPayloadBytes ||
      buffer_bytes % period_bytes != 0 || buffer_bytes / period_bytes < kMinPeriods ||
      buffer_bytes / period_bytes > kMaxPeriods) {
    return SndError::kInvalidArgument;
  }
  Stream& s = streams_[stream];
  if (s.state != SndStreamState::kClosed) return SndError::kBadState;
  s = Stream{};
  s.buffer = buffer;
  s.buffer_bytes = buffer_bytes;
  s.period_bytes = period_bytes;
  s.periods = buffer_bytes / period_bytes;
  for (uint32_t i = 0; i < s.periods; ++i) {
    s.period[i] = Period{false, static_cast<uint8_t>(stream), static_cast<uint8_t>(i)};
  }
  SndError e = set_params(stream);
  if (e == SndError::kNone) e = pcm_command(wire::kReqPcmPrepare, stream);
  if (e != SndError::kNone) return e;
  s.state = SndStreamState::kPrepared;
  return SndError::kNone;
}

SndError SndCore::start(uint32_t stream) {
  if (state_ != State::kRunning) return SndError::kNotReady;
  if (stream >= kStreams) return SndError::kInvalidArgument;
  Stream& s = streams_[stream];
  if (s.state != SndStreamState::kPrepared && s.state != SndStreamState::kStopped) return SndError::kBadState;
  // A capture STOP may have ended inside a period: continue at the next one.
  realign(s);
  SndError e = SndError::kNone;
  if (stream == wire::kPlaybackStream) {
    e = submit_pending(stream, true);  // queued before START: no underrun at the start
    if (e == SndError::kNone) e = pcm_command(wire::kReqPcmStart, stream);
  } else {
    e = pcm_command(wire::kReqPcmStart, stream);  // SND-7: RX buffers only while running
    if (e == SndError::kNone) s.state = SndStreamState::kRunning;
    if (e == SndError::kNone) e = submit_pending(stream, true);
  }
  if (e == SndError::kNone) s.state = SndStreamState::kRunning;
  return e;
}

SndError SndCore::stop(uint32_t stream) {
  if (state_ != State::kRunning) return SndError::kNotReady;
  if (stream >= kStreams) return SndError::kInvalidArgument;
  Stream& s = streams_[stream];
  if (s.state != SndStreamState::kRunning) return SndError::kBadState;
  const SndError e = pcm_command(wire::kReqPcmStop, stream);
  if (e != SndError::kNone) return e;
  s.state = SndStreamState::kStopped;
  // Capture periods come back at STOP (SND-7); playback ones stay queued.
  drain_queues(1u << pcm_queue(stream));
  return SndError::kNone;
}

SndError SndCore::close(uint32_t stream) {
  if (state_ != State::kRunning) return SndError::kNotReady;
  if (stream >= kStreams) return SndError::kInvalidArgument;
  Stream& s = streams_[stream];
  if (s.state == SndStreamState::kClosed) return SndError::kBadState;
  if (s.state == SndStreamState::kRunning) {
    const SndError e = stop(stream);
    if (e != SndError::kNone) return e;
  }
  drain_queues(1u << pcm_queue(stream));  // what completed before RELEASE still counts
  const SndError e = pcm_command(wire::kReqPcmRelease, stream);
  if (e != SndError::kNone) return e;
  s.state = SndStreamState::kClosed;
  drain_queues(1u << pcm_queue(stream));  // the periods RELEASE gave back, uncounted
  return SndError::kNone;
}

// The position is kept as a 32-bit offset beside the 64-bit count: i686
// kernel code has no 64-bit division helpers (__umoddi3).
void SndCore::advance_position(Stream& s, uint32_t bytes) {
  s.bytes_done += bytes;
  s.offset += bytes;  // bytes <= period_bytes <= buffer_bytes: one wrap at most
  if (s.offset >= s.buffer_bytes) s.offset -= s.buffer_bytes;
}

// After a capture STOP inside a period: the next data lands at the next
// period boundary, so the position moves there.
void SndCore::realign(Stream& s) {
  const uint32_t partial = s.offset % s.period_bytes;
  if (partial != 0) advance_position(s, s.period_bytes - partial);
}

uint32_t SndCore::position(uint32_t stream) const {
  if (stream >= kStreams || streams_[stream].buffer_bytes == 0) return 0;
  return streams_[stream].offset;
}

uint32_t SndCore::periods_in_flight(uint32_t stream) const {
  if (stream >= kStreams) return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < streams_[stream].periods; ++i) n += streams_[stream].period[i].busy ? 1 : 0;
  return n;
}

uint8_t* SndCore::status_va(uint32_t stream, uint32_t index) const {
  return static_cast<uint8_t*>(pcm_dma_.va) + (stream * kMaxPeriods + index) * kPcmSlotBytes + wire::kXferHdrBytes;
}

// SND-6 / SND-7: header, the period in the cyclic buffer, status.
SndError SndCore::submit_period(uint32_t stream, uint32_t index) {
  Stream& s = streams_[stream];
  const uint32_t slot = (stream * kMaxPeriods + index) * kPcmSlotBytes;
  uint8_t* hdr = static_cast<uint8_t*>(pcm_dma_.va) + slot;
  store_le(hdr, stream, 4);
  store_le(hdr + 4, 0, 4);
  for (uint32_t i = 0; i < wire::kPcmStatusBytes; ++i) hdr[wire::kXferHdrBytes + i] = 0xFF;
  const bool capture = stream == wire::kCaptureStream;
  const vq::Segment segs[kSegmentsPerPeriod] = {
      {pcm_dma_.pa + slot, wire::kXferHdrBytes, false},
      {s.buffer.pa + uint64_t{index} * s.period_bytes, s.period_bytes, capture},
      {pcm_dma_.pa + slot + wire::kXferHdrBytes, wire::kPcmStatusBytes, true}};
  if (queues_[pcm_queue(stream)].add(segs, kSegmentsPerPeriod, &s.period[index]) != vq::DriverStatus::kOk) {
    return SndError::kQueueInit;  // cannot happen: the ring holds every period (bring_up checked)
  }
  s.period[index].busy = true;
  ++counters_.periods_submitted;
  return SndError::kNone;
}

// Queues every idle period in play order, starting with the one due next.
SndError SndCore::submit_pending(uint32_t stream, bool kick_now) {
  Stream& s = streams_[stream];
  for (uint32_t k = 0; k < s.periods; ++k) {
    const uint32_t index = (s.next_done + k) % s.periods;
    if (s.period[index].busy) continue;
    const SndError e = submit_period(stream, index);
    if (e != SndError::kNone) return e;
  }
  if (kick_now) kick(queues_[pcm_queue(stream)], pcm_queue(stream));
  return SndError::kNone;
}

// ---- interrupts and completion ------------------------------------------------

bool SndCore::interrupt() {
  if (!attached_) return false;
  return service(decode_intx(driver_, kNumQueues), &counters_.interrupts);
}

bool SndCore::message_interrupt(uint16_t message) {
  if (!attached_) return false;
  if (!plan_.uses_msix()) return interrupt();
  return service(decode_message(driver_, plan_, message, kNumQueues, &config_generation_), &counters_.messages);
}

bool SndCore::service(const InterruptWork& work, uint64_t* counter) {
  if (!work.ours) {
    ++counters_.spurious;
    return false;
  }
  ++*counter;
  if (state_ != State::kRunning) return true;
  if (work.needs_reset) {
    recover("snd: device needs reset");
    return true;
  }
  drain_queues(work.queues);
  return true;
}

void SndCore::poll() {
  if (state_ != State::kRunning) return;
  if (driver_.needs_reset()) {
    recover("snd: device needs reset");
    return;
  }
  drain_queues(~0u);
}

void SndCore::drain_queues(uint32_t queues) {
  if ((queues & (1u << kTxQueue)) != 0 && !drain_pcm(wire::kPlaybackStream)) return;
  if ((queues & (1u << kRxQueue)) != 0 && !drain_pcm(wire::kCaptureStream)) return;
  if ((queues & (1u << kEventQueue)) != 0) drain_events();
}

// Returns false when the ring was broken and the core recovered (or failed).
bool SndCore::drain_pcm(uint32_t stream) {
  vq::DriverQueue& q = queues_[pcm_queue(stream)];
  Stream& s = streams_[stream];
  bool resubmitted = false;
  for (uint32_t i = 0; i < 2u * kMaxPeriods + 1; ++i) {  // each period at most twice per call
    vq::UsedBuffer used{};
    const vq::DriverStatus st = q.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!draining_) recover("snd: pcm queue protocol violation (VQ-9)");
      return false;
    }
    resets_without_progress_ = 0;
    Period& p = *static_cast<Period*>(used.cookie);
    complete_period(p, used.len);
    if (s.state == SndStreamState::kRunning && !draining_) {
      resubmitted |= submit_period(stream, p.index) == SndError::kNone;
    }
  }
  if (resubmitted) kick(q, pcm_queue(stream));
  return true;
}

void SndCore::complete_period(Period& p, uint32_t used_len) {
  Stream& s = streams_[p.stream];
  p.busy = false;
  if (s.state == SndStreamState::kClosed) return;  // given back by RELEASE: never played
  ++counters_.periods_completed;
  const uint32_t status = static_cast<uint32_t>(load_le(status_va(p.stream, p.index), 4));
  if (status != wire::kStatusOk) ++counters_.period_errors;
  uint32_t bytes = s.period_bytes;
  if (p.stream == wire::kCaptureStream) {
    // used.len = captured bytes + status (SND-7); get_used refused more
    // than the chain could take (VQ-9).
    if (used_len < wire::kPcmStatusBytes) {
      ++counters_.short_status;
      used_len = wire::kPcmStatusBytes;
    }
    bytes = status == wire::kStatusOk ? used_len - wire::kPcmStatusBytes : s.period_bytes;
    if (bytes > s.period_bytes) bytes = s.period_bytes;
  }
  advance_position(s, bytes);
  s.next_done = (p.index + 1u) % s.periods;
  if (config_.on_period != nullptr) config_.on_period(config_.context, p.stream, s.bytes_done);
}

bool SndCore::drain_events() {
  vq::DriverQueue& q = queues_[kEventQueue];
  bool reposted = false;
  for (uint32_t i = 0; i < kEventBuffers; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = q.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!draining_) recover("snd: eventq protocol violation (VQ-9)");
      return false;
    }
    ++counters_.events;  // SND-5: tolerated, and the buffer goes back
    reposted |= post_event(static_cast<uint16_t>(static_cast<uint8_t*>(used.cookie) - event_cookie_));
  }
  if (reposted) kick(q, kEventQueue);
  return true;
}

// ---- recovery ------------------------------------------------------------------

void SndCore::recover(const char* why) {
  if (recovering_ || state_ != State::kRunning) return;
  recovering_ = true;
  ++counters_.resets;
  log_event(*os_, LogLevel::kWarning, why, static_cast<uint64_t>(queues_[kTxQueue].broken_reason()),
            static_cast<uint64_t>(queues_[kRxQueue].broken_reason()));
  // What the device completed before it gave up counts (its rings were intact).
  draining_ = true;
  drain_pcm(wire::kPlaybackStream);
  drain_pcm(wire::kCaptureStream);
  draining_ = false;
  if (++resets_without_progress_ > kMaxResetsWithoutProgress) {
    recovering_ = false;
    fail_device();
    return;
  }
  SndError e = bring_up(false);
  for (uint32_t stream = 0; stream < kStreams && e == SndError::kNone; ++stream) {
    Stream& s = streams_[stream];
    for (uint32_t i = 0; i < s.periods; ++i) {
      if (s.period[i].busy) ++counters_.resubmitted;
      s.period[i].busy = false;  // the reset took every chain back
    }
    if (s.state == SndStreamState::kClosed) continue;
    e = set_params(stream);
    if (e == SndError::kNone) e = pcm_command(wire::kReqPcmPrepare, stream);
    const bool running = s.state == SndStreamState::kRunning;
    if (stream == wire::kPlaybackStream) {
      if (e == SndError::kNone) e = submit_pending(stream, true);  // unplayed periods, in order
      if (e == SndError::kNone && running) e = pcm_command(wire::kReqPcmStart, stream);
    } else if (running) {
      realign(s);
      if (e == SndError::kNone) e = pcm_command(wire::kReqPcmStart, stream);
      if (e == SndError::kNone) e = submit_pending(stream, true);
    }
  }
  recovering_ = false;
  if (e != SndError::kNone) {
    log_event(*os_, LogLevel::kError, "snd: re-init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    fail_device();
  }
}

void SndCore::fail_device() {
  state_ = State::kFailed;
  driver_.fail();
  log_event(*os_, LogLevel::kError, "snd: device failed");
  for (Stream& s : streams_) {
    for (uint32_t i = 0; i < s.periods; ++i) s.period[i].busy = false;
  }
}

}  // namespace aerov::drivers::windows7
