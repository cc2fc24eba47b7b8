#include "model/devices/input/testing/input_scenarios.hpp"

#include <algorithm>
#include <memory>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/input/testing/input_rig.hpp"
#include "model/pci/config_registers.hpp"
#include "model/pci/pci_enumerator.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace {

namespace vq = virtqueue;
using input::Event;
using input::InputKind;
using transport::TransportError;
using transport::testing::expect;
using transport::testing::hex;
using transport::testing::RawDesc;
using Bytes = std::vector<uint8_t>;
constexpr uint16_t kEvq = InputDevice::kEventQueue;
constexpr uint16_t kStq = InputDevice::kStatusQueue;
constexpr uint32_t kDeviceCfg = 0x3000;  // BAR-2
constexpr Event kSyn{input::kEvSyn, input::kSynReport, 0};
constexpr InputKind kKinds[] = {InputKind::kKeyboard, InputKind::kMouse, InputKind::kTablet};

std::string num(uint64_t v) { return std::to_string(v); }

std::string text(const Event& e) {
  return "{type " + num(e.type) + " code " + num(e.code) + " value " + hex(e.value) + "}";
}

bool same(const Event& a, const Event& b) {
  return a.type == b.type && a.code == b.code && a.value == b.value;
}

InputRigOptions of_kind(InputKind kind) {
  InputRigOptions o;
  o.device.kind = kind;
  return o;
}

std::string kind_name(InputKind k) { return input::kNames[static_cast<uint8_t>(k)]; }

// The events of `got`, which must each have used.len 8, against `want`.
void expect_events(Failures& f, const std::vector<EventCompletion>& got,
                   const std::vector<Event>& want, const std::string& what) {
  expect(f, got.size() == want.size(),
         what + ": " + num(got.size()) + " events, expected " + num(want.size()) + " (INP-4)");
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    expect(f, got[i].len == input::kEventBytes,
           what + ": event " + num(i) + " used.len " + num(got[i].len) + ", expected 8 (INP-4)");
    expect(f, same(got[i].event, want[i]),
           what + ": event " + num(i) + " is " + text(got[i].event) + ", expected " + text(want[i]));
  }
}

// EV_BITS bitmap for `type`, as the driver reads it.
Bytes ev_bits(InputRig& rig, uint8_t type, uint8_t* size) {
  rig.select(input::kSelectEvBits, type);
  *size = rig.config_size();
  return rig.config_payload();
}

bool has_bit(const Bytes& bitmap, uint16_t code) {
  return code / 8 < bitmap.size() && (bitmap[code / 8] >> (code % 8) & 1) != 0;
}

// Exactly the types `kind` advertises have a non-empty EV_BITS bitmap.
void expect_types(Failures& f, InputRig& rig, std::vector<uint16_t> advertised) {
  const std::string who = kind_name(rig.device->kind());
  for (uint16_t type = 0; type <= input::kEvMax; ++type) {
    uint8_t size = 0;
    const Bytes bm = ev_bits(rig, static_cast<uint8_t>(type), &size);
    const bool want = std::find(advertised.begin(), advertised.end(), type) != advertised.end();
    expect(f, (size != 0) == want,
           who + ": EV_BITS type " + num(type) + " size " + num(size) + (want ? ", expected it" : ", expected 0"));
    if (!want) expect(f, bm == Bytes(input::kPayloadBytes, 0), who + ": payload of an absent type not zero");
  }
}

// The codes set in the EV_BITS bitmap of `type`.
std::vector<uint16_t> codes_of(InputRig& rig, uint8_t type) {
  uint8_t size = 0;
  const Bytes bm = ev_bits(rig, type, &size);
  std::vector<uint16_t> codes;
  for (uint32_t c = 0; c < input::kPayloadBytes * 8u; ++c) {
    if (has_bit(bm, static_cast<uint16_t>(c))) codes.push_back(static_cast<uint16_t>(c));
  }
  // The size covers the highest code exactly.
  const size_t want = codes.empty() ? 0 : codes.back() / 8 + 1;
  if (size != want) codes.push_back(0xFFFF);  // a marker the caller's comparison fails on
  return codes;
}

std::vector<uint16_t> sorted(std::vector<uint16_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string list(const std::vector<uint16_t>& v) {
  std::string s;
  for (uint16_t c : v) s += (s.empty() ? "" : ",") + num(c);
  return "[" + s + "]";
}

}  // namespace

Failures check_input_queues() {
  Failures f;
  for (InputKind k : kKinds) {
    InputRig rig(of_kind(k));
    const contract::DeviceSpec& spec = contract::kInput;
    uint16_t n = 0;
    expect(f, rig.driver.num_queues(&n) == TransportError::kNone && n == 2,
           kind_name(k) + ": num_queues reads " + num(n) + ", expected 2 (INP-1)");
    for (uint16_t q = 0; q < 2; ++q) {
      uint16_t size = 0;
      expect(f, rig.driver.queue_size(q, &size) == TransportError::kNone && size == 64 &&
                    size == spec.queues[q].size,
             kind_name(k) + ": queue " + num(q) + " size " + num(size) + ", expected 64 (INP-1)");
    }
    expect(f, std::string(spec.queues[0].name) == "eventq" && std::string(spec.queues[1].name) == "statusq",
           "contract queue names are not eventq, statusq");
    uint16_t size = 0;
    expect(f, rig.driver.queue_size(2, &size) != TransportError::kNone || size == 0,
           kind_name(k) + ": a third queue exists (INP-1)");
    const uint64_t offered = rig.driver.device_features();
    using namespace contract;
    expect(f, offered == spec.features_offered,
           kind_name(k) + ": offers " + hex(offered) + ", expected exactly the contract's offer (INP-1)");
    expect(f, offered == (feature_mask(kFeatureVersion1) | feature_mask(kFeatureRingIndirectDesc)),
           kind_name(k) + ": offer is not VERSION_1 + INDIRECT_DESC (INP-1, FEAT-1)");
    expect(f, rig.features == offered, "negotiation did not accept the full offer");
  }
  return f;
}

Failures check_input_config_selectors() {
  Failures f;
  for (InputKind k : kKinds) {
    InputRig rig(of_kind(k));
    const std::string who = kind_name(k);
    // select and subsel read back; size and payload ignore writes.
    rig.select(input::kSelectIdName, 0);
    const Bytes name = rig.config_payload();
    rig.bar0_write(kDeviceCfg + input::kConfigSize, 1, 0x55);
    for (uint32_t off = input::kConfigPayload; off < input::kConfigBytes; off += 4) {
      rig.bar0_write(kDeviceCfg + off, 4, 0xA5A5A5A5u);
    }
    expect(f, rig.read_config(0, 3) == Bytes{input::kSelectIdName, 0, static_cast<uint8_t>(who.size())},
           who + ": select/subsel/size read back wrong or size writable (INP-2)");
    expect(f, rig.config_payload() == name, who + ": payload writable (INP-2)");
    // A 2-byte write sets select and subsel together.
    rig.bar0_write(kDeviceCfg, 2, 0x0311);
    expect(f, rig.read_config(0, 2) == Bytes{0x11, 0x03}, who + ": 2-byte select/subsel write (INP-2)");
    // Every selector other than the implemented ones reads size 0, zero payload.
    for (uint32_t sel = 0; sel < 256; ++sel) {
      const bool implemented = sel == input::kSelectIdName || sel == input::kSelectIdDevids ||
                               sel == input::kSelectEvBits ||
                               (sel == input::kSelectAbsInfo && k == InputKind::kTablet);
      if (implemented) continue;
      for (uint8_t subsel : {0, 1, 0x11, 0xFF}) {
        rig.select(static_cast<uint8_t>(sel), subsel);
        expect(f, rig.config_size() == 0,
               who + ": selector " + hex(sel) + " subsel " + num(subsel) + " size not 0 (INP-2)");
        expect(f, rig.config_payload() == Bytes(input::kPayloadBytes, 0),
               who + ": selector " + hex(sel) + " payload not zero (INP-2)");
      }
    }
    // Implemented selectors with a subsel they do not define read size 0.
    for (uint8_t sel : {input::kSelectIdName, input::kSelectIdDevids}) {
      rig.select(sel, 1);
      expect(f, rig.config_size() == 0, who + ": selector " + hex(sel) + " subsel 1 not size 0 (INP-2)");
    }
    for (uint32_t type = input::kEvMax + 1; type < 256; type += 7) {
      rig.select(input::kSelectEvBits, static_cast<uint8_t>(type));
      expect(f, rig.config_size() == 0, who + ": EV_BITS subsel " + num(type) + " not size 0 (INP-2)");
    }
    // Reads past the 136-byte structure are zero (BAR-3).
    expect(f, rig.bar0_read(kDeviceCfg + input::kConfigBytes, 4) == 0, who + ": bytes past config not 0");
    expect(f, rig.device->config_read(0xFFFFFFF0u, 8) == 0, who + ": wild config offset not 0");
  }
  return f;
}

Failures check_input_ids() {
  Failures f;
  for (InputKind k : kKinds) {
    InputRig rig(of_kind(k));
    const uint8_t i = static_cast<uint8_t>(k);
    const std::string want = i == 0 ? "Aero Virtio Keyboard" : i == 1 ? "Aero Virtio Mouse" : "Aero Virtio Tablet";
    rig.select(input::kSelectIdName, 0);
    const uint8_t size = rig.config_size();
    const Bytes payload = rig.config_payload();
    expect(f, size == want.size() && std::string(payload.begin(), payload.begin() + size) == want,
           "ID_NAME of function " + num(i) + " is not \"" + want + "\" (INP-3)");
    expect(f, std::all_of(payload.begin() + size, payload.end(), [](uint8_t b) { return b == 0; }),
           "ID_NAME not zero after the name (INP-3)");
    rig.select(input::kSelectIdDevids, 0);
    const Bytes ids = rig.config_payload(8);
    const uint16_t product = static_cast<uint16_t>(i + 1);
    const Bytes want_ids{0x06, 0x00, 0xF4, 0x1A, static_cast<uint8_t>(product), 0x00, 0x01, 0x00};
    expect(f, rig.config_size() == 8 && ids == want_ids,
           "DEVIDS of function " + num(i) + " wrong: bustype 6, vendor 0x1AF4, product " + num(product) +
               ", version 1 (INP-3)");
  }
  return f;
}

Failures check_input_events() {
  Failures f;
  {
    InputRig rig(of_kind(InputKind::kMouse));
    rig.post_events(16);
    rig.device->mouse_move(5, -3);
    const auto got = rig.reap_events();
    expect_events(f, got, {{input::kEvRel, input::kRelX, 5}, {input::kEvRel, input::kRelY, 0xFFFFFFFDu}, kSyn},
                  "mouse move");
    // The rest of each 64-byte buffer is untouched: one event per entry.
    for (const auto& c : got) {
      expect(f, rig.peek(rig.event_buf(c.slot) + 8, 8) == Bytes(8, InputRig::kUnwritten),
             "device wrote past the 8-byte event (INP-4)");
    }
    // Two batches: each ends with SYN_REPORT, in order.
    rig.device->mouse_button(input::kBtnLeft, true);
    rig.device->wheel(1, 0);
    expect_events(f, rig.reap_events(),
                  {{input::kEvKey, input::kBtnLeft, 1}, kSyn, {input::kEvRel, input::kRelWheel, 1}, kSyn},
                  "button then wheel");
  }
  {
    // A 16-byte buffer and a buffer split 3 + 5 bytes, the second above 4 GiB.
    InputRig rig(of_kind(InputKind::kKeyboard));
    rig.post_event(0, 16);
    const uint64_t hi = transport::testing::DriverRig::kHighRam + 0x1003;
    rig.fill(hi, InputRig::kUnwritten, 8);
    const vq::Segment segs[2] = {{rig.event_buf(1), 3, true}, {hi, 5, true}};
    rig.add_chain(kEvq, 1, segs);
    rig.kick(kEvq);
    rig.device->key(input::kKeyA, true);
    const auto got = rig.reap_events();
    expect(f, got.size() == 2 && got[0].len == 8 && got[1].len == 8,
           "16-byte and split buffers not completed with used.len 8 (INP-4)");
    if (got.size() == 2) {
      expect(f, same(got[0].event, {input::kEvKey, input::kKeyA, 1}), "first event wrong: " + text(got[0].event));
      Bytes split = rig.peek(rig.event_buf(1), 3);
      const Bytes tail = rig.peek(hi, 5);
      split.insert(split.end(), tail.begin(), tail.end());
      expect(f, same(input::decode_event(split.data()), kSyn), "split buffer does not hold SYN_REPORT (INP-4)");
      expect(f, rig.peek(rig.event_buf(0) + 8, 8) == Bytes(8, InputRig::kUnwritten),
             "device wrote more than one event into a 16-byte buffer (INP-4)");
    }
  }
  return f;
}

Failures check_input_keyboard() {
  Failures f;
  InputRig rig(of_kind(InputKind::kKeyboard));
  expect_types(f, rig, {input::kEvSyn, input::kEvKey, input::kEvLed});
  const std::vector<uint16_t> keys = codes_of(rig, input::kEvKey);
  // The contract's keys (INP-5), by Linux code.
  std::vector<uint16_t> required = {input::kKeyEnter, input::kKeyEsc, input::kKeyBackspace, input::kKeyTab,
                                    input::kKeySpace, input::kKeyLeftShift, input::kKeyRightShift,
                                    input::kKeyLeftCtrl, input::kKeyRightCtrl, input::kKeyLeftAlt,
                                    input::kKeyRightAlt, input::kKeyCapsLock, input::kKeyNumLock,
                                    input::kKeyScrollLock, input::kKeyUp, input::kKeyDown, input::kKeyLeft,
                                    input::kKeyRight, input::kKeyInsert, input::kKeyDelete, input::kKeyHome,
                                    input::kKeyEnd, input::kKeyPageUp, input::kKeyPageDown};
  for (uint16_t c = input::kKey1; c <= input::kKey0; ++c) required.push_back(c);  // 1..9, 0
  for (uint16_t c = input::kKeyF1; c <= input::kKeyF10; ++c) required.push_back(c);
  required.push_back(input::kKeyF11);
  required.push_back(input::kKeyF12);
  for (uint16_t c : {input::kKeyQ, input::kKeyW, input::kKeyE, input::kKeyR, input::kKeyT, input::kKeyY,
                     input::kKeyU, input::kKeyI, input::kKeyO, input::kKeyP, input::kKeyA, input::kKeyS,
                     input::kKeyD, input::kKeyF, input::kKeyG, input::kKeyH, input::kKeyJ, input::kKeyK,
                     input::kKeyL, input::kKeyZ, input::kKeyX, input::kKeyC, input::kKeyV, input::kKeyB,
                     input::kKeyN, input::kKeyM}) {
    required.push_back(c);
  }
  expect(f, required.size() == 26 + 10 + 12 + 24, "the test's own key list is incomplete");
  for (uint16_t c : required) {
    expect(f, std::binary_search(keys.begin(), keys.end(), c), "keyboard does not advertise key " + num(c) + " (INP-5)");
  }
  expect(f, keys == sorted(std::vector<uint16_t>(input::kKeyboardKeys, input::kKeyboardKeys + input::kKeyboardKeyCount)),
         "keyboard EV_KEY bitmap " + list(keys) + " is not exactly its key table (or size is wrong)");
  expect(f, !std::binary_search(keys.begin(), keys.end(), input::kBtnLeft), "keyboard advertises BTN_LEFT");
  expect(f, codes_of(rig, input::kEvLed) == std::vector<uint16_t>{0, 1, 2, 3, 4},
         "keyboard LEDs are not NUML, CAPSL, SCROLLL, COMPOSE, KANA (INP-5)");
  expect(f, codes_of(rig, input::kEvSyn) == std::vector<uint16_t>{input::kSynReport}, "EV_SYN bitmap not SYN_REPORT");
  // Press 1, release 0, no auto-repeat value 2 ever.
  rig.post_events(32);
  rig.device->key(input::kKeyLeftShift, true);
  rig.device->key(input::kKeyA, true);
  rig.device->key(input::kKeyA, false);
  rig.device->key(input::kKeyLeftShift, false);
  expect_events(f, rig.reap_events(),
                {{input::kEvKey, input::kKeyLeftShift, 1}, kSyn, {input::kEvKey, input::kKeyA, 1}, kSyn,
                 {input::kEvKey, input::kKeyA, 0}, kSyn, {input::kEvKey, input::kKeyLeftShift, 0}, kSyn},
                "shift+a");
  // Codes the keyboard does not advertise are refused, nothing is queued.
  const uint64_t refused = rig.device->stats().refused;
  expect(f, !rig.device->key(input::kBtnLeft, true) && !rig.device->key(0, true) &&
                !rig.device->key(input::kKeyMax, true) && !rig.device->mouse_move(1, 1),
         "keyboard accepted an unadvertised code (INP-5)");
  const Event led{input::kEvLed, input::kLedCapsLock, 1};
  expect(f, !rig.device->inject({&led, 1}), "host injected an LED event onto eventq");
  expect(f, rig.device->stats().refused == refused + 5 && rig.reap_events().empty(),
         "refusals not counted or events leaked");
  return f;
}

Failures check_input_mouse() {
  Failures f;
  InputRig rig(of_kind(InputKind::kMouse));
  expect_types(f, rig, {input::kEvSyn, input::kEvKey, input::kEvRel});
  expect(f, codes_of(rig, input::kEvRel) ==
                std::vector<uint16_t>{input::kRelX, input::kRelY, input::kRelHWheel, input::kRelWheel},
         "mouse REL bitmap not X, Y, HWHEEL, WHEEL (INP-6)");
  expect(f, codes_of(rig, input::kEvKey) == std::vector<uint16_t>{input::kBtnLeft, input::kBtnRight,
                                                                  input::kBtnMiddle, input::kBtnSide,
                                                                  input::kBtnExtra},
         "mouse buttons not LEFT, RIGHT, MIDDLE, SIDE, EXTRA (INP-6)");
  rig.post_events(64);
  rig.device->mouse_move(-2147483647 - 1, 0);
  rig.device->mouse_move(0, 0);  // nothing moved: no batch at all
  rig.device->wheel(-2, 3);
  for (uint16_t b : input::kMouseButtons) rig.device->mouse_button(b, true);
  std::vector<Event> want = {{input::kEvRel, input::kRelX, 0x80000000u}, kSyn,
                             {input::kEvRel, input::kRelWheel, 0xFFFFFFFEu},
                             {input::kEvRel, input::kRelHWheel, 3}, kSyn};
  for (uint16_t b : input::kMouseButtons) {
    want.push_back({input::kEvKey, b, 1});
    want.push_back(kSyn);
  }
  expect_events(f, rig.reap_events(), want, "mouse");
  expect(f, !rig.device->key(input::kKeyA, true) && !rig.device->tablet_position(1, 1),
         "mouse accepted keyboard or tablet events (INP-6)");
  return f;
}

Failures check_input_tablet() {
  Failures f;
  InputRigOptions o = of_kind(InputKind::kTablet);
  o.device.abs_min = -100;
  o.device.abs_max = 1000;
  InputRig rig(o);
  expect_types(f, rig, {input::kEvSyn, input::kEvKey, input::kEvAbs});
  expect(f, codes_of(rig, input::kEvAbs) == std::vector<uint16_t>{input::kAbsX, input::kAbsY},
         "tablet ABS bitmap not ABS_X, ABS_Y (INP-7)");
  expect(f, codes_of(rig, input::kEvKey) == std::vector<uint16_t>{input::kBtnTouch}, "tablet buttons not BTN_TOUCH");
  for (uint8_t axis : {input::kAbsX, input::kAbsY}) {
    rig.select(input::kSelectAbsInfo, axis);
    const Bytes want{0x9C, 0xFF, 0xFF, 0xFF, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect(f, rig.config_size() == 20 && rig.config_payload(20) == want,
           "ABS_INFO of axis " + num(axis) + " is not {min -100, max 1000, 0, 0, 0} (INP-7)");
  }
  for (uint8_t axis : {2, 0x18, 0x3F}) {
    rig.select(input::kSelectAbsInfo, axis);
    expect(f, rig.config_size() == 0, "ABS_INFO of unadvertised axis " + num(axis) + " not size 0 (INP-2)");
  }
  rig.post_events(32);
  rig.device->tablet_position(500, -7);
  rig.device->tablet_position(-5000, 99999);
  rig.device->key(input::kBtnTouch, true);
  expect_events(f, rig.reap_events(),
                {{input::kEvAbs, input::kAbsX, 500}, {input::kEvAbs, input::kAbsY, 0xFFFFFFF9u}, kSyn,
                 {input::kEvAbs, input::kAbsX, 0xFFFFFF9Cu}, {input::kEvAbs, input::kAbsY, 1000}, kSyn,
                 {input::kEvKey, input::kBtnTouch, 1}, kSyn},
                "tablet");
  // Default range is the HID logical range 0..32767.
  InputRig def(of_kind(InputKind::kTablet));
  def.select(input::kSelectAbsInfo, input::kAbsX);
  const Bytes info = def.config_payload(8);
  expect(f, info == Bytes{0, 0, 0, 0, 0xFF, 0x7F, 0, 0}, "default ABS_INFO not 0..32767");
  return f;
}

Failures check_input_statusq() {
  Failures f;
  InputRig rig(of_kind(InputKind::kKeyboard));
  std::vector<std::pair<uint16_t, bool>> leds;
  rig.device->on_led = [&leds](uint16_t led, bool on) { leds.emplace_back(led, on); };
  const std::vector<Event> update = {{input::kEvLed, input::kLedNumLock, 1},
                                     {input::kEvLed, input::kLedCapsLock, 1},
                                     {input::kEvLed, input::kLedScrollLock, 0}, kSyn};
  rig.send_status(0, update);
  auto done = rig.reap_status();
  expect(f, done.size() == 1 && done[0].slot == 0 && done[0].len == 0, "LED buffer not completed with len 0 (INP-8)");
  expect(f, rig.device->led_state() == 0x3, "LED state " + hex(rig.device->led_state()) + ", expected NUM|CAPS");
  expect(f, leds == std::vector<std::pair<uint16_t, bool>>{{0, true}, {1, true}, {2, false}},
         "LED hook calls wrong (INP-8)");
  // Garbage: unknown type, LED code out of range, bad value, a partial tail.
  Bytes junk(8 * 4 + 3, 0);
  input::encode_event({0x1234, 7, 9}, &junk[0]);
  input::encode_event({input::kEvLed, 9, 1}, &junk[8]);
  input::encode_event({input::kEvLed, input::kLedKana, 2}, &junk[16]);
  input::encode_event({input::kEvLed, input::kLedKana, 1}, &junk[24]);
  rig.send_status_bytes(1, junk);
  // More buffers than a doorbell's work, one byte each.
  for (uint16_t s = 2; s < 10; ++s) rig.send_status_bytes(s, Bytes{0xFF});
  done = rig.reap_status();
  expect(f, done.size() == 9, "statusq buffers not all completed: " + num(done.size()) + " of 9 (INP-8)");
  const InputStats& st = rig.device->stats();
  expect(f, st.status_buffers == 10 && st.status_leds == 4 && st.status_ignored == 3 && st.status_bad == 9,
         "statusq counters wrong: leds " + num(st.status_leds) + " ignored " + num(st.status_ignored) + " bad " +
             num(st.status_bad));
  expect(f, rig.device->led_state() == 0x13, "KANA not applied after garbage");
  // The mouse has no LEDs: an LED event on its statusq is ignored, still completed.
  InputRig mouse(of_kind(InputKind::kMouse));
  const Event led{input::kEvLed, input::kLedCapsLock, 1};
  mouse.send_status(0, {&led, 1});
  expect(f, mouse.reap_status().size() == 1 && mouse.device->led_state() == 0 &&
                mouse.device->stats().status_ignored == 1,
         "mouse statusq LED event not ignored and completed (INP-8)");
  return f;
}

Failures check_input_backlog() {
  Failures f;
  {
    InputRig rig(of_kind(InputKind::kKeyboard));
    // No buffers: 2048 batches of 2 events fill the 4096-event queue exactly.
    for (uint32_t i = 0; i < 2048; ++i) rig.device->key(i % 2 ? input::kKeyB : input::kKeyA, true);
    expect(f, rig.device->pending_events() == 4096 && rig.device->stats().batches_dropped == 0,
           "4096 events did not all wait (INP-9)");
    rig.device->key(input::kKeyC, true);  // one more batch: the oldest (KEY_A) goes
    const InputStats& st = rig.device->stats();
    expect(f, rig.device->pending_events() == 4096 && st.batches_dropped == 1 && st.events_dropped == 2,
           "overflow did not drop exactly the oldest batch: dropped " + num(st.batches_dropped) + " batches, " +
               num(st.events_dropped) + " events (INP-9)");
    auto got = std::vector<EventCompletion>{};
    rig.post_events(64);
    got = rig.reap_and_repost();
    expect(f, got.size() == 4096, "delivered " + num(got.size()) + " events, expected 4096");
    bool ok = got.size() == 4096;
    for (size_t i = 0; ok && i < got.size(); i += 2) {
      const uint16_t code = i / 2 == 2047 ? input::kKeyC : (i / 2) % 2 ? input::kKeyA : input::kKeyB;
      ok = same(got[i].event, {input::kEvKey, code, 1}) && same(got[i + 1].event, kSyn);
    }
    expect(f, ok, "backlog not delivered in order as whole batches after the drop (INP-9)");
  }
  {
    // A batch partly in the guest is never cut: the drop takes the next one.
    InputRig rig(of_kind(InputKind::kMouse));
    rig.post_events(1);
    rig.device->mouse_move(1, 2);  // X, Y, SYN: X goes to the guest
    expect(f, rig.reap_events().size() == 1, "first event of the batch not delivered");
    for (int i = 0; i < 2046; ++i) rig.device->mouse_button(input::kBtnLeft, i % 2 == 0);  // 2 + 4092 = 4094
    rig.device->wheel(7, 1);  // 3 more: 4097 > 4096, must drop the first whole button batch
    const InputStats& st = rig.device->stats();
    expect(f, st.batches_dropped == 1 && st.events_dropped == 2 && rig.device->pending_events() == 4095,
           "partial-batch overflow dropped " + num(st.events_dropped) + " events (INP-9)");
    rig.post_events(64);
    const auto got = rig.reap_and_repost();
    expect(f, got.size() == 4095 && same(got[0].event, {input::kEvRel, input::kRelY, 2}) && same(got[1].event, kSyn),
           "the partly delivered batch was cut (INP-9)");
    if (got.size() == 4095) {
      expect(f, same(got[2].event, {input::kEvKey, input::kBtnLeft, 0}), "the wrong batch was dropped (INP-9)");
      expect(f, same(got[4092].event, {input::kEvRel, input::kRelWheel, 7}) &&
                    same(got[4093].event, {input::kEvRel, input::kRelHWheel, 1}) && same(got[4094].event, kSyn),
             "the newest batch is missing (INP-9)");
    }
  }
  {
    // Reset drops what waits for the old driver, counted.
    InputRig rig(of_kind(InputKind::kKeyboard));
    rig.device->key(input::kKeyA, true);
    rig.recover();
    expect(f, rig.device->pending_events() == 0 && rig.device->stats().reset_dropped == 2,
           "reset did not drop the pending batch");
  }
  return f;
}

Failures check_input_ring_corruption_recovery() {
  Failures f;
  InputRig rig(of_kind(InputKind::kKeyboard));
  rig.post_events(4);
  // A hostile driver moves avail.idx far ahead of the device (VQ-8).
  auto& queue = rig.queues[kEvq];
  rig.poke(queue.avail_pa() + 2, Bytes{0x00, 0x10});
  rig.device->key(input::kKeyA, true);
  expect(f, rig.needs_reset(), "eventq corruption did not set DEVICE_NEEDS_RESET (STAT-4)");
  rig.device->key(input::kKeyB, true);
  expect(f, rig.reap_events().empty(), "device kept serving after needs-reset");
  rig.recover();
  expect(f, !rig.needs_reset(), "reset did not clear DEVICE_NEEDS_RESET (STAT-2)");
  rig.post_events(4);
  rig.device->key(input::kKeyC, true);
  expect_events(f, rig.reap_events(), {{input::kEvKey, input::kKeyC, 1}, kSyn}, "after recovery");
  return f;
}

Failures check_input_multifunction() {
  Failures f;
  for (bool tablet : {false, true}) {
    GuestMemory memory;
    expect(f, memory.add_ram(0, 16 << 20) == MemError::kOk, "RAM");
    pci::PciBus bus;
    InputFunctionSet set(memory, {}, tablet);
    expect(f, set.attach(bus, 0, 7) == pci::PciError::kOk, "attach failed");
    const pci::Enumeration e =
        pci::enumerate(bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
    const size_t want = tablet ? 3 : 2;
    expect(f, e.functions.size() == want,
           "enumeration found " + num(e.functions.size()) + " functions, expected " + num(want) + " (PCI-6)");
    for (uint8_t fn = 0; fn < want && fn < e.functions.size(); ++fn) {
      const pci::Bdf bdf{0, 7, fn};
      const uint32_t header = bus.config_read(bdf, pci::reg::kHeaderType, 1);
      expect(f, ((header & pci::reg::kHeaderTypeMultiFunction) != 0) == (fn == 0),
             "function " + num(fn) + " header type " + hex(header) + " (PCI-6: multi-function bit on function 0)");
      expect(f, bus.config_read(bdf, pci::reg::kDeviceId, 2) == 0x1052, "function " + num(fn) + " device ID");
      expect(f, bus.config_read(bdf, pci::reg::kSubsystemId, 2) == contract::kInput.functions[fn].subsystem_id,
             "function " + num(fn) + " subsystem ID (PCI-4)");
    }
    expect(f, (set.tablet() != nullptr) == tablet, "tablet presence");
    expect(f, set.keyboard().kind() == InputKind::kKeyboard && set.mouse().kind() == InputKind::kMouse,
           "function kinds");
  }
  return f;
}

// ---- hostile guest ----------------------------------------------------------

namespace {

// A raw-ring keyboard with one key batch (2 events) waiting.
std::unique_ptr<InputRig> raw_rig() {
  InputRigOptions o;
  o.raw_ring = true;
  auto rig = std::make_unique<InputRig>(o);
  rig->device->key(input::kKeyA, true);
  return rig;
}

// After a malformed chain: a good 8-byte chain at descriptor `desc` gets
// the waiting event at used position `position`.
void expect_still_serves(Failures& f, InputRig& rig, uint16_t desc, uint16_t position,
                         const Event& want) {
  const uint64_t buf = InputRig::kDataGpa + 0x1000;
  rig.fill(buf, InputRig::kUnwritten, 16);
  const RawDesc good{buf, 8, vq::kDescFWrite};
  rig.raw_chain(kEvq, {&good, 1}, desc);
  const auto used = rig.raw_used(kEvq, position);
  expect(f, used && used->id == desc && used->len == 8, "device stopped serving after a malformed chain");
  const Bytes b = rig.peek(buf, 8);
  expect(f, same(input::decode_event(b.data()), want), "waiting event lost: got " + text(input::decode_event(b.data())));
  expect(f, !rig.needs_reset(), "malformed chain escalated to needs-reset");
}

Failures event_too_small() {
  Failures f;
  auto rig = raw_rig();
  const uint64_t buf = InputRig::kDataGpa;
  rig->fill(buf, 0x77, 8);
  const RawDesc d[2] = {{buf, 4, vq::kDescFWrite}, {buf + 4, 3, vq::kDescFWrite}};
  rig->raw_chain(kEvq, d, 0);
  const auto used = rig->raw_used(kEvq, 0);
  expect(f, used && used->id == 0 && used->len == 0, "7-byte chain not completed with used.len 0");
  expect(f, rig->peek(buf, 8) == Bytes(8, 0x77), "device wrote into a too-small chain");
  expect(f, rig->device->stats().event_too_small == 1, "too-small chain not counted");
  expect_still_serves(f, *rig, 2, 1, {input::kEvKey, input::kKeyA, 1});
  return f;
}

Failures event_readable() {
  Failures f;
  auto rig = raw_rig();
  const uint64_t buf = InputRig::kDataGpa;
  rig->fill(buf, 0x77, 16);
  const RawDesc d[2] = {{buf, 8, 0}, {buf + 8, 8, vq::kDescFWrite}};
  rig->raw_chain(kEvq, d, 0);
  const auto used = rig->raw_used(kEvq, 0);
  expect(f, used && used->len == 0 && rig->device->stats().event_readable == 1,
         "eventq chain with a readable descriptor not completed with len 0 and counted");
  expect(f, rig->peek(buf, 16) == Bytes(16, 0x77), "device wrote into a chain with a readable descriptor");
  // Zero-length readable descriptor too: still malformed.
  const RawDesc z[2] = {{buf, 0, 0}, {buf + 8, 8, vq::kDescFWrite}};
  rig->raw_chain(kEvq, z, 4);
  const auto used2 = rig->raw_used(kEvq, 1);
  expect(f, used2 && used2->id == 4 && used2->len == 0 && rig->device->stats().event_readable == 2,
         "zero-length readable descriptor on eventq accepted");
  expect_still_serves(f, *rig, 8, 2, {input::kEvKey, input::kKeyA, 1});
  return f;
}

Failures event_chain_error() {
  Failures f;
  auto rig = raw_rig();
  auto& ring = *rig->raw_rings[kEvq];
  ring.set_desc(3, InputRig::kDataGpa, 8, vq::kDescFWrite | vq::kDescFNext, 3);  // a loop
  ring.make_available(3);
  rig->notify(kEvq);
  const auto used = rig->raw_used(kEvq, 0);
  expect(f, used && used->id == 3 && used->len == 0 && rig->device->stats().event_chain_error == 1,
         "looping eventq chain not completed with len 0 and counted (VQ-7)");
  // Outside guest memory.
  const RawDesc out{1ull << 40, 8, vq::kDescFWrite};
  rig->raw_chain(kEvq, {&out, 1}, 5);
  const auto used2 = rig->raw_used(kEvq, 1);
  expect(f, used2 && used2->id == 5 && used2->len == 0 && rig->device->stats().event_chain_error == 2,
         "eventq chain outside memory not completed with len 0 (VQ-7, DMA-1)");
  expect_still_serves(f, *rig, 7, 2, {input::kEvKey, input::kKeyA, 1});
  return f;
}

Failures event_zero_length_skipped() {
  Failures f;
  auto rig = raw_rig();
  const uint64_t buf = InputRig::kDataGpa;
  rig->fill(buf, InputRig::kUnwritten, 8);
  const RawDesc d[3] = {{0xDEAD'0000'0000ull, 0, vq::kDescFWrite}, {buf, 2, vq::kDescFWrite},
                        {buf + 2, 6, vq::kDescFWrite}};
  rig->raw_chain(kEvq, d, 0);
  const auto used = rig->raw_used(kEvq, 0);
  const Bytes b = rig->peek(buf, 8);
  expect(f, used && used->len == 8 && same(input::decode_event(b.data()), {input::kEvKey, input::kKeyA, 1}),
         "zero-length writable descriptor not skipped");
  return f;
}

Failures status_hostile() {
  Failures f;
  InputRigOptions o;
  o.raw_ring = true;
  InputRig rig(o);
  const uint64_t buf = InputRig::kDataGpa;
  Bytes led(8);
  input::encode_event({input::kEvLed, input::kLedNumLock, 1}, led.data());
  rig.poke(buf, led);
  // A writable descriptor: completed, not read.
  const RawDesc w{buf, 8, vq::kDescFWrite};
  rig.raw_chain(kStq, {&w, 1}, 0);
  // A loop.
  auto& ring = *rig.raw_rings[kStq];
  ring.set_desc(2, buf, 8, vq::kDescFNext, 2);
  ring.make_available(2);
  rig.notify(kStq);
  // A chain that claims 3 GiB readable of which only the first bytes are
  // in memory: a chain error, never read.
  const RawDesc huge{buf, 0xC000'0000u, 0};
  rig.raw_chain(kStq, {&huge, 1}, 4);
  // A long but valid chain: only the first kMaxStatusBytes are read.
  Bytes many(2048, 0);
  for (size_t i = 0; i < many.size(); i += 8) input::encode_event({input::kEvLed, input::kLedCapsLock, 1}, &many[i]);
  rig.poke(buf + 0x100, many);
  const RawDesc longer{buf + 0x100, 2048, 0};
  rig.raw_chain(kStq, {&longer, 1}, 6);
  for (uint16_t p = 0; p < 4; ++p) {
    const auto u = rig.raw_used(kStq, p);
    expect(f, u && u->len == 0, "hostile statusq chain " + num(p) + " not completed with len 0 (INP-8)");
  }
  const InputStats& st = rig.device->stats();
  expect(f, st.status_malformed == 3 && st.status_oversize == 1 && st.status_leds == 64,
         "statusq counters: malformed " + num(st.status_malformed) + " oversize " + num(st.status_oversize) +
             " leds " + num(st.status_leds));
  expect(f, rig.device->led_state() == 0x2, "a malformed chain changed the LEDs");
  // Still serving.
  const RawDesc good{buf, 8, 0};
  rig.raw_chain(kStq, {&good, 1}, 8);
  expect(f, rig.raw_used(kStq, 4).has_value() && rig.device->led_state() == 0x3 && !rig.needs_reset(),
         "statusq stopped after hostile chains");
  return f;
}

Failures status_ring_corruption() {
  Failures f;
  InputRigOptions o;
  o.raw_ring = true;
  InputRig rig(o);
  rig.raw_rings[kStq]->set_avail_idx(500);
  rig.notify(kStq);
  expect(f, rig.needs_reset(), "statusq avail.idx far ahead did not set DEVICE_NEEDS_RESET (VQ-8)");
  rig.recover();
  rig.device->key(input::kKeyA, true);
  const RawDesc good{InputRig::kDataGpa, 8, vq::kDescFWrite};
  rig.raw_chain(kEvq, {&good, 1}, 0);
  const auto u = rig.raw_used(kEvq, 0);
  expect(f, u && u->len == 8 && !rig.needs_reset(), "device did not serve after recovery (STAT-4)");
  return f;
}

}  // namespace

std::vector<InputHostileCase> input_hostile_cases() {
  return {
      {"input.hostile.event-too-small", {"INP-4", "VQ-7"}, event_too_small},
      {"input.hostile.event-readable", {"INP-4", "VQ-7"}, event_readable},
      {"input.hostile.event-chain-error", {"VQ-7", "DMA-1"}, event_chain_error},
      {"input.hostile.event-zero-length", {"INP-4", "VQ-7"}, event_zero_length_skipped},
      {"input.hostile.statusq", {"INP-8", "VQ-7"}, status_hostile},
      {"input.hostile.statusq-ring", {"VQ-8", "STAT-4"}, status_ring_corruption},
  };
}

}  // namespace aerov::model::devices::testing
