#include "drivers/windows7/common/net_core.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/windows7/common/little_endian.hpp"
#include "model/devices/net/net_wire.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::drivers::windows7 {

namespace vq = virtqueue;
using transport::TransportError;

namespace {

constexpr uint64_t kWantedFeatures = contract::feature_mask(contract::kFeatureVersion1) |
                                     contract::feature_mask(contract::kFeatureRingIndirectDesc) |
                                     contract::feature_mask(contract::kFeatureNetMac) |
                                     contract::feature_mask(contract::kFeatureNetStatus);
constexpr uint64_t kRequiredFeatures = contract::feature_mask(contract::kFeatureVersion1);

// virtio-net wire format (NET-3..NET-5): one definition for both ends.
using model::devices::net::kConfigMac;
using model::devices::net::kConfigStatus;
using model::devices::net::kStatusLinkUp;
constexpr uint32_t kConfigBytes = kConfigStatus + 2;  // max_virtqueue_pairs is unused

bool has(uint64_t features, uint32_t bit) { return (features & contract::feature_mask(bit)) != 0; }

bool usable_size(uint16_t size, uint16_t max) {
  return size >= 2 && size <= max && (size & (size - 1)) == 0;
}

}  // namespace

const char* to_string(NetError e) {
  switch (e) {
    case NetError::kNone: return "none";
    case NetError::kInvalidArgument: return "invalid argument";
    case NetError::kBadLength: return "frame length outside 14..1522";
    case NetError::kTooManyFragments: return "too many fragments";
    case NetError::kBusy: return "busy";
    case NetError::kLinkDown: return "link down";
    case NetError::kNotReady: return "not ready";
    case NetError::kTransport: return "transport error";
    case NetError::kQueueSize: return "unsupported queue size";
    case NetError::kNoMemory: return "no DMA memory";
    case NetError::kQueueInit: return "queue init failed";
    case NetError::kDeviceChanged: return "device changed across reset";
  }
  return "unknown";
}

// ---- bring-up ---------------------------------------------------------------

NetError NetCore::init(OsServices& os, const NetCoreConfig& config) {
  if (state_ != State::kUninitialized || config.on_tx_done == nullptr ||
      config.on_receive == nullptr ||
      (config.header != NetHeaderLayout::kContract && config.header != NetHeaderLayout::kVirtio1)) {
    return NetError::kInvalidArgument;
  }
  os_ = &os;
  config_ = config;
  header_bytes_ = config.header == NetHeaderLayout::kVirtio1 ? kVirtio1HeaderBytes : kHeaderBytes;
  rx_buffer_bytes_ = header_bytes_ + kMaxFrame;
  transport_error_ = attach_device(driver_, os, config.validation, &plan_);  // DRV-1, DRV-2
  if (transport_error_ != TransportError::kNone) {
    log_event(os, LogLevel::kError, "net: attach failed", static_cast<uint64_t>(transport_error_));
    return NetError::kTransport;
  }
  attached_ = true;
  const NetError e = bring_up(true);
  if (e != NetError::kNone) {
    log_event(os, LogLevel::kError, "net: init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    driver_.fail();
    return e;
  }
  state_ = State::kRunning;
  log_event(os, LogLevel::kInfo, "net: ready (features, link, interrupt mode)", features_,
            link_up_ ? 1 : 0, static_cast<uint64_t>(plan_.mode()));
  return NetError::kNone;
}

NetError NetCore::bring_up(bool first) {
  // STAT-3: RESET -> ACK -> DRIVER -> features -> FEATURES_OK -> queues -> DRIVER_OK.
  uint64_t accepted = 0;
  transport_error_ = reset_and_negotiate(driver_, kWantedFeatures, kRequiredFeatures, &accepted);
  uint16_t queues = 0;
  uint16_t rx_size = 0;
  uint16_t tx_size = 0;
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.num_queues(&queues);
  if (transport_error_ == TransportError::kNone && queues < 2) return NetError::kQueueSize;
  if (transport_error_ == TransportError::kNone) {
    transport_error_ = driver_.queue_size(kRxQueue, &rx_size);
  }
  if (transport_error_ == TransportError::kNone) {
    transport_error_ = driver_.queue_size(kTxQueue, &tx_size);
  }
  if (transport_error_ != TransportError::kNone) return NetError::kTransport;
  if (first) {
    if (!usable_size(rx_size, kMaxQueueSize) || !usable_size(tx_size, kMaxQueueSize)) {
      return NetError::kQueueSize;
    }
    features_ = accepted;
    rx_size_ = rx_size;
    tx_size_ = tx_size;
  } else if (accepted != features_ || rx_size != rx_size_ || tx_size != tx_size_) {
    return NetError::kDeviceChanged;  // memory and chains were sized for the first device
  }
  const NetError c = read_config();
  if (c != NetError::kNone) return c;
  if (first) {
    const NetError a = allocate();
    if (a != NetError::kNone) return a;
    tx_free_count_ = 0;
    for (uint16_t s = tx_size_; s > 0; --s) {
      tx_slots_[s - 1] = TxSlot{};
      tx_free_[tx_free_count_++] = static_cast<uint16_t>(s - 1);
    }
    tx_in_use_ = 0;
  }
  // Both queues forget every chain; TX slots remember theirs for reissue.
  if (rxq_.init(rx_config_) != vq::DriverStatus::kOk ||
      txq_.init(tx_config_) != vq::DriverStatus::kOk) {
    return NetError::kQueueInit;
  }
  // DRV-2, IRQ-4: vectors as interrupts.hpp chooses, verified by read-back.
  const QueueRings rings[2] = {{rxq_.desc_pa(), rxq_.avail_pa(), rxq_.used_pa()},
                               {txq_.desc_pa(), txq_.avail_pa(), txq_.used_pa()}};
  transport_error_ = setup_queues(driver_, &plan_, rings, 2, &counters_.vector_fallbacks, *os_,
                                "net: device refused MSI-X vectors; now mode");
  if (transport_error_ != TransportError::kNone) return NetError::kTransport;
  // Buffers may be made available before DRIVER_OK; the doorbell waits for it.
  rx_posted_ = 0;
  for (uint16_t b = 0; b < rx_size_; ++b) {
    if (!post_rx(b)) return NetError::kQueueInit;
  }
  driver_.driver_ok();
  config_generation_ = driver_.config_generation();
  kick(rxq_, kRxQueue);
  return NetError::kNone;
}

NetError NetCore::read_config() {
  uint8_t cfg[kConfigBytes] = {};
  transport_error_ = driver_.read_device_config(0, cfg, kConfigBytes);
  if (transport_error_ != TransportError::kNone) return NetError::kTransport;
  if (has(features_, contract::kFeatureNetMac)) {
    for (uint32_t i = 0; i < 6; ++i) mac_[i] = cfg[kConfigMac + i];
  }
  link_up_ = !has(features_, contract::kFeatureNetStatus) ||
             (load_le(cfg + kConfigStatus, 2) & kStatusLinkUp) != 0;
  return NetError::kNone;
}

NetError NetCore::allocate() {
  const uint32_t rx_ring = static_cast<uint32_t>(vq::ring_layout(rx_size_, false).total_bytes);
  const uint32_t tx_ring = static_cast<uint32_t>(vq::ring_layout(tx_size_, false).total_bytes);
  const bool indirect = has(features_, contract::kFeatureRingIndirectDesc);
  const uint16_t table = kMaxTxFragments + 1;
  if (!os_->alloc_dma(rx_ring, 4096, &rx_ring_) || !os_->alloc_dma(tx_ring, 4096, &tx_ring_) ||
      !os_->alloc_dma(static_cast<uint32_t>(rx_size_) * rx_buffer_bytes_, 64, &rx_buffers_) ||
      !os_->alloc_dma(static_cast<uint32_t>(tx_size_) * header_bytes_, 16, &tx_headers_) ||
      (indirect && !os_->alloc_dma(static_cast<uint32_t>(tx_size_) * table * 16u, 16,
                                   &tx_indirect_))) {
    log_event(*os_, LogLevel::kError, "net: DMA allocation failed");
    return NetError::kNoMemory;
  }
  rx_config_ = vq::DriverQueueConfig{};
  rx_config_.size = rx_size_;
  rx_config_.ring = rx_ring_;
  rx_config_.state = rx_state_;
  tx_config_ = vq::DriverQueueConfig{};
  tx_config_.size = tx_size_;
  tx_config_.ring = tx_ring_;
  tx_config_.state = tx_state_;
  if (indirect) {
    // Every frame then takes one ring descriptor: the ring holds tx_size_ frames.
    tx_config_.indirect_pool = tx_indirect_;
    tx_config_.indirect_max = table;
    tx_config_.indirect_min_segments = 2;
  }
  return NetError::kNone;
}

// NET-7: one device-writable descriptor holding the header and the largest frame.
bool NetCore::post_rx(uint16_t buffer) {
  uint8_t* va = static_cast<uint8_t*>(rx_buffers_.va) + uint32_t{buffer} * rx_buffer_bytes_;
  const vq::Segment seg{rx_buffers_.pa + uint64_t{buffer} * rx_buffer_bytes_, rx_buffer_bytes_,
                        true};
  if (rxq_.add(&seg, 1, va) != vq::DriverStatus::kOk) return false;
  ++rx_posted_;
  return true;
}

void NetCore::kick(vq::DriverQueue& q, uint16_t index) {
  q.publish();
  if (q.kick_needed()) {
    driver_.notify(index);
    ++counters_.kicks;
  }
}

// ---- transmit ------------------------------------------------------------------

NetError NetCore::transmit(const NetTxFrame& frame) {
  NetError e = NetError::kNone;
  uint64_t total = 0;
  if (state_ != State::kRunning) {
    e = NetError::kNotReady;
  } else if (frame.fragments == nullptr || frame.fragment_count == 0) {
    e = NetError::kInvalidArgument;
  } else if (frame.fragment_count > kMaxTxFragments) {
    e = NetError::kTooManyFragments;
  } else {
    for (uint32_t i = 0; i < frame.fragment_count && e == NetError::kNone; ++i) {
      if (frame.fragments[i].len == 0) e = NetError::kInvalidArgument;
      total += frame.fragments[i].len;
    }
    if (e == NetError::kNone && (total < kMinFrame || total > kMaxFrame)) e = NetError::kBadLength;
  }
  if (e == NetError::kNone && !link_up_) e = NetError::kLinkDown;
  if (e == NetError::kNone && tx_free_count_ == 0) e = NetError::kBusy;
  uint16_t slot = 0;
  if (e == NetError::kNone) {
    slot = tx_free_[tx_free_count_ - 1];
    tx_slots_[slot] = TxSlot{true, frame.cookie, frame.fragments,
                             static_cast<uint16_t>(frame.fragment_count)};
    if (add_tx_chain(slot) != vq::DriverStatus::kOk) {
      tx_slots_[slot] = TxSlot{};
      e = NetError::kBusy;  // without INDIRECT_DESC the ring ran out of descriptors
    }
  }
  switch (e) {
    case NetError::kNone: break;
    case NetError::kBadLength: ++counters_.tx_refused_length; return e;
    case NetError::kTooManyFragments: ++counters_.tx_refused_fragments; return e;
    case NetError::kBusy: ++counters_.tx_refused_busy; return e;
    case NetError::kLinkDown: ++counters_.tx_refused_link_down; return e;
    default: ++counters_.tx_refused_invalid; return e;
  }
  --tx_free_count_;
  ++tx_in_use_;
  ++counters_.tx_frames;
  counters_.tx_bytes += total;
  kick(txq_, kTxQueue);
  return NetError::kNone;
}

// NET-6: the zero header (readable) then the fragments (readable), one chain.
vq::DriverStatus NetCore::add_tx_chain(uint16_t slot) {
  const TxSlot& s = tx_slots_[slot];
  uint8_t* header = static_cast<uint8_t*>(tx_headers_.va) + uint32_t{slot} * header_bytes_;
  for (uint32_t i = 0; i < header_bytes_; ++i) header[i] = 0;  // NET-4
  chain_[0] = vq::Segment{tx_headers_.pa + uint32_t{slot} * header_bytes_, header_bytes_, false};
  for (uint16_t i = 0; i < s.fragment_count; ++i) {
    chain_[i + 1] = vq::Segment{s.fragments[i].addr, s.fragments[i].len, false};
  }
  return txq_.add(chain_, static_cast<uint16_t>(s.fragment_count + 1), &tx_slots_[slot]);
}

// ---- interrupts and completion ----------------------------------------------------

bool NetCore::interrupt() {
  if (!attached_) return false;  // a shared line can fire before init attached
  return service(decode_intx(driver_, 2), &counters_.interrupts);
}

bool NetCore::message_interrupt(uint16_t message) {
  if (!attached_) return false;
  if (!plan_.uses_msix()) return interrupt();  // fell back to INTx: ISR says why
  return service(decode_message(driver_, plan_, message, 2, &config_generation_),
                 &counters_.messages);
}

bool NetCore::service(const InterruptWork& work, uint64_t* counter) {
  if (!work.ours) {
    ++counters_.spurious;
    return false;
  }
  ++*counter;
  if (state_ != State::kRunning) return true;
  if (work.needs_reset) {
    harvest();
    recover("net: device needs reset");
    return true;
  }
  if (work.config) config_changed();
  drain_queues((work.queues & (1u << kRxQueue)) != 0, (work.queues & (1u << kTxQueue)) != 0);
  return true;
}

void NetCore::poll() {
  if (state_ != State::kRunning) return;
  if (driver_.needs_reset()) {
    harvest();
    recover("net: device needs reset");
    return;
  }
  drain();
}

// CFG-4 / NET-3: the link state may have changed.
void NetCore::config_changed() {
  ++counters_.config_changes;
  config_generation_ = driver_.config_generation();
  const bool was_up = link_up_;
  if (read_config() != NetError::kNone) return;
  if (link_up_ != was_up) {
    ++counters_.link_changes;
    log_event(*os_, LogLevel::kInfo, "net: link", link_up_ ? 1 : 0);
    if (config_.on_link != nullptr) config_.on_link(config_.context, link_up_);
  }
}

void NetCore::drain() { drain_queues(true, true); }

void NetCore::drain_queues(bool rx, bool tx) {
  if (rx && !drain_rx()) return;  // recovered: the fresh rings are empty
  if (tx) drain_tx();
}

// Before a reset: what the device completed before it gave up is valid
// (its rings were intact), so frames it received are handed up and sent
// frames completed instead of lost or sent twice. Stops at the first
// entry the ring checks refuse; the reset follows anyway.
void NetCore::harvest() {
  harvesting_ = true;
  drain_rx();
  drain_tx();
  harvesting_ = false;
}

// Returns false when the ring was broken and the core recovered (or failed).
bool NetCore::drain_rx() {
  // Bounded: a peer that keeps sending cannot hold the caller here forever.
  const uint32_t budget = 4u * rx_size_;
  uint8_t* const base = static_cast<uint8_t*>(rx_buffers_.va);
  bool reposted = false;
  for (uint32_t i = 0; i < budget; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = rxq_.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!harvesting_) recover("net: rxq protocol violation (VQ-9)");
      return false;
    }
    resets_without_progress_ = 0;
    --rx_posted_;
    uint8_t* buffer = static_cast<uint8_t*>(used.cookie);
    const uint16_t index = static_cast<uint16_t>((buffer - base) / rx_buffer_bytes_);
    // get_used already refused used.len beyond the buffer (VQ-9).
    if (used.len < header_bytes_ + kMinFrame) {
      ++counters_.rx_runt;
    } else {
      const uint32_t length = used.len - header_bytes_;
      ++counters_.rx_frames;
      counters_.rx_bytes += length;
      config_.on_receive(config_.context, buffer + header_bytes_, length);
    }
    post_rx(index);  // cannot fail: the buffer's descriptor was just freed
    reposted = true;
  }
  if (reposted && !harvesting_) kick(rxq_, kRxQueue);
  return true;
}

bool NetCore::drain_tx() {
  const uint32_t budget = 4u * tx_size_;
  for (uint32_t i = 0; i < budget; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = txq_.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!harvesting_) recover("net: txq protocol violation (VQ-9)");
      return false;
    }
    resets_without_progress_ = 0;
    finish_tx(static_cast<uint16_t>(static_cast<TxSlot*>(used.cookie) - tx_slots_),
              NetTxResult::kSent);
  }
  return true;
}

void NetCore::finish_tx(uint16_t slot, NetTxResult result) {
  void* cookie = tx_slots_[slot].cookie;
  tx_slots_[slot] = TxSlot{};
  tx_free_[tx_free_count_++] = slot;
  --tx_in_use_;
  ++counters_.tx_completed;
  if (result == NetTxResult::kAborted) ++counters_.tx_aborted;
  config_.on_tx_done(config_.context, cookie, result);
}

// ---- recovery --------------------------------------------------------------------

void NetCore::recover(const char* why) {
  ++counters_.resets;
  log_event(*os_, LogLevel::kWarning, why, static_cast<uint64_t>(rxq_.broken_reason()),
            static_cast<uint64_t>(txq_.broken_reason()), tx_in_use_);
  if (++resets_without_progress_ > kMaxResetsWithoutProgress) {
    fail_device();
    return;
  }
  restart();
}

void NetCore::reset() {
  if (state_ != State::kRunning) return;
  harvest();
  if (state_ != State::kRunning) return;
  ++counters_.os_resets;
  restart();
}

void NetCore::restart() {
  const bool was_up = link_up_;
  const NetError e = bring_up(false);
  if (e != NetError::kNone) {
    log_event(*os_, LogLevel::kError, "net: re-init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    fail_device();
    return;
  }
  // Every frame the device had not completed goes into the fresh ring; they
  // all fitted in it before, so they fit again.
  for (uint16_t slot = 0; slot < tx_size_; ++slot) {
    if (!tx_slots_[slot].busy) continue;
    if (add_tx_chain(slot) != vq::DriverStatus::kOk) {
      fail_device();
      return;
    }
    ++counters_.reissued;
  }
  kick(txq_, kTxQueue);
  if (link_up_ != was_up) {
    ++counters_.link_changes;
    if (config_.on_link != nullptr) config_.on_link(config_.context, link_up_);
  }
}

void NetCore::fail_device() {
  state_ = State::kFailed;
  driver_.fail();
  log_event(*os_, LogLevel::kError, "net: device failed; aborting frames", tx_in_use_);
  for (uint16_t slot = 0; slot < tx_size_; ++slot) {
    if (tx_slots_[slot].busy) finish_tx(slot, NetTxResult::kAborted);
  }
  if (link_up_) {
    link_up_ = false;
    ++counters_.link_changes;
    if (config_.on_link != nullptr) config_.on_link(config_.context, false);
  }
}

}  // namespace aerov::drivers::windows7
