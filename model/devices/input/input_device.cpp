#include "model/devices/input/input_device.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices {

namespace vq = virtqueue;
using input::Event;
using input::InputKind;

namespace {

void set_bit(uint8_t* bitmap, uint16_t code, uint8_t* size) {
  bitmap[code / 8] = static_cast<uint8_t>(bitmap[code / 8] | (1u << (code % 8)));
  *size = std::max<uint8_t>(*size, static_cast<uint8_t>(code / 8 + 1));
}

void put_le(uint8_t* p, uint32_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

bool any_segment(const vq::DescChain& chain, bool writable) {
  return std::any_of(chain.segments.begin(), chain.segments.end(),
                     [writable](const vq::ChainSegment& s) { return s.writable == writable; });
}

// EV_BITS payloads depend only on the function and the type: built once
// per process (the driver asks for them at every initialization).
struct EvBits {
  uint8_t bitmap[input::kPayloadBytes];
  uint8_t size;
};
constexpr uint16_t kEvTypes = input::kEvMax + 1;

const EvBits& ev_bits(InputKind kind, uint16_t type) {
  static const auto table = [] {
    std::array<std::array<EvBits, kEvTypes>, input::kFunctionCount> t{};
    for (uint8_t f = 0; f < input::kFunctionCount; ++f) {
      for (uint16_t type = 0; type < kEvTypes; ++type) {
        EvBits& e = t[f][type];
        for (uint32_t code = 0; code < input::kPayloadBytes * 8; ++code) {
          if (input::advertises_code(static_cast<InputKind>(f), type, static_cast<uint16_t>(code))) {
            set_bit(e.bitmap, static_cast<uint16_t>(code), &e.size);
          }
        }
      }
    }
    return t;
  }();
  return table[static_cast<uint8_t>(kind)][type];
}

}  // namespace

InputDevice::InputDevice(const InputDeviceOptions& o)
    : kind_(o.kind), abs_min_(o.abs_min), abs_max_(std::max(o.abs_min, o.abs_max)) {
  select(0, 0);
}

uint16_t InputDevice::device_type() const { return static_cast<uint16_t>(contract::kInput.virtio_type); }
uint64_t InputDevice::device_features() const { return contract::kInput.features_offered; }
uint16_t InputDevice::num_queues() const { return contract::kInput.num_queues; }

uint16_t InputDevice::queue_size(uint16_t q) const {
  return q < contract::kInput.num_queues ? contract::kInput.queues[q].size : 0;
}

uint8_t InputDevice::payload(uint8_t out[input::kPayloadBytes]) const {
  std::memset(out, 0, input::kPayloadBytes);
  const uint8_t f = static_cast<uint8_t>(kind_);
  switch (select_) {
    case input::kSelectIdName: {
      if (subsel_ != 0) return 0;
      const size_t n = std::strlen(input::kNames[f]);
      std::memcpy(out, input::kNames[f], n);
      return static_cast<uint8_t>(n);
    }
    case input::kSelectIdDevids:
      if (subsel_ != 0) return 0;
      put_le(out + 0, input::kBusVirtual, 2);
      put_le(out + 2, input::kDevidsVendor, 2);
      put_le(out + 4, input::kDevidsProduct[f], 2);
      put_le(out + 6, input::kDevidsVersion, 2);
      return input::kDevidsBytes;
    case input::kSelectEvBits:
      // Every code below the bitmap's 1024 bits that the function advertises.
      if (subsel_ >= kEvTypes || !input::advertises_type(kind_, subsel_)) return 0;
      std::memcpy(out, ev_bits(kind_, subsel_).bitmap, input::kPayloadBytes);
      return ev_bits(kind_, subsel_).size;
    case input::kSelectAbsInfo:
      if (kind_ != InputKind::kTablet || (subsel_ != input::kAbsX && subsel_ != input::kAbsY)) {
        return 0;
      }
      put_le(out + 0, static_cast<uint32_t>(abs_min_), 4);
      put_le(out + 4, static_cast<uint32_t>(abs_max_), 4);  // fuzz, flat, res stay 0
      return input::kAbsInfoBytes;
    default:
      return 0;  // UNSET, ID_SERIAL, PROP_BITS and unknown selectors (INP-2)
  }
}

void InputDevice::select(uint8_t select, uint8_t subsel) {
  select_ = select;
  subsel_ = subsel;
  std::memset(config_, 0, sizeof config_);
  config_[input::kConfigSelect] = select_;
  config_[input::kConfigSubsel] = subsel_;
  config_[input::kConfigSize] = payload(config_ + input::kConfigPayload);
}

uint64_t InputDevice::config_read(uint32_t offset, unsigned width) {
  if (offset >= input::kConfigBytes || width > 8) return 0;
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= uint64_t{config_[offset + i]} << (8 * i);
  return v;
}

void InputDevice::config_write(uint32_t offset, unsigned width, uint64_t value) {
  // Only select and subsel are driver-writable; a wide write covering them
  // sets each byte it covers.
  uint8_t sel = select_;
  uint8_t sub = subsel_;
  for (unsigned i = 0; i < width && i < 8; ++i) {
    const uint64_t at = uint64_t{offset} + i;
    const uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    if (at == input::kConfigSelect) sel = byte;
    if (at == input::kConfigSubsel) sub = byte;
  }
  if (sel != select_ || sub != subsel_) select(sel, sub);
}

void InputDevice::activate(transport::DeviceTransport& transport) { transport_ = &transport; }

void InputDevice::reset() {
  transport_ = nullptr;
  stats_.reset_dropped += pending_.size();
  pending_.clear();
  batches_.clear();
  front_delivered_ = 0;
  leds_ = 0;
  select(0, 0);
}

// ---- injection --------------------------------------------------------------------

bool InputDevice::inject(std::span<const Event> events) {
  const bool valid = events.size() + 1 <= kMaxBatchEvents &&
                     std::all_of(events.begin(), events.end(), [this](const Event& e) {
                       return e.type != input::kEvSyn && e.type != input::kEvLed &&
                              input::advertises_code(kind_, e.type, e.code);
                     });
  if (!valid) {
    ++stats_.refused;
    return false;
  }
  const size_t n = events.size() + 1;
  while (pending_.size() + n > kPendingEvents) drop_oldest_batch();  // INP-9
  pending_.insert(pending_.end(), events.begin(), events.end());
  pending_.push_back(Event{input::kEvSyn, input::kSynReport, 0});  // INP-4
  batches_.push_back(n);
  ++stats_.batches_queued;
  stats_.events_queued += n;
  if (notify_depth_ == 0 && on_events_pending) on_events_pending();
  return true;
}

// The oldest batch none of whose events reached the guest. Batches are at
// most kMaxBatchEvents long, far below kPendingEvents, so when a new batch
// does not fit there is always a second batch behind a partly delivered one.
void InputDevice::drop_oldest_batch() {
  const size_t victim = front_delivered_ == 0 ? 0 : 1;
  size_t start = 0;
  for (size_t i = 0; i < victim; ++i) start += batches_[i] - (i == 0 ? front_delivered_ : 0);
  const size_t len = batches_[victim];
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(start),
                 pending_.begin() + static_cast<std::ptrdiff_t>(start + len));
  batches_.erase(batches_.begin() + static_cast<std::ptrdiff_t>(victim));
  ++stats_.batches_dropped;
  stats_.events_dropped += len;
}

bool InputDevice::key(uint16_t code, bool pressed) {
  const Event e{input::kEvKey, code, pressed ? 1u : 0u};  // INP-5: never 2 (no auto-repeat)
  return inject({&e, 1});
}

bool InputDevice::mouse_move(int32_t dx, int32_t dy) {
  if (kind_ != InputKind::kMouse) {
    ++stats_.refused;
    return false;
  }
  if (dx == 0 && dy == 0) return true;  // nothing moved: no batch
  Event e[2];
  size_t n = 0;
  if (dx != 0) e[n++] = Event{input::kEvRel, input::kRelX, static_cast<uint32_t>(dx)};
  if (dy != 0) e[n++] = Event{input::kEvRel, input::kRelY, static_cast<uint32_t>(dy)};
  return inject({e, n});
}

bool InputDevice::wheel(int32_t vertical, int32_t horizontal) {
  if (kind_ != InputKind::kMouse) {
    ++stats_.refused;
    return false;
  }
  if (vertical == 0 && horizontal == 0) return true;
  Event e[2];
  size_t n = 0;
  if (vertical != 0) e[n++] = Event{input::kEvRel, input::kRelWheel, static_cast<uint32_t>(vertical)};
  if (horizontal != 0) {
    e[n++] = Event{input::kEvRel, input::kRelHWheel, static_cast<uint32_t>(horizontal)};
  }
  return inject({e, n});
}

bool InputDevice::tablet_position(int32_t x, int32_t y) {
  const Event e[2] = {
      {input::kEvAbs, input::kAbsX, static_cast<uint32_t>(std::clamp(x, abs_min_, abs_max_))},
      {input::kEvAbs, input::kAbsY, static_cast<uint32_t>(std::clamp(y, abs_min_, abs_max_))}};
  return inject(e);
}

// ---- queues -------------------------------------------------------------------------

void InputDevice::queue_notify(uint16_t q, transport::DeviceTransport& t) {
  if (q >= num_queues()) return;
  ++notify_depth_;
  const bool status_published = q == kStatusQueue && serve_status(t);
  const bool events_published = serve_events(t);  // every doorbell drains waiting events
  --notify_depth_;
  if (status_published) t.used_buffers_published(kStatusQueue);
  if (events_published) t.used_buffers_published(kEventQueue);
}

bool InputDevice::serve_events(transport::DeviceTransport& t) {
  vq::DeviceQueue& ring = t.queue(kEventQueue);
  if (!ring.configured()) return false;
  bool published = false;
  for (uint16_t n = 0; n < ring.size() && !pending_.empty(); ++n) {  // VQ-8
    const vq::PopStatus s = ring.pop(chain_);
    if (s == vq::PopStatus::kEmpty) break;
    if (s == vq::PopStatus::kRingError) {
      t.set_needs_reset();  // STAT-4 (VQ-8)
      break;
    }
    published = true;
    if (s == vq::PopStatus::kChainError) {
      ++stats_.event_chain_error;
      ring.push(chain_.head, 0);
      continue;
    }
    if (any_segment(chain_, false)) {
      ++stats_.event_readable;
      ring.push(chain_.head, 0);
      continue;
    }
    if (chain_.writable_bytes < input::kEventBytes) {
      ++stats_.event_too_small;
      ring.push(chain_.head, 0);
      continue;
    }
    uint8_t bytes[input::kEventBytes];
    input::encode_event(pending_.front(), bytes);
    uint32_t at = 0;
    for (const vq::ChainSegment& seg : chain_.segments) {
      if (at == input::kEventBytes) break;
      if (seg.len == 0) continue;
      const uint32_t k = std::min<uint32_t>(seg.len, input::kEventBytes - at);
      // The walker checked every segment; a failed write cannot happen.
      (void)t.memory().write(seg.addr, bytes + at, k);
      at += k;
    }
    ring.push(chain_.head, input::kEventBytes);  // INP-4: one event, used.len 8
    ++stats_.events_delivered;
    pending_.pop_front();
    if (++front_delivered_ == batches_.front()) {
      batches_.pop_front();
      front_delivered_ = 0;
    }
  }
  return published;
}

bool InputDevice::serve_status(transport::DeviceTransport& t) {
  vq::DeviceQueue& ring = t.queue(kStatusQueue);
  if (!ring.configured()) return false;
  bool published = false;
  for (uint16_t n = 0; n < ring.size(); ++n) {  // VQ-8
    const vq::PopStatus s = ring.pop(chain_);
    if (s == vq::PopStatus::kEmpty) break;
    if (s == vq::PopStatus::kRingError) {
      t.set_needs_reset();
      break;
    }
    ++stats_.status_buffers;
    if (s == vq::PopStatus::kChainError || any_segment(chain_, true)) {
      ++stats_.status_malformed;
    } else {
      read_status(chain_, t);
    }
    ring.push(chain_.head, 0);  // INP-8: every buffer consumed and completed
    published = true;
  }
  return published;
}

void InputDevice::read_status(const vq::DescChain& chain, transport::DeviceTransport& t) {
  uint64_t total = chain.readable_bytes;
  if (total > kMaxStatusBytes) {
    ++stats_.status_oversize;
    total = kMaxStatusBytes;
  }
  status_bytes_.resize(total);
  size_t at = 0;
  for (const vq::ChainSegment& seg : chain.segments) {
    if (at == total) break;
    if (seg.len == 0) continue;
    const size_t k = std::min<size_t>(seg.len, total - at);
    if (t.memory().read(seg.addr, status_bytes_.data() + at, k) != MemError::kOk) return;
    at += k;
  }
  size_t off = 0;
  for (; off + input::kEventBytes <= total; off += input::kEventBytes) {
    const Event e = input::decode_event(status_bytes_.data() + off);
    if (e.type == input::kEvSyn) continue;
    if (kind_ != InputKind::kKeyboard || e.type != input::kEvLed || e.code >= input::kLedCount ||
        e.value > 1) {
      ++stats_.status_ignored;
      continue;
    }
    ++stats_.status_leds;
    const uint32_t bit = 1u << e.code;
    leds_ = e.value != 0 ? (leds_ | bit) : (leds_ & ~bit);
    if (on_led) on_led(e.code, e.value != 0);
  }
  if (off != total) ++stats_.status_bad;
}

// ---- PCI-6 ------------------------------------------------------------------------------

InputFunctionSet::InputFunctionSet(GuestMemory& memory, transport::VirtioPciOptions options,
                                   bool with_tablet, const InputDeviceOptions& tablet) {
  for (uint8_t f = 0; f < input::kFunctionCount; ++f) {
    if (f == 2 && !with_tablet) break;
    InputDeviceOptions o = f == 2 ? tablet : InputDeviceOptions{};
    o.kind = static_cast<InputKind>(f);
    devices_[f] = std::make_unique<InputDevice>(o);
    functions_[f] = std::make_unique<transport::VirtioPciFunction>(
        *devices_[f], memory, transport::contract_identity(contract::kInput, f), options);
    transport::VirtioPciFunction* fn = functions_[f].get();
    devices_[f]->on_events_pending = [fn] { fn->process_queue(InputDevice::kEventQueue); };
  }
}

pci::PciError InputFunctionSet::attach(pci::PciBus& bus, uint8_t bus_number, uint8_t device) {
  for (uint8_t f = 0; f < input::kFunctionCount; ++f) {
    if (!functions_[f]) continue;
    const pci::PciError e = bus.attach(pci::Bdf{bus_number, device, f}, functions_[f].get());
    if (e != pci::PciError::kOk) return e;
  }
  return pci::PciError::kOk;
}

}  // namespace aerov::model::devices
