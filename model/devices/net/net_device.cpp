#include "model/devices/net/net_device.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices {

namespace vq = virtqueue;
using backends::kMaxFrameBytes;
using backends::kMinFrameBytes;

namespace {

bool frame_length_ok(uint64_t len) { return len >= kMinFrameBytes && len <= kMaxFrameBytes; }

}  // namespace

NetDevice::NetDevice(backends::NetBackend* backend, const NetDeviceOptions& options)
    : backend_(backend),
      mac_(options.mac),
      link_up_(options.link_up),
      header_bytes_(options.header_bytes == 12 ? 12u : net::kHeaderBytes) {
  if (backend_ != nullptr) backend_->attach(this);
}

NetDevice::~NetDevice() {
  if (backend_ != nullptr) backend_->attach(nullptr);
}

uint16_t NetDevice::device_type() const { return static_cast<uint16_t>(contract::kNet.virtio_type); }
uint64_t NetDevice::device_features() const { return contract::kNet.features_offered; }
uint16_t NetDevice::num_queues() const { return contract::kNet.num_queues; }

uint16_t NetDevice::queue_size(uint16_t q) const {
  return q < contract::kNet.num_queues ? contract::kNet.queues[q].size : 0;
}

uint64_t NetDevice::config_read(uint32_t offset, unsigned width) {
  uint8_t image[net::kConfigBytes + 8] = {};  // zero tail: reads past the end (BAR-3)
  std::memcpy(image + net::kConfigMac, mac_.data(), mac_.size());
  const uint16_t status = link_up_ ? net::kStatusLinkUp : 0;
  image[net::kConfigStatus] = static_cast<uint8_t>(status);
  image[net::kConfigStatus + 1] = static_cast<uint8_t>(status >> 8);
  image[net::kConfigMaxPairs] = 1;  // max_virtqueue_pairs (NET-3); MQ is never offered
  if (offset >= net::kConfigBytes || width > 8) return 0;
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= uint64_t{image[offset + i]} << (8 * i);
  return v;
}

void NetDevice::config_write(uint32_t, unsigned, uint64_t) {
  // Read-only: mac is writable only with CTRL_MAC_ADDR (never offered),
  // status and max_virtqueue_pairs are device-owned.
}

void NetDevice::activate(transport::DeviceTransport& transport) { transport_ = &transport; }

void NetDevice::reset() {
  // The rings are reset by the transport; a held chain belongs to the old
  // ring generation, and frames queued for the old driver are stale.
  transport_ = nullptr;
  rx_held_ = false;
  stats_.rx_reset += host_queue_.size();
  host_queue_.clear();
}

void NetDevice::set_link_up(bool up) {
  if (up == link_up_) return;
  link_up_ = up;
  if (transport_ != nullptr) transport_->config_changed();  // CFG-4, IRQ-3
}

bool NetDevice::deliver(std::span<const uint8_t> frame) {
  if (!frame_length_ok(frame.size())) {
    ++stats_.rx_bad_length;
    return false;
  }
  if (!link_up_) {
    ++stats_.rx_link_down;
    return false;
  }
  if (host_queue_.size() >= kHostQueueFrames) {  // NET-7 (P): the oldest goes
    host_queue_.pop_front();
    ++stats_.rx_overflow;
  }
  host_queue_.push_back(frame);
  if (notify_depth_ == 0 && on_rx_pending) on_rx_pending();
  return true;
}

void NetDevice::queue_notify(uint16_t q, transport::DeviceTransport& t) {
  if (q >= num_queues()) return;
  ++notify_depth_;
  bool tx_published = false;
  if (q == kTxQueue) tx_published = serve_tx(t);
  // Every doorbell drains waiting frames: RX chains just posted, or frames a
  // loopback backend sent back from inside serve_tx.
  const bool rx_published = serve_rx(t);
  --notify_depth_;
  if (tx_published) t.used_buffers_published(kTxQueue);
  if (rx_published) t.used_buffers_published(kRxQueue);
}

bool NetDevice::serve_tx(transport::DeviceTransport& t) {
  vq::DeviceQueue& ring = t.queue(kTxQueue);
  if (!ring.configured()) return false;
  bool published = false;
  for (uint16_t n = 0; n < ring.size(); ++n) {  // bounded work per doorbell (VQ-8)
    const vq::PopStatus s = ring.pop(chain_);
    if (s == vq::PopStatus::kEmpty) break;
    if (s == vq::PopStatus::kRingError) {
      t.set_needs_reset();  // STAT-4 (VQ-8)
      break;
    }
    if (s == vq::PopStatus::kChainError) {
      ++stats_.tx_chain_error;
    } else {
      transmit_chain(chain_, t);
    }
    ring.push(chain_.head, 0);  // NET-6: every TX chain completes with used.len 0
    published = true;
  }
  return published;
}

void NetDevice::transmit_chain(const vq::DescChain& chain, transport::DeviceTransport& t) {
  const bool any_writable = std::any_of(chain.segments.begin(), chain.segments.end(),
                                        [](const vq::ChainSegment& s) { return s.writable; });
  if (any_writable) {
    ++stats_.tx_writable;
    return;
  }
  if (chain.readable_bytes < header_bytes_) {
    ++stats_.tx_short_header;
    return;
  }
  // Length is checked before anything is copied: a hostile chain may claim
  // up to 4 GiB.
  const uint64_t frame_len = chain.readable_bytes - header_bytes_;
  if (frame_len < kMinFrameBytes) {
    ++stats_.tx_runt;
    return;
  }
  if (frame_len > kMaxFrameBytes) {
    ++stats_.tx_oversize;
    return;
  }
  if (!link_up_) {
    ++stats_.tx_link_down;
    return;
  }
  tx_bytes_.resize(chain.readable_bytes);
  size_t at = 0;
  for (const vq::ChainSegment& s : chain.segments) {
    if (s.len == 0) continue;  // zero-length: address never used
    if (t.memory().read(s.addr, tx_bytes_.data() + at, s.len) != MemError::kOk) {
      // The walker checked every segment; memory cannot shrink under us,
      // but a failed read must never send garbage.
      ++stats_.tx_chain_error;
      return;
    }
    at += s.len;
  }
  ++stats_.tx_frames;
  stats_.tx_bytes += frame_len;
  if (backend_ != nullptr) {
    backend_->transmit(std::span<const uint8_t>(tx_bytes_).subspan(header_bytes_));
  }
}

bool NetDevice::serve_rx(transport::DeviceTransport& t) {
  vq::DeviceQueue& ring = t.queue(kRxQueue);
  if (!ring.configured()) return false;
  bool published = false;
  // Each round either consumes a chain (at most N popped, VQ-8) or drops a
  // frame from the bounded host queue, so the loop is bounded by both.
  uint16_t popped = 0;
  while (!host_queue_.empty()) {
    if (!rx_held_) {
      if (popped == ring.size()) break;
      const vq::PopStatus s = ring.pop(chain_);
      if (s == vq::PopStatus::kEmpty) break;
      if (s == vq::PopStatus::kRingError) {
        // Raised here too: a TX doorbell drains rxq, and the transport only
        // checks the ring it was notified for.
        t.set_needs_reset();  // STAT-4 (VQ-8)
        break;
      }
      ++popped;
      if (s == vq::PopStatus::kChainError) {
        ++stats_.rx_chain_error;
        ring.push(chain_.head, 0);
        published = true;
        continue;
      }
      const bool any_readable = std::any_of(chain_.segments.begin(), chain_.segments.end(),
                                            [](const vq::ChainSegment& seg) { return !seg.writable; });
      if (any_readable) {
        ++stats_.rx_readable;
        ring.push(chain_.head, 0);
        published = true;
        continue;
      }
      std::swap(rx_chain_, chain_);
      rx_held_ = true;
    }
    const std::vector<uint8_t>& frame = host_queue_.front();
    if (rx_chain_.writable_bytes < header_bytes_ + frame.size()) {
      ++stats_.rx_too_small;  // NET-7: frame dropped, chain stays posted
      host_queue_.pop_front();
      continue;
    }
    const uint32_t len = static_cast<uint32_t>(header_bytes_ + frame.size());
    write_frame(rx_chain_, frame, t);
    ++stats_.rx_frames;
    stats_.rx_bytes += frame.size();
    ring.push(rx_chain_.head, len);
    rx_held_ = false;
    host_queue_.pop_front();
    published = true;
  }
  return published;
}

bool NetDevice::write_frame(const vq::DescChain& chain, std::span<const uint8_t> frame,
                            transport::DeviceTransport& t) {
  rx_bytes_.assign(header_bytes_, 0);  // NET-4: the device writes a zero header
  rx_bytes_.insert(rx_bytes_.end(), frame.begin(), frame.end());
  size_t from = 0;
  for (const vq::ChainSegment& s : chain.segments) {
    if (from == rx_bytes_.size()) break;
    if (s.len == 0) continue;
    const size_t n = std::min<size_t>(s.len, rx_bytes_.size() - from);
    if (t.memory().write(s.addr, rx_bytes_.data() + from, n) != MemError::kOk) return false;
    from += n;
  }
  return true;
}

}  // namespace aerov::model::devices
