#include "model/devices/snd/snd_device.hpp"

#include <algorithm>
#include <cstring>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices {

namespace vq = virtqueue;

namespace {

constexpr const contract::DeviceSpec& kSpec = contract::kSnd;
// Silence and dropped capture move through scratch memory in pieces of this.
constexpr uint64_t kChunkBytes = 64 * 1024;

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void put_le(uint8_t* p, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The pieces of a chain's readable (or writable) byte stream [from, from + len).
std::vector<vq::ChainSegment> slice(const vq::DescChain& chain, bool writable, uint64_t from,
                                    uint64_t len) {
  std::vector<vq::ChainSegment> out;
  uint64_t at = 0;
  for (const vq::ChainSegment& s : chain.segments) {
    if (s.writable != writable || s.len == 0) continue;
    const uint64_t lo = std::max(at, from);
    const uint64_t hi = std::min(at + s.len, from + len);
    if (lo < hi) out.push_back({s.addr + (lo - at), static_cast<uint32_t>(hi - lo), writable});
    at += s.len;
  }
  return out;
}

// Calls access(guest address, offset into the host bytes, length) for each
// piece of [skip, skip + len) of a buffer's pieces. Every piece was checked
// by the ring walker; a failed access still fails cleanly.
template <typename Access>
bool each_piece(const std::vector<vq::ChainSegment>& pieces, uint64_t skip, uint64_t len, Access access) {
  uint64_t at = 0;
  for (const vq::ChainSegment& s : pieces) {
    if (at == len) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(s.len - skip, len - at);
    if (!access(s.addr + skip, at, n)) return false;
    at += n;
    skip = 0;
  }
  return at == len;
}

bool copy_in(GuestMemory& mem, const std::vector<vq::ChainSegment>& pieces, uint64_t skip, uint8_t* out,
             uint64_t len) {
  return each_piece(pieces, skip, len, [&](uint64_t gpa, uint64_t at, uint64_t n) {
    return mem.read(gpa, out + at, n) == MemError::kOk;
  });
}

bool copy_out(GuestMemory& mem, const std::vector<vq::ChainSegment>& pieces, uint64_t skip,
              const uint8_t* data, uint64_t len) {
  return each_piece(pieces, skip, len, [&](uint64_t gpa, uint64_t at, uint64_t n) {
    return mem.write(gpa, data + at, n) == MemError::kOk;
  });
}

// Pops at most N chains from queue q (VQ-8) and hands each pop status to
// serve, which returns whether it completed the chain; a ring error raises
// DEVICE_NEEDS_RESET (STAT-4) and stops the walk.
template <typename Serve>
bool serve_ring(transport::DeviceTransport& t, uint16_t q, vq::DescChain& chain, Serve serve) {
  vq::DeviceQueue& ring = t.queue(q);
  if (!ring.configured()) return false;
  bool published = false;
  for (uint16_t n = 0; n < ring.size(); ++n) {
    const vq::PopStatus s = ring.pop(chain);
    if (s == vq::PopStatus::kEmpty) break;
    if (s == vq::PopStatus::kRingError) {
      t.set_needs_reset();
      break;
    }
    published |= serve(s);
  }
  return published;
}

// Moves up to `left` bytes of stream time through the buffers waiting in
// order: transfer(buffer, n) moves n bytes at its done_bytes, finish(buffer)
// completes a full one. Returns whether any buffer completed.
template <typename StreamT, typename Transfer, typename Finish>
bool consume(StreamT& s, uint64_t& left, Transfer transfer, Finish finish) {
  bool completed = false;
  while (left > 0 && s.first < s.pending.size()) {
    auto& b = s.pending[s.first];
    const uint64_t n = std::min(left, b.payload_bytes - b.done_bytes);
    transfer(b, n);
    b.done_bytes += n;
    left -= n;
    if (b.done_bytes == b.payload_bytes) {
      finish(b);
      ++s.first;
      completed = true;
    }
  }
  return completed;
}

uint32_t request_size(uint32_t code) {
  switch (code) {
    case snd::kReqPcmInfo: return snd::kQueryInfoBytes;
    case snd::kReqPcmSetParams: return snd::kSetParamsBytes;
    case snd::kReqPcmPrepare:
    case snd::kReqPcmRelease:
    case snd::kReqPcmStart:
    case snd::kReqPcmStop: return snd::kPcmHdrBytes;
    default: return 0;  // not a request this device knows
  }
}

bool transition_allowed(uint32_t code, PcmState s) {
  switch (code) {
    case snd::kReqPcmSetParams:
      return s == PcmState::kIdle || s == PcmState::kParamsSet || s == PcmState::kPrepared ||
             s == PcmState::kReleased;
    case snd::kReqPcmPrepare:
      return s == PcmState::kParamsSet || s == PcmState::kPrepared || s == PcmState::kReleased;
    case snd::kReqPcmStart: return s == PcmState::kPrepared || s == PcmState::kStopped;
    case snd::kReqPcmStop: return s == PcmState::kRunning;
    case snd::kReqPcmRelease: return s == PcmState::kPrepared || s == PcmState::kStopped;
    default: return false;
  }
}

PcmState state_after(uint32_t code) {
  switch (code) {
    case snd::kReqPcmSetParams: return PcmState::kParamsSet;
    case snd::kReqPcmPrepare: return PcmState::kPrepared;
    case snd::kReqPcmStart: return PcmState::kRunning;
    case snd::kReqPcmStop: return PcmState::kStopped;
    default: return PcmState::kReleased;
  }
}

}  // namespace

const char* to_string(PcmState s) {
  switch (s) {
    case PcmState::kIdle: return "idle";
    case PcmState::kParamsSet: return "params-set";
    case PcmState::kPrepared: return "prepared";
    case PcmState::kRunning: return "running";
    case PcmState::kStopped: return "stopped";
    case PcmState::kReleased: return "released";
  }
  return "?";
}

SndDevice::SndDevice(backends::AudioSink* sink, backends::CaptureSource* source)
    : sink_(sink), source_(source) {}

uint16_t SndDevice::device_type() const { return static_cast<uint16_t>(kSpec.virtio_type); }
uint64_t SndDevice::device_features() const { return kSpec.features_offered; }  // SND-1
uint16_t SndDevice::num_queues() const { return kSpec.num_queues; }
uint16_t SndDevice::queue_size(uint16_t q) const {
  return q < kSpec.num_queues ? kSpec.queues[q].size : 0;
}

uint64_t SndDevice::config_read(uint32_t offset, unsigned width) {
  uint8_t image[snd::kConfigBytes] = {};  // SND-2: jacks 0, chmaps 0
  put_le(image + snd::kConfigStreams, snd::kStreamCount, 4);
  uint64_t v = 0;
  for (unsigned i = 0; i < width && i < 8; ++i) {
    const uint64_t at = uint64_t{offset} + i;
    if (at < sizeof image) v |= uint64_t{image[at]} << (8 * i);
  }
  return v;
}

void SndDevice::config_write(uint32_t, unsigned, uint64_t) {
  // Every field is driver-read-only.
}

void SndDevice::activate(transport::DeviceTransport& transport) { transport_ = &transport; }

void SndDevice::reset() {
  // STAT-2: held buffers belong to the old rings; the transport's reset
  // returns them to the driver, uncompleted.
  transport_ = nullptr;
  for (Stream& s : streams_) s = Stream{};
  events_held_ = 0;
}

void SndDevice::advance(uint64_t frames) {
  // Saturating: frames * frame bytes must never wrap (2^40 frames is
  // more than 260 days of stream time).
  constexpr uint64_t kMaxOwedFrames = uint64_t{1} << 40;
  for (Stream& s : streams_) {
    if (s.state != PcmState::kRunning) continue;
    s.owed_frames = std::min(kMaxOwedFrames, s.owed_frames + std::min(frames, kMaxOwedFrames));
  }
  if (on_time_pending) on_time_pending();
}

void SndDevice::queue_notify(uint16_t q, transport::DeviceTransport& t) {
  if (q >= num_queues()) return;
  tx_flushed_ = rx_flushed_ = false;
  bool published = false;
  if (q == kControlQueue) published = serve_control(t);
  if (q == kEventQueue) published = serve_events(t);
  bool tx_published = false;
  bool rx_published = false;
  if (q == kTxQueue) tx_published = serve_pcm(kTxQueue, t);
  if (q == kRxQueue) rx_published = serve_pcm(kRxQueue, t);
  run_clock(t, tx_published, rx_published);
  if (published) t.used_buffers_published(q);
  if (tx_published || tx_flushed_) t.used_buffers_published(kTxQueue);
  if (rx_published || rx_flushed_) t.used_buffers_published(kRxQueue);
}

bool SndDevice::run_clock(transport::DeviceTransport& t, bool& tx_published, bool& rx_published) {
  Stream& out = streams_[snd::kPlaybackStream];
  Stream& in = streams_[snd::kCaptureStream];
  if (out.owed_frames != 0 && out.state == PcmState::kRunning && t.queue(kTxQueue).configured()) {
    tx_published |= play(out.owed_frames, t);
  }
  out.owed_frames = 0;
  if (in.owed_frames != 0 && in.state == PcmState::kRunning && t.queue(kRxQueue).configured()) {
    rx_published |= capture(in.owed_frames, t);
  }
  in.owed_frames = 0;
  return tx_published || rx_published;
}

// ---- controlq ---------------------------------------------------------------

bool SndDevice::serve_control(transport::DeviceTransport& t) {
  return serve_ring(t, kControlQueue, chain_, [&](vq::PopStatus s) {
    response_.clear();
    const uint32_t status =
        s == vq::PopStatus::kChainError ? snd::kStatusBadMsg : control_request(chain_, t, response_);
    if (response_.empty()) response_.resize(snd::kHdrBytes);
    put_le(response_.data(), status, 4);
    if (status == snd::kStatusOk) ++stats_.ctl_ok;
    if (status == snd::kStatusBadMsg) ++stats_.ctl_bad_msg;
    if (status == snd::kStatusNotSupp) ++stats_.ctl_not_supp;
    uint32_t used_len = 0;
    if (chain_.writable_bytes >= snd::kHdrBytes) {
      const auto place = slice(chain_, true, 0, response_.size());
      if (copy_out(t.memory(), place, 0, response_.data(), response_.size())) {
        used_len = static_cast<uint32_t>(response_.size());
      }
    } else {
      ++stats_.ctl_no_response;
    }
    t.queue(kControlQueue).push(chain_.head, used_len);
    return true;
  });
}

uint32_t SndDevice::control_request(const vq::DescChain& chain, transport::DeviceTransport& t,
                                    std::vector<uint8_t>& response) {
  uint8_t req[snd::kSetParamsBytes] = {};  // the largest request this device knows
  if (chain.readable_bytes < snd::kHdrBytes) return snd::kStatusBadMsg;
  const uint64_t n = std::min<uint64_t>(chain.readable_bytes, sizeof req);
  if (!copy_in(t.memory(), slice(chain, false, 0, n), 0, req, n)) return snd::kStatusBadMsg;
  const uint32_t code = le32(req);
  const uint32_t size = request_size(code);
  if (size == 0) return snd::kStatusNotSupp;  // SND-4: anything else
  if (chain.readable_bytes != size) return snd::kStatusBadMsg;
  if (code == snd::kReqPcmInfo) return pcm_info(req, chain.writable_bytes, response);
  const uint32_t stream = le32(req + snd::kPcmHdrStreamId);
  if (stream >= snd::kStreamCount) return snd::kStatusBadMsg;
  if (!transition_allowed(code, streams_[stream].state)) {
    ++stats_.ctl_bad_state;
    return snd::kStatusBadMsg;
  }
  if (code == snd::kReqPcmSetParams) {
    const uint32_t status = set_params(req);
    if (status != snd::kStatusOk) return status;
  }
  return transition(code, stream, t);
}

uint32_t SndDevice::pcm_info(const uint8_t* req, uint64_t writable, std::vector<uint8_t>& response) {
  const uint64_t start = le32(req + snd::kQueryStartId);
  const uint64_t count = le32(req + snd::kQueryCount);
  const uint32_t size = le32(req + snd::kQuerySize);
  if (size != snd::kPcmInfoBytes || start + count > snd::kStreamCount) return snd::kStatusBadMsg;
  const uint64_t bytes = snd::kHdrBytes + count * snd::kPcmInfoBytes;
  if (writable < bytes) return snd::kStatusBadMsg;
  response.assign(bytes, 0);
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t stream = static_cast<uint32_t>(start + i);
    uint8_t* info = response.data() + snd::kHdrBytes + i * snd::kPcmInfoBytes;
    put_le(info + snd::kInfoFormats, uint64_t{1} << snd::kFormatS16, 8);  // SND-3
    put_le(info + snd::kInfoRates, uint64_t{1} << snd::kRate48000, 8);
    info[snd::kInfoDirection] =
        stream == snd::kPlaybackStream ? snd::kDirectionOutput : snd::kDirectionInput;
    info[snd::kInfoChannelsMin] = snd::stream_channels(stream);
    info[snd::kInfoChannelsMax] = snd::stream_channels(stream);
  }
  return snd::kStatusOk;
}

uint32_t SndDevice::set_params(const uint8_t* req) {
  const uint32_t stream = le32(req + snd::kPcmHdrStreamId);
  const uint32_t buffer_bytes = le32(req + snd::kParamsBufferBytes);
  const uint32_t period_bytes = le32(req + snd::kParamsPeriodBytes);
  if (le32(req + snd::kParamsFeatures) != 0 || req[snd::kParamsChannels] != snd::stream_channels(stream) ||
      req[snd::kParamsFormat] != snd::kFormatS16 || req[snd::kParamsRate] != snd::kRate48000) {
    return snd::kStatusNotSupp;  // SND-4: only the fixed parameters
  }
  if (period_bytes == 0 || period_bytes % snd::frame_bytes(stream) != 0 ||
      period_bytes > snd::kMaxPayloadBytes || buffer_bytes == 0 || buffer_bytes % period_bytes != 0) {
    return snd::kStatusBadMsg;
  }
  return snd::kStatusOk;
}

uint32_t SndDevice::transition(uint32_t code, uint32_t stream, transport::DeviceTransport& t) {
  Stream& s = streams_[stream];
  if (code == snd::kReqPcmRelease || code == snd::kReqPcmSetParams) {
    // Unplayed (or unfilled) buffers are given back before RELEASE answers;
    // SET_PARAMS from prepared does the same: they were queued for the
    // parameters it replaces.
    (stream == snd::kPlaybackStream ? tx_flushed_ : rx_flushed_) |=
        flush_stream(stream, snd::kStatusIoErr, t);
  }
  if (code == snd::kReqPcmStop && stream == snd::kCaptureStream) {
    rx_flushed_ |= flush_stream(stream, snd::kStatusOk, t);
  }
  s.state = state_after(code);
  s.owed_frames = 0;
  return snd::kStatusOk;
}

// ---- eventq -----------------------------------------------------------------

bool SndDevice::serve_events(transport::DeviceTransport& t) {
  return serve_ring(t, kEventQueue, chain_, [&](vq::PopStatus s) {
    if (s == vq::PopStatus::kChainError || chain_.readable_bytes != 0) {
      ++stats_.event_rejected;
      t.queue(kEventQueue).push(chain_.head, 0);
      return true;
    }
    ++events_held_;  // SND-5: kept, never completed; the ring bounds how many
    ++stats_.event_held;
    return false;
  });
}

// ---- txq / rxq ----------------------------------------------------------------

bool SndDevice::serve_pcm(uint16_t q, transport::DeviceTransport& t) {
  Stream& stream = streams_[q == kTxQueue ? snd::kPlaybackStream : snd::kCaptureStream];
  return serve_ring(t, q, chain_, [&](vq::PopStatus s) {
    PcmBuffer b;
    b.head = chain_.head;
    if (chain_.writable_bytes < snd::kPcmStatusBytes) {
      ++stats_.pcm_no_status;
      t.queue(q).push(chain_.head, 0);
      return true;
    }
    b.status = slice(chain_, true, chain_.writable_bytes - snd::kPcmStatusBytes, snd::kPcmStatusBytes);
    const uint32_t status = s == vq::PopStatus::kChainError ? snd::kStatusBadMsg : accept_pcm(q, chain_, t, b);
    if (status != snd::kStatusOk) {
      complete_pcm(q, b, status, snd::kPcmStatusBytes, 0, t);
      return true;
    }
    stream.pending.push_back(std::move(b));
    return false;
  });
}

uint32_t SndDevice::accept_pcm(uint16_t q, const vq::DescChain& chain, transport::DeviceTransport& t,
                               PcmBuffer& b) {
  const bool tx = q == kTxQueue;
  const uint32_t stream_id = tx ? snd::kPlaybackStream : snd::kCaptureStream;
  uint8_t hdr[snd::kXferHdrBytes] = {};
  if (chain.readable_bytes < snd::kXferHdrBytes) return snd::kStatusBadMsg;
  if (!copy_in(t.memory(), slice(chain, false, 0, snd::kXferHdrBytes), 0, hdr, sizeof hdr)) {
    return snd::kStatusBadMsg;
  }
  if (le32(hdr) != stream_id) return snd::kStatusBadMsg;
  // TX: payload readable, status the only writable part; RX the other way.
  if (tx && chain.writable_bytes != snd::kPcmStatusBytes) return snd::kStatusBadMsg;
  if (!tx && chain.readable_bytes != snd::kXferHdrBytes) return snd::kStatusBadMsg;
  const uint64_t payload =
      tx ? chain.readable_bytes - snd::kXferHdrBytes : chain.writable_bytes - snd::kPcmStatusBytes;
  if (payload > snd::kMaxPayloadBytes || payload % snd::frame_bytes(stream_id) != 0) {
    return snd::kStatusBadMsg;  // SND-8
  }
  const PcmState s = streams_[stream_id].state;
  const bool open = tx ? (s == PcmState::kPrepared || s == PcmState::kRunning || s == PcmState::kStopped)
                       : s == PcmState::kRunning;
  if (!open) return snd::kStatusIoErr;  // SND-7
  b.payload = tx ? slice(chain, false, snd::kXferHdrBytes, payload) : slice(chain, true, 0, payload);
  b.payload_bytes = payload;
  return snd::kStatusOk;
}

void SndDevice::complete_pcm(uint16_t q, PcmBuffer& b, uint32_t status, uint32_t used_len,
                             uint32_t latency, transport::DeviceTransport& t) {
  uint8_t st[snd::kPcmStatusBytes];
  put_le(st, status, 4);
  put_le(st + 4, latency, 4);
  copy_out(t.memory(), b.status, 0, st, sizeof st);
  if (status == snd::kStatusBadMsg) ++stats_.pcm_bad_msg;
  if (status == snd::kStatusIoErr) ++stats_.pcm_io_err;
  t.queue(q).push(b.head, used_len);
}

bool SndDevice::flush_stream(uint32_t stream, uint32_t status, transport::DeviceTransport& t) {
  Stream& s = streams_[stream];
  const uint16_t q = stream == snd::kPlaybackStream ? kTxQueue : kRxQueue;
  if (!t.queue(q).configured()) return false;
  bool published = false;
  for (size_t i = s.first; i < s.pending.size(); ++i) {
    PcmBuffer& b = s.pending[i];
    const uint32_t len = stream == snd::kPlaybackStream
                             ? snd::kPcmStatusBytes
                             : static_cast<uint32_t>(b.done_bytes + snd::kPcmStatusBytes);
    if (status == snd::kStatusOk) {
      ++stats_.rx_buffers;
      stats_.rx_bytes += b.done_bytes;
    }
    complete_pcm(q, b, status, len, 0, t);
    published = true;
  }
  s.pending.clear();
  s.first = 0;
  return published;
}

void SndDevice::compact(Stream& s) {
  // Completed buffers leave at once: pending never holds more than the
  // chains the driver has in flight (at most the queue size).
  s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<long>(s.first));
  s.first = 0;
}

bool SndDevice::play(uint64_t frames, transport::DeviceTransport& t) {
  Stream& s = streams_[snd::kPlaybackStream];
  const uint32_t fb = snd::frame_bytes(snd::kPlaybackStream);
  uint64_t left = frames * fb;
  bool published = consume(
      s, left,
      [&](PcmBuffer& b, uint64_t n) {
        if (n == 0) return;
        scratch_.resize(n);
        if (!copy_in(t.memory(), b.payload, b.done_bytes, scratch_.data(), n)) {
          std::fill(scratch_.begin(), scratch_.end(), 0);  // checked at pop; never play garbage
        }
        if (sink_ != nullptr) sink_->write(scratch_);
        stats_.tx_bytes += n;
      },
      [&](PcmBuffer& b) {
        uint64_t queued = 0;  // latency_bytes: payload still queued behind this one
        for (size_t i = s.first + 1; i < s.pending.size(); ++i) queued += s.pending[i].payload_bytes;
        ++stats_.tx_buffers;
        complete_pcm(kTxQueue, b, snd::kStatusOk, snd::kPcmStatusBytes,
                     static_cast<uint32_t>(std::min<uint64_t>(queued, UINT32_MAX)), t);
      });
  // Zero-length buffers at the head finish at no cost.
  while (s.first < s.pending.size() && s.pending[s.first].payload_bytes == 0) {
    ++stats_.tx_buffers;
    complete_pcm(kTxQueue, s.pending[s.first], snd::kStatusOk, snd::kPcmStatusBytes, 0, t);
    ++s.first;
    published = true;
  }
  compact(s);
  if (left > 0) {  // underrun: silence, and carry on (SND-6)
    ++stats_.underruns;
    stats_.underrun_frames += left / fb;
    // In bounded pieces: the host may let any amount of time pass.
    for (uint64_t n = 0; sink_ != nullptr && left > 0; left -= n) {
      n = std::min<uint64_t>(left, kChunkBytes);
      scratch_.assign(n, 0);
      sink_->write(scratch_);
    }
  }
  s.frames_done += frames;
  return published;
}

bool SndDevice::capture(uint64_t frames, transport::DeviceTransport& t) {
  Stream& s = streams_[snd::kCaptureStream];
  const uint32_t fb = snd::frame_bytes(snd::kCaptureStream);
  backends::CaptureSource& source = source_ != nullptr ? *source_ : silence_;
  uint64_t left = frames * fb;
  const bool published = consume(
      s, left,
      [&](PcmBuffer& b, uint64_t n) {
        scratch_.resize(n);
        source.read(scratch_);
        copy_out(t.memory(), b.payload, b.done_bytes, scratch_.data(), n);
      },
      [&](PcmBuffer& b) {
        ++stats_.rx_buffers;
        stats_.rx_bytes += b.payload_bytes;
        complete_pcm(kRxQueue, b, snd::kStatusOk,
                     static_cast<uint32_t>(b.payload_bytes + snd::kPcmStatusBytes), 0, t);
      });
  compact(s);
  if (left > 0) {  // nobody to take these frames: they are lost, as on hardware
    stats_.overrun_frames += left / fb;
    for (uint64_t n = 0; left > 0; left -= n) {  // the source's time passes all the same
      n = std::min<uint64_t>(left, kChunkBytes);
      scratch_.resize(n);
      source.read(scratch_);
    }
  }
  s.frames_done += frames;
  return published;
}

}  // namespace aerov::model::devices
