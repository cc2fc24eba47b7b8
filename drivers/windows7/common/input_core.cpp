#include "drivers/windows7/common/input_core.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/windows7/common/little_endian.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::drivers::windows7 {

namespace vq = virtqueue;
namespace in = model::devices::input;
using transport::TransportError;

namespace {

constexpr uint64_t kWantedFeatures = contract::feature_mask(contract::kFeatureVersion1) |
                                     contract::feature_mask(contract::kFeatureRingIndirectDesc);
constexpr uint64_t kRequiredFeatures = contract::feature_mask(contract::kFeatureVersion1);
constexpr uint32_t kStatusBufferBytes = InputCore::kStatusEvents * in::kEventBytes;

// HID report descriptors (HID 1.11 items; usages from the HID Usage Tables).
// Keyboard: the boot protocol layout, so BIOS-style hosts read it too.
constexpr uint8_t kKeyboardDescriptor[] = {
    0x05, 0x01, 0x09, 0x06, 0xA1, 0x01,              // Generic Desktop, Keyboard, Application
    0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7,              //   Keyboard page, LeftControl..RightGUI
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08,  //   0..1, 8 x 1 bit
    0x81, 0x02,                                      //   Input (Data, Var, Abs): modifiers
    0x95, 0x01, 0x75, 0x08, 0x81, 0x01,              //   Input (Const): reserved byte
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05,              //   LED page, NumLock..Kana
    0x95, 0x05, 0x75, 0x01, 0x91, 0x02,              //   Output (Data, Var, Abs): 5 LEDs
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01,              //   Output (Const): 3 bits padding
    0x05, 0x07, 0x19, 0x00, 0x2A, 0xFF, 0x00,        //   Keyboard page, 0..255
    0x15, 0x00, 0x26, 0xFF, 0x00,                    //   0..255
    0x95, 0x06, 0x75, 0x08, 0x81, 0x00,              //   Input (Data, Array): 6 keys
    0xC0};
// Mouse: 5 buttons, 16-bit X/Y, wheel, AC Pan (horizontal wheel).
constexpr uint8_t kMouseDescriptor[] = {
    0x05, 0x01, 0x09, 0x02, 0xA1, 0x01,              // Generic Desktop, Mouse, Application
    0x09, 0x01, 0xA1, 0x00,                          //   Pointer, Physical
    0x05, 0x09, 0x19, 0x01, 0x29, 0x05,              //     Button 1..5
    0x15, 0x00, 0x25, 0x01, 0x95, 0x05, 0x75, 0x01,  //     0..1, 5 x 1 bit
    0x81, 0x02,                                      //     Input (Data, Var, Abs)
    0x95, 0x01, 0x75, 0x03, 0x81, 0x01,              //     Input (Const): 3 bits padding
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31,              //     X, Y
    0x16, 0x01, 0x80, 0x26, 0xFF, 0x7F,              //     -32767..32767
    0x75, 0x10, 0x95, 0x02, 0x81, 0x06,              //     2 x 16 bits, Input (Data, Var, Rel)
    0x09, 0x38, 0x15, 0x81, 0x25, 0x7F,              //     Wheel, -127..127
    0x75, 0x08, 0x95, 0x01, 0x81, 0x06,              //     8 bits, Input (Data, Var, Rel)
    0x05, 0x0C, 0x0A, 0x38, 0x02,                    //     Consumer page, AC Pan
    0x95, 0x01, 0x81, 0x06,                          //     8 bits, Input (Data, Var, Rel)
    0xC0, 0xC0};
// Tablet: 1 button, absolute X/Y in 0..32767.
constexpr uint8_t kTabletDescriptor[] = {
    0x05, 0x01, 0x09, 0x02, 0xA1, 0x01,              // Generic Desktop, Mouse, Application
    0x09, 0x01, 0xA1, 0x00,                          //   Pointer, Physical
    0x05, 0x09, 0x19, 0x01, 0x29, 0x01,              //     Button 1
    0x15, 0x00, 0x25, 0x01, 0x95, 0x01, 0x75, 0x01,  //     0..1, 1 bit
    0x81, 0x02,                                      //     Input (Data, Var, Abs)
    0x95, 0x01, 0x75, 0x07, 0x81, 0x01,              //     Input (Const): 7 bits padding
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31,              //     X, Y
    0x15, 0x00, 0x26, 0xFF, 0x7F,                    //     0..32767
    0x75, 0x10, 0x95, 0x02, 0x81, 0x02,              //     2 x 16 bits, Input (Data, Var, Abs)
    0xC0, 0xC0};

// Linux key code -> Keyboard/Keypad page usage; modifiers map to 0xE0..0xE7.
struct KeyMap {
  uint8_t usage[128];
};

constexpr KeyMap make_key_map() {
  KeyMap m{};
  const uint8_t pairs[][2] = {
      {in::kKeyEsc, 0x29}, {in::kKeyMinus, 0x2D}, {in::kKeyEqual, 0x2E}, {in::kKeyBackspace, 0x2A},
      {in::kKeyTab, 0x2B}, {in::kKeyQ, 0x14}, {in::kKeyW, 0x1A}, {in::kKeyE, 0x08}, {in::kKeyR, 0x15},
      {in::kKeyT, 0x17}, {in::kKeyY, 0x1C}, {in::kKeyU, 0x18}, {in::kKeyI, 0x0C}, {in::kKeyO, 0x12},
      {in::kKeyP, 0x13}, {in::kKeyLeftBrace, 0x2F}, {in::kKeyRightBrace, 0x30}, {in::kKeyEnter, 0x28},
      {in::kKeyLeftCtrl, 0xE0}, {in::kKeyA, 0x04}, {in::kKeyS, 0x16}, {in::kKeyD, 0x07},
      {in::kKeyF, 0x09}, {in::kKeyG, 0x0A}, {in::kKeyH, 0x0B}, {in::kKeyJ, 0x0D}, {in::kKeyK, 0x0E},
      {in::kKeyL, 0x0F}, {in::kKeySemicolon, 0x33}, {in::kKeyApostrophe, 0x34}, {in::kKeyGrave, 0x35},
      {in::kKeyLeftShift, 0xE1}, {in::kKeyBackslash, 0x31}, {in::kKeyZ, 0x1D}, {in::kKeyX, 0x1B},
      {in::kKeyC, 0x06}, {in::kKeyV, 0x19}, {in::kKeyB, 0x05}, {in::kKeyN, 0x11}, {in::kKeyM, 0x10},
      {in::kKeyComma, 0x36}, {in::kKeyDot, 0x37}, {in::kKeySlash, 0x38}, {in::kKeyRightShift, 0xE5},
      {in::kKeyLeftAlt, 0xE2}, {in::kKeySpace, 0x2C}, {in::kKeyCapsLock, 0x39},
      {in::kKeyNumLock, 0x53}, {in::kKeyScrollLock, 0x47}, {in::kKeyF11, 0x44}, {in::kKeyF12, 0x45},
      {in::kKeyRightCtrl, 0xE4}, {in::kKeyRightAlt, 0xE6}, {in::kKeyHome, 0x4A}, {in::kKeyUp, 0x52},
      {in::kKeyPageUp, 0x4B}, {in::kKeyLeft, 0x50}, {in::kKeyRight, 0x4F}, {in::kKeyEnd, 0x4D},
      {in::kKeyDown, 0x51}, {in::kKeyPageDown, 0x4E}, {in::kKeyInsert, 0x49}, {in::kKeyDelete, 0x4C},
      {in::kKeyLeftMeta, 0xE3}, {in::kKeyRightMeta, 0xE7}};
  for (const auto& p : pairs) m.usage[p[0]] = p[1];
  for (uint8_t i = 0; i < 9; ++i) m.usage[in::kKey1 + i] = static_cast<uint8_t>(0x1E + i);  // 1..9
  m.usage[in::kKey0] = 0x27;
  for (uint8_t i = 0; i < 10; ++i) m.usage[in::kKeyF1 + i] = static_cast<uint8_t>(0x3A + i);  // F1..F10
  return m;
}

constexpr KeyMap kKeyMap = make_key_map();

bool usable_size(uint16_t size, uint16_t max) {
  return size >= 2 && size <= max && (size & (size - 1)) == 0;
}

bool bit_set(const uint8_t* bitmap, uint8_t size, uint16_t code) {
  return code / 8u < size && ((bitmap[code / 8] >> (code % 8)) & 1) != 0;
}

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

// n / d by shift and subtract: a 64-bit `/` on i686 calls libgcc's
// __udivdi3, which a kernel driver cannot link.
uint64_t div64(uint64_t n, uint64_t d) {
  uint64_t q = 0;
  uint64_t r = 0;
  for (int i = 63; i >= 0; --i) {
    r = (r << 1) | ((n >> i) & 1);
    if (r >= d) {
      r -= d;
      q |= uint64_t{1} << i;
    }
  }
  return q;
}

}  // namespace

const char* to_string(InputError e) {
  switch (e) {
    case InputError::kNone: return "none";
    case InputError::kInvalidArgument: return "invalid argument";
    case InputError::kNotReady: return "not ready";
    case InputError::kTransport: return "transport error";
    case InputError::kQueueSize: return "unsupported queue size";
    case InputError::kNoMemory: return "no DMA memory";
    case InputError::kQueueInit: return "queue init failed";
    case InputError::kUnsupported: return "unsupported input function";
    case InputError::kDeviceChanged: return "device changed across reset";
    case InputError::kBusy: return "busy";
  }
  return "unknown";
}

const uint8_t* InputCore::report_descriptor(InputKind kind, uint32_t* length) {
  switch (kind) {
    case InputKind::kKeyboard: *length = sizeof(kKeyboardDescriptor); return kKeyboardDescriptor;
    case InputKind::kMouse: *length = sizeof(kMouseDescriptor); return kMouseDescriptor;
    case InputKind::kTablet: *length = sizeof(kTabletDescriptor); return kTabletDescriptor;
  }
  *length = 0;
  return nullptr;
}

uint8_t InputCore::hid_usage(uint16_t linux_key) {
  return linux_key < sizeof(kKeyMap.usage) ? kKeyMap.usage[linux_key] : 0;
}

uint32_t InputCore::report_bytes() const {
  switch (kind_) {
    case InputKind::kKeyboard: return kKeyboardReportBytes;
    case InputKind::kMouse: return kMouseReportBytes;
    case InputKind::kTablet: return kTabletReportBytes;
  }
  return 0;
}

// ---- bring-up ---------------------------------------------------------------

InputError InputCore::init(OsServices& os, const InputCoreConfig& config) {
  if (state_ != State::kUninitialized || config.on_report == nullptr) {
    return InputError::kInvalidArgument;
  }
  os_ = &os;
  config_ = config;
  transport_error_ = attach_device(driver_, os, config.validation, &plan_);  // DRV-1, DRV-2
  if (transport_error_ != TransportError::kNone) {
    log_event(os, LogLevel::kError, "input: attach failed", static_cast<uint64_t>(transport_error_));
    return InputError::kTransport;
  }
  attached_ = true;
  const InputError e = bring_up(true);
  if (e != InputError::kNone) {
    log_event(os, LogLevel::kError, "input: init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    driver_.fail();
    return e;
  }
  state_ = State::kRunning;
  log_event(os, LogLevel::kInfo, "input: ready (kind, interrupt mode)", static_cast<uint64_t>(kind_),
            static_cast<uint64_t>(plan_.mode()));
  return InputError::kNone;
}

InputError InputCore::bring_up(bool first) {
  // STAT-3: RESET -> ACK -> DRIVER -> features -> FEATURES_OK -> queues -> DRIVER_OK.
  uint64_t accepted = 0;
  transport_error_ = reset_and_negotiate(driver_, kWantedFeatures, kRequiredFeatures, &accepted);
  uint16_t queues = 0;
  uint16_t ev_size = 0;
  uint16_t st_size = 0;
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.num_queues(&queues);
  if (transport_error_ == TransportError::kNone && queues < 2) return InputError::kQueueSize;
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.queue_size(kEventQueue, &ev_size);
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.queue_size(kStatusQueue, &st_size);
  if (transport_error_ != TransportError::kNone) return InputError::kTransport;
  InputKind kind = InputKind::kKeyboard;
  const InputError c = read_config(&kind);
  if (c != InputError::kNone) return c;
  if (first) {
    if (!usable_size(ev_size, kMaxQueueSize) || !usable_size(st_size, kMaxQueueSize)) {
      return InputError::kQueueSize;
    }
    features_ = accepted;
    event_size_ = ev_size;
    status_size_ = st_size;
    kind_ = kind;
    const InputError a = allocate();
    if (a != InputError::kNone) return a;
  } else if (accepted != features_ || ev_size != event_size_ || st_size != status_size_ || kind != kind_) {
    return InputError::kDeviceChanged;
  }
  if (eventq_.init(event_config_) != vq::DriverStatus::kOk ||
      statusq_.init(status_config_) != vq::DriverStatus::kOk) {
    return InputError::kQueueInit;
  }
  for (uint16_t s = 0; s < kMaxQueueSize; ++s) status_busy_[s] = false;
  status_in_use_ = 0;
  const QueueRings rings[2] = {{eventq_.desc_pa(), eventq_.avail_pa(), eventq_.used_pa()},
                               {statusq_.desc_pa(), statusq_.avail_pa(), statusq_.used_pa()}};
  transport_error_ = setup_queues(driver_, &plan_, rings, 2, &counters_.vector_fallbacks, *os_,
                                "input: device refused MSI-X vectors; now mode");
  if (transport_error_ != TransportError::kNone) return InputError::kTransport;
  events_posted_ = 0;
  for (uint16_t b = 0; b < event_size_; ++b) {
    if (!post_event(b)) return InputError::kQueueInit;
  }
  driver_.driver_ok();
  config_generation_ = driver_.config_generation();
  kick(eventq_, kEventQueue);
  return InputError::kNone;
}

// INP-2: writes select and subsel, reads size (clamped to 128) and payload,
// under the device lock: a selector sequence must not interleave (CFG-1).
bool InputCore::select(uint8_t sel, uint8_t subsel, uint8_t* payload, uint8_t* size) {
  transport::PciLock lock(*os_);
  const transport::VirtioPciCaps& caps = driver_.caps();
  os_->mmio_write(caps.device.bar, caps.device.offset + in::kConfigSelect, 1, sel);
  os_->mmio_write(caps.device.bar, caps.device.offset + in::kConfigSubsel, 1, subsel);
  uint8_t sz = 0;
  transport_error_ = driver_.read_device_config(in::kConfigSize, &sz, 1);
  if (transport_error_ != TransportError::kNone) return false;
  if (sz > in::kPayloadBytes) sz = in::kPayloadBytes;
  for (uint32_t i = 0; i < in::kPayloadBytes; ++i) payload[i] = 0;
  if (sz != 0) transport_error_ = driver_.read_device_config(in::kConfigPayload, payload, sz);
  *size = sz;
  return transport_error_ == TransportError::kNone;
}

InputError InputCore::read_config(InputKind* kind) {
  uint8_t bits[in::kPayloadBytes];
  uint8_t size = 0;
  if (!select(in::kSelectEvBits, static_cast<uint8_t>(in::kEvAbs), bits, &size)) return InputError::kTransport;
  if (bit_set(bits, size, in::kAbsX) && bit_set(bits, size, in::kAbsY)) {
    *kind = InputKind::kTablet;
    for (uint8_t axis = 0; axis < 2; ++axis) {
      if (!select(in::kSelectAbsInfo, axis, bits, &size)) return InputError::kTransport;
      if (size < 8) return InputError::kUnsupported;
      abs_min_[axis] = static_cast<int32_t>(load_le(bits, 4));
      abs_max_[axis] = static_cast<int32_t>(load_le(bits + 4, 4));
    }
  } else {
    if (!select(in::kSelectEvBits, static_cast<uint8_t>(in::kEvRel), bits, &size)) return InputError::kTransport;
    if (bit_set(bits, size, in::kRelX) && bit_set(bits, size, in::kRelY)) {
      *kind = InputKind::kMouse;
    } else {
      if (!select(in::kSelectEvBits, static_cast<uint8_t>(in::kEvKey), bits, &size)) {
        return InputError::kTransport;
      }
      if (size == 0) return InputError::kUnsupported;
      *kind = InputKind::kKeyboard;
    }
  }
  // Leave the window on an unused selector: nothing the device shows changes.
  transport::PciLock lock(*os_);
  os_->mmio_write(driver_.caps().device.bar, driver_.caps().device.offset + in::kConfigSelect, 1,
                  in::kSelectUnset);
  return InputError::kNone;
}

InputError InputCore::allocate() {
  const uint32_t ev_ring = static_cast<uint32_t>(vq::ring_layout(event_size_, false).total_bytes);
  const uint32_t st_ring = static_cast<uint32_t>(vq::ring_layout(status_size_, false).total_bytes);
  if (!os_->alloc_dma(ev_ring, 4096, &event_ring_) || !os_->alloc_dma(st_ring, 4096, &status_ring_) ||
      !os_->alloc_dma(uint32_t{event_size_} * in::kEventBytes, 8, &event_buffers_) ||
      !os_->alloc_dma(uint32_t{status_size_} * kStatusBufferBytes, 8, &status_buffers_)) {
    log_event(*os_, LogLevel::kError, "input: DMA allocation failed");
    return InputError::kNoMemory;
  }
  event_config_ = vq::DriverQueueConfig{};
  event_config_.size = event_size_;
  event_config_.ring = event_ring_;
  event_config_.state = event_state_;
  status_config_ = vq::DriverQueueConfig{};
  status_config_.size = status_size_;
  status_config_.ring = status_ring_;
  status_config_.state = status_state_;
  return InputError::kNone;
}

// INP-4: one device-writable 8-byte buffer per event.
bool InputCore::post_event(uint16_t buffer) {
  uint8_t* va = static_cast<uint8_t*>(event_buffers_.va) + uint32_t{buffer} * in::kEventBytes;
  const vq::Segment seg{event_buffers_.pa + uint64_t{buffer} * in::kEventBytes, in::kEventBytes, true};
  if (eventq_.add(&seg, 1, va) != vq::DriverStatus::kOk) return false;
  ++events_posted_;
  return true;
}

void InputCore::kick(vq::DriverQueue& q, uint16_t index) {
  q.publish();
  if (q.kick_needed()) {
    driver_.notify(index);
    ++counters_.kicks;
  }
}

// ---- LEDs (INP-5, INP-8) -------------------------------------------------------

InputError InputCore::set_leds(uint8_t leds) {
  if (state_ != State::kRunning) return InputError::kNotReady;
  if (kind_ != InputKind::kKeyboard) return InputError::kInvalidArgument;
  leds_ = static_cast<uint8_t>(leds & ((1u << in::kLedCount) - 1));
  return send_leds();
}

InputError InputCore::send_leds() {
  drain_status();  // frees buffers the device already consumed
  uint16_t slot = 0;
  while (slot < status_size_ && status_busy_[slot]) ++slot;
  if (slot == status_size_) {
    ++counters_.led_busy;
    return InputError::kBusy;
  }
  uint8_t* va = static_cast<uint8_t*>(status_buffers_.va) + uint32_t{slot} * kStatusBufferBytes;
  for (uint16_t led = 0; led < in::kLedCount; ++led) {
    in::encode_event({in::kEvLed, led, (leds_ >> led) & 1u}, va + led * in::kEventBytes);
  }
  in::encode_event({in::kEvSyn, in::kSynReport, 0}, va + in::kLedCount * in::kEventBytes);
  const vq::Segment seg{status_buffers_.pa + uint64_t{slot} * kStatusBufferBytes, kStatusBufferBytes, false};
  if (statusq_.add(&seg, 1, &status_busy_[slot]) != vq::DriverStatus::kOk) {
    ++counters_.led_busy;
    return InputError::kBusy;
  }
  status_busy_[slot] = true;
  ++status_in_use_;
  ++counters_.led_reports;
  kick(statusq_, kStatusQueue);
  return InputError::kNone;
}

// ---- interrupts and completion ---------------------------------------------------

bool InputCore::interrupt() {
  if (!attached_) return false;
  return service(decode_intx(driver_, 2), &counters_.interrupts);
}

bool InputCore::message_interrupt(uint16_t message) {
  if (!attached_) return false;
  if (!plan_.uses_msix()) return interrupt();
  return service(decode_message(driver_, plan_, message, 2, &config_generation_), &counters_.messages);
}

bool InputCore::service(const InterruptWork& work, uint64_t* counter) {
  if (!work.ours) {
    ++counters_.spurious;
    return false;
  }
  ++*counter;
  if (state_ != State::kRunning) return true;
  if (work.needs_reset) {
    harvest();
    recover("input: device needs reset");
    return true;
  }
  if (work.config) {
    ++counters_.config_changes;  // the configuration is static (INP-2): nothing to re-read
    config_generation_ = driver_.config_generation();
  }
  drain();
  return true;
}

void InputCore::poll() {
  if (state_ != State::kRunning) return;
  if (driver_.needs_reset()) {
    harvest();
    recover("input: device needs reset");
    return;
  }
  drain();
}

void InputCore::drain() {
  if (!drain_events()) return;
  drain_status();
}

void InputCore::harvest() {
  harvesting_ = true;
  drain_events();
  drain_status();
  harvesting_ = false;
}

bool InputCore::drain_events() {
  const uint32_t budget = 4u * event_size_;  // a device that keeps sending cannot hold us forever
  uint8_t* const base = static_cast<uint8_t*>(event_buffers_.va);
  bool reposted = false;
  for (uint32_t i = 0; i < budget; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = eventq_.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!harvesting_) recover("input: eventq protocol violation (VQ-9)");
      return false;
    }
    resets_without_progress_ = 0;
    --events_posted_;
    uint8_t* buffer = static_cast<uint8_t*>(used.cookie);
    const uint16_t index = static_cast<uint16_t>((buffer - base) / in::kEventBytes);
    if (used.len != in::kEventBytes) {
      ++counters_.bad_events;
    } else {
      ++counters_.events;
      const in::Event e = in::decode_event(buffer);
      on_event(e.type, e.code, e.value);
    }
    post_event(index);  // cannot fail: its descriptor was just freed
    reposted = true;
  }
  if (reposted && !harvesting_) kick(eventq_, kEventQueue);
  return true;
}

bool InputCore::drain_status() {
  for (uint32_t i = 0; i < 4u * status_size_; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = statusq_.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      if (!harvesting_) recover("input: statusq protocol violation (VQ-9)");
      return false;
    }
    *static_cast<bool*>(used.cookie) = false;
    --status_in_use_;
  }
  return true;
}

// ---- translation -----------------------------------------------------------------

void InputCore::on_event(uint16_t type, uint16_t code, uint32_t value) {
  const auto signed_value = static_cast<int32_t>(value);
  switch (type) {
    case in::kEvSyn:
      if (code == in::kSynReport) {
        on_syn();
        return;
      }
      break;
    case in::kEvKey:
      on_key(code, value);
      return;
    case in::kEvRel:
      if (kind_ != InputKind::kMouse) break;
      if (code == in::kRelX) { rel_[0] += signed_value; dirty_ = true; return; }
      if (code == in::kRelY) { rel_[1] += signed_value; dirty_ = true; return; }
      if (code == in::kRelWheel) { rel_[2] += signed_value; dirty_ = true; return; }
      if (code == in::kRelHWheel) { rel_[3] += signed_value; dirty_ = true; return; }
      break;
    case in::kEvAbs:
      if (kind_ != InputKind::kTablet || code > in::kAbsY) break;
      abs_[code] = signed_value;
      dirty_ = true;
      return;
    default:
      break;
  }
  ++counters_.ignored_events;
}

void InputCore::on_key(uint16_t code, uint32_t value) {
  if (value > 1) {
    if (value != 2) ++counters_.ignored_events;  // 2 is auto-repeat: nothing changes
    return;
  }
  const bool down = value == 1;
  if (kind_ != InputKind::kKeyboard) {
    int bit = -1;
    if (kind_ == InputKind::kMouse) {
      for (int b = 0; b < static_cast<int>(in::kMouseButtonCount); ++b) {
        if (in::kMouseButtons[b] == code) bit = b;
      }
    } else if (code == in::kBtnTouch || code == in::kBtnLeft) {
      bit = 0;
    }
    if (bit < 0) {
      ++counters_.ignored_events;
      return;
    }
    const uint8_t mask = static_cast<uint8_t>(1u << bit);
    const uint8_t next = static_cast<uint8_t>(down ? (buttons_ | mask) : (buttons_ & ~mask));
    dirty_ = dirty_ || next != buttons_;
    buttons_ = next;
    return;
  }
  const uint8_t usage = hid_usage(code);
  if (usage == 0) {
    ++counters_.ignored_events;
    return;
  }
  if (usage >= 0xE0) {
    const uint8_t mask = static_cast<uint8_t>(1u << (usage - 0xE0));
    const uint8_t next = static_cast<uint8_t>(down ? (modifiers_ | mask) : (modifiers_ & ~mask));
    dirty_ = dirty_ || next != modifiers_;
    modifiers_ = next;
    return;
  }
  uint8_t at = 0;
  while (at < pressed_count_ && pressed_[at] != usage) ++at;
  if (down && at == pressed_count_ && pressed_count_ < sizeof(pressed_)) {
    pressed_[pressed_count_++] = usage;
    dirty_ = true;
  } else if (!down && at < pressed_count_) {
    for (uint8_t i = at; i + 1 < pressed_count_; ++i) pressed_[i] = pressed_[i + 1];
    --pressed_count_;
    dirty_ = true;
  }
}

void InputCore::on_syn() {
  if (!dirty_) return;
  dirty_ = false;
  uint8_t r[kMaxReportBytes] = {};
  switch (kind_) {
    case InputKind::kKeyboard: {
      r[0] = modifiers_;
      if (pressed_count_ > kRolloverKeys) {
        for (uint32_t i = 0; i < kRolloverKeys; ++i) r[2 + i] = kErrorRollOver;
        ++counters_.rollover;
      } else {
        for (uint32_t i = 0; i < pressed_count_; ++i) r[2 + i] = pressed_[i];
      }
      break;
    }
    case InputKind::kMouse: {
      const int64_t limits[4] = {32767, 32767, 127, 127};
      int64_t v[4];
      for (int i = 0; i < 4; ++i) {
        v[i] = clamp64(rel_[i], -limits[i], limits[i]);
        if (v[i] != rel_[i]) ++counters_.clamped;
        rel_[i] = 0;
      }
      r[0] = buttons_;
      store_le(r + 1, static_cast<uint64_t>(v[0]), 2);
      store_le(r + 3, static_cast<uint64_t>(v[1]), 2);
      r[5] = static_cast<uint8_t>(v[2]);
      r[6] = static_cast<uint8_t>(v[3]);
      break;
    }
    case InputKind::kTablet:
      r[0] = buttons_;
      store_position(r);
      break;
  }
  emit(r, report_bytes());
}

// INP-7: the raw position clamped into [min, max] and scaled to 0..32767
// (0 when the device's range is empty), as le16 X and Y after the buttons.
void InputCore::store_position(uint8_t* report) const {
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t lo = abs_min_[axis];
    const int64_t hi = abs_max_[axis];
    const uint64_t scaled =
        hi > lo ? div64(static_cast<uint64_t>(clamp64(abs_[axis], lo, hi) - lo) * kTabletMax,
                        static_cast<uint64_t>(hi - lo))
                : 0;
    store_le(report + 1 + 2 * axis, scaled, 2);
  }
}

void InputCore::emit(const uint8_t* report, uint32_t length) {
  ++counters_.reports;
  config_.on_report(config_.context, report, length);
}

// After a reset the device dropped what it held: nothing may stay pressed.
void InputCore::release_all() {
  const bool held = modifiers_ != 0 || pressed_count_ != 0 || buttons_ != 0;
  modifiers_ = 0;
  pressed_count_ = 0;
  buttons_ = 0;
  for (int64_t& v : rel_) v = 0;
  dirty_ = false;
  if (!held) return;
  uint8_t r[kMaxReportBytes] = {};
  if (kind_ == InputKind::kTablet) store_position(r);  // the pointer stays where it is
  emit(r, report_bytes());
}

// ---- recovery ----------------------------------------------------------------------

void InputCore::recover(const char* why) {
  ++counters_.resets;
  log_event(*os_, LogLevel::kWarning, why, static_cast<uint64_t>(eventq_.broken_reason()),
            static_cast<uint64_t>(statusq_.broken_reason()));
  if (++resets_without_progress_ > kMaxResetsWithoutProgress) {
    fail_device();
    return;
  }
  const InputError e = bring_up(false);
  if (e != InputError::kNone) {
    log_event(*os_, LogLevel::kError, "input: re-init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    fail_device();
    return;
  }
  release_all();
  if (kind_ == InputKind::kKeyboard && leds_ != 0) send_leds();  // the device forgot them
}

void InputCore::fail_device() {
  state_ = State::kFailed;
  driver_.fail();
  log_event(*os_, LogLevel::kError, "input: device failed");
  release_all();
}

}  // namespace aerov::drivers::windows7
