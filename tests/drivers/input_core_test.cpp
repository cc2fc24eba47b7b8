// InputCore (drivers/windows7/common) against the real virtio-input device
// model through the real transport: bring-up (DRV-1, INP-1, INP-2), the HID
// report descriptors parsed back and checked against the reports the core
// makes, keyboard keys, modifiers and rollover (INP-5), LEDs through
// statusq (INP-8), mouse and tablet scaling (INP-6, INP-7), hostile devices
// and recovery (VQ-9, STAT-4), and a property over random key sequences.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/drivers/input_machine.hpp"
#include "transport/device/forwarding_device.hpp"

using namespace aerov;
using namespace aerov::drivers::testing;
using drivers::windows7::InputCore;
using drivers::windows7::InputError;
using model::devices::InputDevice;
namespace in = aerov::model::devices::input;
using Bytes = std::vector<uint8_t>;

namespace {

// ---- a small HID report-descriptor parser (HID 1.11, 6.2.2) -----------------

struct Field {
  bool output = false;
  bool constant = false;
  bool variable = false;
  bool relative = false;
  uint32_t bit = 0;    // offset in the report
  uint32_t size = 0;   // bits per element
  uint32_t count = 0;
  uint32_t page = 0;
  std::vector<uint32_t> usages;  // explicit usages, or [min, max] expanded
  int32_t logical_min = 0;
  int32_t logical_max = 0;
};

struct Descriptor {
  std::vector<Field> fields;
  uint32_t input_bits = 0;
  uint32_t output_bits = 0;
  int depth = 0;            // collections left open (0 when well formed)
  bool ok = true;
  uint32_t app_page = 0, app_usage = 0;
};

Descriptor parse(const uint8_t* d, uint32_t len) {
  Descriptor out;
  uint32_t page = 0, size = 0, count = 0;
  int32_t lmin = 0, lmax = 0;
  std::vector<uint32_t> usages;
  uint32_t umin = 0, umax = 0;
  bool have_range = false;
  for (uint32_t i = 0; i < len;) {
    const uint8_t prefix = d[i];
    const uint32_t n = (prefix & 3) == 3 ? 4 : (prefix & 3);
    if (i + 1 + n > len) {
      out.ok = false;
      break;
    }
    uint32_t u = 0;
    for (uint32_t k = 0; k < n; ++k) u |= uint32_t{d[i + 1 + k]} << (8 * k);
    int32_t s = static_cast<int32_t>(u);
    if (n == 1) s = static_cast<int8_t>(u);
    if (n == 2) s = static_cast<int16_t>(u);
    const uint8_t type = (prefix >> 2) & 3;
    const uint8_t tag = prefix >> 4;
    i += 1 + n;
    if (type == 0) {  // main
      if (tag == 0x8 || tag == 0x9) {  // Input, Output
        Field f;
        f.output = tag == 0x9;
        f.constant = (u & 1) != 0;
        f.variable = (u & 2) != 0;
        f.relative = (u & 4) != 0;
        f.size = size;
        f.count = count;
        f.page = page;
        f.logical_min = lmin;
        f.logical_max = lmax;
        f.usages = usages;
        if (have_range) {
          for (uint32_t x = umin; x <= umax; ++x) f.usages.push_back(x);
        }
        uint32_t& bits = f.output ? out.output_bits : out.input_bits;
        f.bit = bits;
        bits += size * count;
        out.fields.push_back(f);
      } else if (tag == 0xA) {
        if (out.depth == 0 && !usages.empty()) {
          out.app_page = page;
          out.app_usage = usages[0];
        }
        ++out.depth;
      } else if (tag == 0xC) {
        --out.depth;
      }
      usages.clear();
      have_range = false;
    } else if (type == 1) {  // global
      if (tag == 0x0) page = u;
      if (tag == 0x1) lmin = s;
      if (tag == 0x2) lmax = (n < 4 && lmin >= 0) ? static_cast<int32_t>(u) : s;
      if (tag == 0x7) size = u;
      if (tag == 0x9) count = u;
      if (tag == 0x8) out.ok = false;  // report IDs: none expected
    } else if (type == 2) {  // local
      if (tag == 0x0) usages.push_back(u);
      if (tag == 0x1) { umin = u; have_range = true; }
      if (tag == 0x2) umax = u;
    }
  }
  return out;
}

Descriptor parse(in::InputKind kind) {
  uint32_t len = 0;
  const uint8_t* d = InputCore::report_descriptor(kind, &len);
  return parse(d, len);
}

// Reads an element of a field from a report (little-endian bit order).
int64_t read_field(const Bytes& report, const Field& f, uint32_t element = 0) {
  uint64_t v = 0;
  for (uint32_t b = 0; b < f.size; ++b) {
    const uint32_t bit = f.bit + element * f.size + b;
    if ((report.at(bit / 8) >> (bit % 8)) & 1) v |= uint64_t{1} << b;
  }
  if (f.logical_min < 0 && f.size < 64 && (v >> (f.size - 1)) & 1) return static_cast<int64_t>(v) - (int64_t{1} << f.size);
  return static_cast<int64_t>(v);
}

// The non-constant field whose usages include `usage` on `page`.
const Field* find(const Descriptor& d, uint32_t page, uint32_t usage, bool output = false) {
  for (const Field& f : d.fields) {
    if (f.constant || f.output != output || f.page != page) continue;
    if (std::find(f.usages.begin(), f.usages.end(), usage) != f.usages.end()) return &f;
  }
  return nullptr;
}

InputMachineOptions of_kind(in::InputKind k, int32_t lo = 0, int32_t hi = in::kTabletDefaultMax) {
  InputMachineOptions o;
  o.device.kind = k;
  o.device.abs_min = lo;
  o.device.abs_max = hi;
  return o;
}

Bytes kbd(uint8_t mods, std::vector<uint8_t> keys) {
  Bytes r(8, 0);
  r[0] = mods;
  for (size_t i = 0; i < keys.size(); ++i) r[2 + i] = keys[i];
  return r;
}

Bytes take(InputMachine& m) {
  m.service();
  REQUIRE(!m.reports.empty());
  Bytes r = m.reports.back();
  return r;
}

}  // namespace

// ---- descriptors ------------------------------------------------------------------

TEST_CASE("input core: the keyboard descriptor is the boot layout the reports use", "[drivers][input][INP-5]") {
  const Descriptor d = parse(in::InputKind::kKeyboard);
  REQUIRE(d.ok);
  CHECK(d.depth == 0);
  CHECK(d.app_page == 0x01);
  CHECK(d.app_usage == 0x06);
  CHECK(d.input_bits == InputCore::kKeyboardReportBytes * 8);
  CHECK(d.output_bits == 8);
  const Field* mods = find(d, 0x07, 0xE0);
  REQUIRE(mods != nullptr);
  CHECK((mods->bit == 0 && mods->size == 1 && mods->count == 8 && mods->variable));
  CHECK(mods->usages.back() == 0xE7);
  const Field* keys = find(d, 0x07, 0x04);
  REQUIRE(keys != nullptr);
  CHECK((keys->bit == 16 && keys->size == 8 && keys->count == 6 && !keys->variable));
  CHECK(keys->logical_max == 255);
  const Field* leds = find(d, 0x08, 0x01, true);
  REQUIRE(leds != nullptr);
  CHECK((leds->bit == 0 && leds->size == 1 && leds->count == 5 && leds->usages.size() == 5));
}

TEST_CASE("input core: the mouse descriptor matches the 7-byte report", "[drivers][input][INP-6]") {
  const Descriptor d = parse(in::InputKind::kMouse);
  REQUIRE(d.ok);
  CHECK(d.depth == 0);
  CHECK(d.app_usage == 0x02);
  CHECK(d.input_bits == InputCore::kMouseReportBytes * 8);
  CHECK(d.output_bits == 0);
  const Field* buttons = find(d, 0x09, 1);
  REQUIRE(buttons != nullptr);
  CHECK((buttons->bit == 0 && buttons->count == 5 && buttons->usages.size() == 5));
  const Field* x = find(d, 0x01, 0x30);
  const Field* wheel = find(d, 0x01, 0x38);
  const Field* pan = find(d, 0x0C, 0x238);
  REQUIRE(x != nullptr);
  REQUIRE(wheel != nullptr);
  REQUIRE(pan != nullptr);
  CHECK((x->bit == 8 && x->size == 16 && x->count == 2 && x->relative));
  CHECK((x->logical_min == -32767 && x->logical_max == 32767));
  CHECK((wheel->bit == 40 && wheel->size == 8 && wheel->relative && wheel->logical_min == -127));
  CHECK((pan->bit == 48 && pan->size == 8 && pan->relative && pan->logical_max == 127));
}

TEST_CASE("input core: the tablet descriptor matches the 5-byte absolute report", "[drivers][input][INP-7]") {
  const Descriptor d = parse(in::InputKind::kTablet);
  REQUIRE(d.ok);
  CHECK(d.depth == 0);
  CHECK(d.input_bits == InputCore::kTabletReportBytes * 8);
  const Field* x = find(d, 0x01, 0x30);
  REQUIRE(x != nullptr);
  CHECK((x->bit == 8 && x->size == 16 && x->count == 2 && !x->relative));
  CHECK((x->logical_min == 0 && x->logical_max == 32767));
  const Field* button = find(d, 0x09, 1);
  REQUIRE(button != nullptr);
  CHECK((button->bit == 0 && button->count == 1));
}

// ---- bring-up -----------------------------------------------------------------------

TEST_CASE("input core: init finds the function kind, posts every event buffer", "[drivers][input][DRV-1][INP-1][INP-2]") {
  for (auto k : {in::InputKind::kKeyboard, in::InputKind::kMouse, in::InputKind::kTablet}) {
    InputMachine m(of_kind(k, -5, 77));
    CHECK(m.core.ready());
    CHECK(m.core.kind() == k);
    CHECK(m.core.events_posted() == 64);
    CHECK(m.function->queue_enabled(0));
    CHECK(m.function->queue_enabled(1));
    if (k == in::InputKind::kTablet) {
      CHECK((m.core.abs_min(0) == -5 && m.core.abs_max(1) == 77));
    }
  }
}

namespace {
// A device that advertises nothing: every config byte reads 0.
class BlankConfig final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  uint64_t config_read(uint32_t, unsigned) override { return 0; }
};
}  // namespace

namespace {
// Records the driver's lock depth at every device-config write.
class LockWatch final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  void config_write(uint32_t offset, unsigned width, uint64_t value) override {
    depths.push_back(os == nullptr ? -1 : os->lock_depth());
    ForwardingDevice::config_write(offset, width, value);
  }
  const drivers::host::ModelOsServices* os = nullptr;
  std::vector<int> depths;
};
}  // namespace

TEST_CASE("input core: selector writes and their reads run under the device lock", "[drivers][input][INP-2][CFG-1]") {
  InputDevice dev({.kind = in::InputKind::kTablet});
  LockWatch watch(dev);
  CoreMachine m;
  m.attach(watch, contract::kInput);
  watch.os = &*m.os;
  InputCore core;
  auto cb = [](void*, const uint8_t*, uint32_t) {};
  REQUIRE(core.init(*m.os, {cb, nullptr}) == InputError::kNone);
  CHECK(core.kind() == in::InputKind::kTablet);
  REQUIRE(watch.depths.size() >= 6);  // EV_BITS(EV_ABS), ABS_INFO x2: select + subsel each
  for (int depth : watch.depths) CHECK(depth > 0);
  CHECK(m.os->lock_depth() == 0);
}

TEST_CASE("input core: a device that advertises no known function is refused", "[drivers][input][INP-2][CAP-3]") {
  InputDevice dev;
  BlankConfig blank(dev);
  CoreMachine m;
  m.attach(blank, contract::kInput);
  InputCore core;
  auto cb = [](void*, const uint8_t*, uint32_t) {};
  CHECK(core.init(*m.os, {cb, nullptr}) == InputError::kUnsupported);
  CHECK_FALSE(core.ready());
}

// ---- keyboard -----------------------------------------------------------------------

TEST_CASE("input core: every advertised key maps to a distinct HID usage", "[drivers][input][INP-5]") {
  std::set<uint8_t> seen;
  for (uint16_t code : in::kKeyboardKeys) {
    const uint8_t u = InputCore::hid_usage(code);
    CHECK(u != 0);
    CHECK(seen.insert(u).second);
  }
  CHECK(InputCore::hid_usage(in::kKeyA) == 0x04);
  CHECK(InputCore::hid_usage(in::kKeyZ) == 0x1D);
  CHECK(InputCore::hid_usage(in::kKey1) == 0x1E);
  CHECK(InputCore::hid_usage(in::kKey0) == 0x27);
  CHECK(InputCore::hid_usage(in::kKeyEnter) == 0x28);
  CHECK(InputCore::hid_usage(in::kKeyF12) == 0x45);
  CHECK(InputCore::hid_usage(in::kKeyUp) == 0x52);
  CHECK(InputCore::hid_usage(in::kKeyLeftCtrl) == 0xE0);
  CHECK(InputCore::hid_usage(in::kKeyRightMeta) == 0xE7);
  CHECK(InputCore::hid_usage(in::kBtnLeft) == 0);
  CHECK(InputCore::hid_usage(0xFFFF) == 0);
}

TEST_CASE("input core: shift+a, ctrl+alt+delete as boot keyboard reports", "[drivers][input][INP-5]") {
  InputMachine m;
  m.device->key(in::kKeyLeftShift, true);
  m.device->key(in::kKeyA, true);
  m.device->key(in::kKeyA, false);
  m.device->key(in::kKeyLeftShift, false);
  m.service();
  CHECK(m.reports == std::vector<Bytes>{kbd(0x02, {}), kbd(0x02, {0x04}), kbd(0x02, {}), kbd(0, {})});
  m.reports.clear();
  m.device->key(in::kKeyLeftCtrl, true);
  m.device->key(in::kKeyRightAlt, true);
  m.device->key(in::kKeyDelete, true);
  m.service();
  CHECK(m.reports.back() == kbd(0x41, {0x4C}));
  // The parsed descriptor reads the same fields back.
  const Descriptor d = parse(in::InputKind::kKeyboard);
  const Field* mods = find(d, 0x07, 0xE0);
  const Field* keys = find(d, 0x07, 0x04);
  REQUIRE(mods != nullptr);
  REQUIRE(keys != nullptr);
  CHECK(read_field(m.reports.back(), *mods, 0) == 1);  // LeftControl
  CHECK(read_field(m.reports.back(), *mods, 6) == 1);  // RightAlt
  CHECK(read_field(m.reports.back(), *keys, 0) == 0x4C);
  CHECK(m.core.counters().reports == 7);
}

TEST_CASE("input core: seven keys give ErrorRollOver, releasing one restores the six", "[drivers][input][INP-5]") {
  InputMachine m;
  const uint16_t keys[7] = {in::kKeyA, in::kKeyB, in::kKeyC, in::kKeyD, in::kKeyE, in::kKeyF, in::kKeyG};
  for (uint16_t k : keys) m.device->key(k, true);
  m.service();
  REQUIRE(m.reports.size() == 7);
  CHECK(m.reports[5] == kbd(0, {0x04, 0x05, 0x06, 0x07, 0x08, 0x09}));
  CHECK(m.reports[6] == kbd(0, {1, 1, 1, 1, 1, 1}));
  CHECK(m.core.counters().rollover == 1);
  m.device->key(in::kKeyC, false);
  CHECK(take(m) == kbd(0, {0x04, 0x05, 0x07, 0x08, 0x09, 0x0A}));
  // Modifiers do not count toward the six.
  m.device->key(in::kKeyLeftShift, true);
  CHECK(take(m) == kbd(0x02, {0x04, 0x05, 0x07, 0x08, 0x09, 0x0A}));
}

TEST_CASE("input core: auto-repeat and unmapped codes change nothing", "[drivers][input][INP-5]") {
  InputMachine m;
  m.device->key(in::kKeyA, true);
  m.service();
  const size_t before = m.reports.size();
  const in::Event repeat{in::kEvKey, in::kKeyA, 2};
  m.device->inject({&repeat, 1});
  m.service();
  CHECK(m.reports.size() == before);  // SYN after nothing that changed: no report
  CHECK(m.core.counters().ignored_events == 0);
  // Pressing an already held key again is no change either.
  m.device->key(in::kKeyA, true);
  m.service();
  CHECK(m.reports.size() == before);
}

// ---- LEDs -------------------------------------------------------------------------------

TEST_CASE("input core: LED output reports reach the device through statusq", "[drivers][input][INP-5][INP-8]") {
  InputMachine m;
  CHECK(m.core.set_leds(0x03) == InputError::kNone);  // NumLock, CapsLock
  m.service();
  CHECK(m.device->led_state() == 0x03);
  REQUIRE(m.led_updates.size() == 5);
  CHECK(m.led_updates[0] == std::make_pair<uint16_t, bool>(0, true));
  CHECK(m.led_updates[2] == std::make_pair<uint16_t, bool>(2, false));
  CHECK(m.core.set_leds(0xFC) == InputError::kNone);  // bits above Kana are dropped
  m.service();
  CHECK(m.device->led_state() == 0x1C);
  CHECK(m.core.status_in_flight() == 0);
  CHECK(m.core.counters().led_reports == 2);
  // Many in a row: every buffer comes back, none is leaked.
  for (int i = 0; i < 200; ++i) REQUIRE(m.core.set_leds(static_cast<uint8_t>(i)) == InputError::kNone);
  m.service();
  CHECK(m.device->led_state() == (199u & 0x1F));
  CHECK(m.device->stats().status_buffers == 202);
  InputMachine mouse(of_kind(in::InputKind::kMouse));
  CHECK(mouse.core.set_leds(1) == InputError::kInvalidArgument);
}

// ---- mouse ---------------------------------------------------------------------------------

TEST_CASE("input core: mouse moves, five buttons, wheel and AC Pan", "[drivers][input][INP-6]") {
  InputMachine m(of_kind(in::InputKind::kMouse));
  const Descriptor d = parse(in::InputKind::kMouse);
  const Field* buttons = find(d, 0x09, 1);
  const Field* xy = find(d, 0x01, 0x30);
  const Field* wheel = find(d, 0x01, 0x38);
  const Field* pan = find(d, 0x0C, 0x238);
  REQUIRE((buttons && xy && wheel && pan));
  m.device->mouse_move(-300, 45);
  Bytes r = take(m);
  CHECK(r.size() == InputCore::kMouseReportBytes);
  CHECK(read_field(r, *xy, 0) == -300);
  CHECK(read_field(r, *xy, 1) == 45);
  CHECK(read_field(r, *wheel) == 0);
  for (size_t b = 0; b < in::kMouseButtonCount; ++b) {
    m.device->mouse_button(in::kMouseButtons[b], true);
    r = take(m);
    CHECK(read_field(r, *buttons, static_cast<uint32_t>(b)) == 1);
    CHECK(read_field(r, *xy, 0) == 0);  // relative: nothing moved since
  }
  CHECK(r[0] == 0x1F);
  m.device->mouse_button(in::kBtnMiddle, false);
  CHECK(take(m)[0] == 0x1B);
  m.device->wheel(-2, 3);
  r = take(m);
  CHECK(read_field(r, *wheel) == -2);
  CHECK(read_field(r, *pan) == 3);
  // Events of one batch add up.
  const in::Event twice[2] = {{in::kEvRel, in::kRelX, 5}, {in::kEvRel, in::kRelX, 7}};
  m.device->inject(twice);
  CHECK(read_field(take(m), *xy, 0) == 12);
}

TEST_CASE("input core: mouse values beyond the report range are clamped and counted", "[drivers][input][INP-6]") {
  InputMachine m(of_kind(in::InputKind::kMouse));
  m.device->mouse_move(100000, -100000);
  Bytes r = take(m);
  const Descriptor d = parse(in::InputKind::kMouse);
  const Field* xy = find(d, 0x01, 0x30);
  const Field* wheel = find(d, 0x01, 0x38);
  const Field* pan = find(d, 0x0C, 0x238);
  CHECK(read_field(r, *xy, 0) == 32767);
  CHECK(read_field(r, *xy, 1) == -32767);
  m.device->wheel(300, -2147483647 - 1);
  r = take(m);
  CHECK(read_field(r, *wheel) == 127);
  CHECK(read_field(r, *pan) == -127);
  CHECK(m.core.counters().clamped == 4);
  // Exactly at the limits: not clamped.
  m.device->mouse_move(32767, -32767);
  r = take(m);
  CHECK(read_field(r, *xy, 0) == 32767);
  CHECK(m.core.counters().clamped == 4);
}

// ---- tablet --------------------------------------------------------------------------------

TEST_CASE("input core: tablet positions scale from ABS_INFO to 0..32767", "[drivers][input][INP-7]") {
  const Descriptor d = parse(in::InputKind::kTablet);
  const Field* xy = find(d, 0x01, 0x30);
  const Field* button = find(d, 0x09, 1);
  REQUIRE((xy && button));
  SECTION("default range is the identity") {
    InputMachine m(of_kind(in::InputKind::kTablet));
    for (int32_t v : {0, 1, 16384, 32766, 32767}) {
      m.device->tablet_position(v, 32767 - v);
      const Bytes r = take(m);
      CHECK(read_field(r, *xy, 0) == v);
      CHECK(read_field(r, *xy, 1) == 32767 - v);
    }
  }
  SECTION("a negative minimum") {
    InputMachine m(of_kind(in::InputKind::kTablet, -100, 1000));
    m.device->tablet_position(-100, 1000);
    Bytes r = take(m);
    CHECK(read_field(r, *xy, 0) == 0);
    CHECK(read_field(r, *xy, 1) == 32767);
    m.device->tablet_position(450, 451);
    r = take(m);
    CHECK(read_field(r, *xy, 0) == 550 * 32767 / 1100);
    CHECK(read_field(r, *xy, 1) == 551 * 32767 / 1100);
    // A device value outside its own range is clamped by the core.
    const in::Event wild[2] = {{in::kEvAbs, in::kAbsX, 0x80000000u}, {in::kEvAbs, in::kAbsY, 5000}};
    m.device->inject(wild);
    r = take(m);
    CHECK(read_field(r, *xy, 0) == 0);
    CHECK(read_field(r, *xy, 1) == 32767);
  }
  SECTION("the full 32-bit range does not overflow") {
    InputMachine m(of_kind(in::InputKind::kTablet, -2147483647 - 1, 2147483647));
    m.device->tablet_position(2147483647, 0);
    const Bytes r = take(m);
    CHECK(read_field(r, *xy, 0) == 32767);
    CHECK(read_field(r, *xy, 1) == 16383);
  }
  SECTION("min == max reports 0") {
    InputMachine m(of_kind(in::InputKind::kTablet, 5, 5));
    m.device->tablet_position(5, 9);
    const Bytes r = take(m);
    CHECK(read_field(r, *xy, 0) == 0);
    CHECK(read_field(r, *xy, 1) == 0);
  }
  SECTION("BTN_TOUCH is button 1") {
    InputMachine m(of_kind(in::InputKind::kTablet));
    m.device->tablet_position(10, 20);
    m.device->key(in::kBtnTouch, true);
    const Bytes r = take(m);
    CHECK(read_field(r, *button) == 1);
    CHECK(read_field(r, *xy, 0) == 10);  // absolute: the position stays
  }
}

// ---- hostile device and recovery -----------------------------------------------------------

TEST_CASE("input core: an event with used.len other than 8 is dropped and its buffer reposted", "[drivers][input][INP-4][VQ-9]") {
  InputMachine m;
  m.device->key(in::kKeyA, true);  // two events completed, not yet looked at
  // eventq is DMA allocation 0 (64 entries): the newest completion says 4 bytes.
  const uint16_t p = static_cast<uint16_t>(m.used_idx(0, 64) - 2);
  uint32_t id = 0;
  m.memory.read(m.used_pa(0, 64) + 4 + 8u * p, &id, 4);
  m.poke_used(0, 64, p, id, 4);
  m.service();
  CHECK(m.core.counters().bad_events == 1);
  CHECK(m.core.events_posted() == 64);
  CHECK(m.reports.empty());  // the key event was lost; SYN alone changes nothing
  CHECK(m.core.counters().resets == 0);
  m.device->key(in::kKeyB, true);
  CHECK(take(m) == kbd(0, {0x05}));
}

TEST_CASE("input core: a broken used ring is recovered, held keys released, LEDs resent", "[drivers][input][VQ-9][STAT-4]") {
  InputMachine m;
  REQUIRE(m.core.set_leds(0x02) == InputError::kNone);
  m.device->key(in::kKeyLeftShift, true);
  m.device->key(in::kKeyQ, true);
  m.service();
  REQUIRE(m.reports.back() == kbd(0x02, {0x14}));
  SECTION("used.id out of range") {
    m.device->key(in::kKeyW, true);
    m.poke_used(0, 64, static_cast<uint16_t>(m.used_idx(0, 64) - 1), 999, 8);
  }
  SECTION("used.len beyond the buffer") {
    m.device->key(in::kKeyW, true);
    const uint16_t p = static_cast<uint16_t>(m.used_idx(0, 64) - 1);
    uint32_t id = 0;
    m.memory.read(m.used_pa(0, 64) + 4 + 8u * p, &id, 4);
    m.poke_used(0, 64, p, id, 9);
  }
  SECTION("DEVICE_NEEDS_RESET") {
    m.function->set_needs_reset();
  }
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.ready());
  CHECK(m.reports.back() == kbd(0, {}));    // nothing stays pressed
  CHECK(m.device->led_state() == 0x02);      // the device was told the LEDs again
  CHECK(m.core.events_posted() == 64);
  m.device->key(in::kKeyE, true);
  CHECK(take(m) == kbd(0, {0x08}));
}

TEST_CASE("input core: a device that keeps breaking is failed", "[drivers][input][STAT-4]") {
  InputMachine m;
  m.device->key(in::kKeyA, true);
  m.service();
  for (int i = 0; i < 10 && m.core.ready(); ++i) {
    m.function->set_needs_reset();
    m.service();
  }
  CHECK(m.core.failed());
  CHECK(m.reports.back() == kbd(0, {}));
  CHECK(m.core.set_leds(1) == InputError::kNotReady);
}

TEST_CASE("input core: MSI-X per-queue messages deliver reports", "[drivers][input][IRQ-4][DRV-2]") {
  InputMachineOptions o = of_kind(in::InputKind::kMouse);
  o.msix_vectors = 3;
  o.grant_messages = 3;
  InputMachine m(o);
  m.device->mouse_move(1, 1);
  m.service();
  CHECK(m.reports.size() == 1);
  CHECK(m.core.counters().messages >= 1);
  CHECK(m.core.counters().interrupts == 0);
}

TEST_CASE("input core: many events through 64 buffers, none lost", "[drivers][input][INP-4][INP-9]") {
  InputMachine m(of_kind(in::InputKind::kMouse));
  for (int i = 0; i < 1000; ++i) m.device->mouse_move(1, 0);
  m.service();
  CHECK(m.reports.size() == 1000);
  CHECK(m.device->stats().events_dropped == 0);
  CHECK(m.core.counters().events == 2000);
}

// ---- property -----------------------------------------------------------------------------

TEST_CASE("input core: random key sequences give the reports a model keyboard gives (property)", "[drivers][input][INP-5]") {
  rc::prop("reports follow the held keys", [] {
    InputMachine m;
    std::vector<uint8_t> held;  // non-modifier usages, press order
    uint8_t mods = 0;
    const auto steps = *rc::gen::inRange(1, 120);
    for (int i = 0; i < steps; ++i) {
      const auto idx = *rc::gen::inRange<size_t>(0, in::kKeyboardKeyCount);
      const uint16_t code = in::kKeyboardKeys[idx];
      const bool down = *rc::gen::arbitrary<bool>();
      const uint8_t usage = InputCore::hid_usage(code);
      const size_t before = m.reports.size();
      RC_ASSERT(m.device->key(code, down));
      m.service();
      bool changed = false;
      if (usage >= 0xE0) {
        const uint8_t bit = static_cast<uint8_t>(1u << (usage - 0xE0));
        const uint8_t next = static_cast<uint8_t>(down ? (mods | bit) : (mods & ~bit));
        changed = next != mods;
        mods = next;
      } else {
        auto it = std::find(held.begin(), held.end(), usage);
        if (down && it == held.end()) {
          held.push_back(usage);
          changed = true;
        } else if (!down && it != held.end()) {
          held.erase(it);
          changed = true;
        }
      }
      RC_ASSERT(m.reports.size() == before + (changed ? 1u : 0u));
      if (changed) {
        const Bytes want = held.size() > 6 ? kbd(mods, {1, 1, 1, 1, 1, 1}) : kbd(mods, held);
        RC_ASSERT(m.reports.back() == want);
      }
    }
  });
}

// ---- hostile device configuration and statusq ----------------------------------------

namespace {

// Lets a test change what the device's configuration window shows for a
// selection, and hold statusq doorbells.
class Twisted final : public transport::ForwardingDevice {
 public:
  using Patch = std::function<bool(uint8_t select, uint8_t subsel, uint32_t offset, uint64_t* value)>;
  using ForwardingDevice::ForwardingDevice;
  void config_write(uint32_t offset, unsigned width, uint64_t value) override {
    for (unsigned i = 0; i < width; ++i) {
      if (offset + i == in::kConfigSelect) select_ = static_cast<uint8_t>(value >> (8 * i));
      if (offset + i == in::kConfigSubsel) subsel_ = static_cast<uint8_t>(value >> (8 * i));
    }
    ForwardingDevice::config_write(offset, width, value);
  }
  uint64_t config_read(uint32_t offset, unsigned width) override {
    uint64_t v = ForwardingDevice::config_read(offset, width);
    if (patch) patch(select_, subsel_, offset, &v);
    return v;
  }
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (q == InputDevice::kStatusQueue && hold_status) {
      ++held;
      return;
    }
    ForwardingDevice::queue_notify(q, t);
  }
  Patch patch;
  bool hold_status = false;
  int held = 0;

 private:
  uint8_t select_ = 0;
  uint8_t subsel_ = 0;
};

struct TwistedMachine {
  explicit TwistedMachine(in::InputKind kind, Twisted::Patch patch = {})
      : device({.kind = kind, .abs_min = 0, .abs_max = 1000}), twisted(device) {
    twisted.patch = std::move(patch);
    machine.attach(twisted, contract::kInput);
    device.on_events_pending = [this] { machine.function->process_queue(InputDevice::kEventQueue); };
  }
  InputError init() { return core.init(*machine.os, {&TwistedMachine::on_report, this}); }
  static void on_report(void* context, const uint8_t* r, uint32_t len) {
    static_cast<TwistedMachine*>(context)->reports.emplace_back(r, r + len);
  }
  void service() {
    for (int i = 0; i < 1000 && machine.intx.level(); ++i) core.interrupt();
  }
  InputDevice device;
  Twisted twisted;
  CoreMachine machine;
  InputCore core;
  std::vector<Bytes> reports;
};

}  // namespace

TEST_CASE("input core: hostile configuration sizes and ranges", "[drivers][input][INP-2][INP-7]") {
  SECTION("a size byte above 128 is clamped") {
    TwistedMachine m(in::InputKind::kTablet, [](uint8_t, uint8_t, uint32_t off, uint64_t* v) {
      if (off == in::kConfigSize) *v = 0xFF;
      return true;
    });
    REQUIRE(m.init() == InputError::kNone);
    CHECK(m.core.kind() == in::InputKind::kTablet);
    CHECK((m.core.abs_min(0) == 0 && m.core.abs_max(0) == 1000));
  }
  SECTION("ABS_INFO shorter than min and max is refused") {
    TwistedMachine m(in::InputKind::kTablet, [](uint8_t sel, uint8_t, uint32_t off, uint64_t* v) {
      if (sel == in::kSelectAbsInfo && off == in::kConfigSize) *v = 4;
      return true;
    });
    CHECK(m.init() == InputError::kUnsupported);
    CHECK_FALSE(m.core.ready());
  }
  SECTION("min above max reports 0, never garbage") {
    TwistedMachine m(in::InputKind::kTablet, [](uint8_t sel, uint8_t, uint32_t off, uint64_t* v) {
      if (sel == in::kSelectAbsInfo && off == in::kConfigPayload) *v = 1000;      // min
      if (sel == in::kSelectAbsInfo && off == in::kConfigPayload + 4) *v = 10;   // max
      return true;
    });
    REQUIRE(m.init() == InputError::kNone);
    m.device.tablet_position(500, 1000);
    m.service();
    REQUIRE(m.reports.size() == 1);
    CHECK(m.reports[0] == Bytes{0, 0, 0, 0, 0});
  }
  SECTION("a device that turns into another function across a reset is failed") {
    bool twist = false;
    TwistedMachine m(in::InputKind::kTablet, [&twist](uint8_t sel, uint8_t subsel, uint32_t off, uint64_t* v) {
      if (twist && sel == in::kSelectEvBits && subsel == in::kEvAbs && off >= in::kConfigSize) *v = 0;
      return true;
    });
    REQUIRE(m.init() == InputError::kNone);
    twist = true;
    m.machine.function->set_needs_reset();
    m.service();
    CHECK(m.core.failed());
    CHECK(m.core.counters().resets == 1);
  }
}

TEST_CASE("input core: LED reports wait for statusq room, kBusy when it is full", "[drivers][input][INP-8]") {
  TwistedMachine m(in::InputKind::kKeyboard);
  REQUIRE(m.init() == InputError::kNone);
  m.twisted.hold_status = true;
  for (int i = 0; i < 64; ++i) REQUIRE(m.core.set_leds(static_cast<uint8_t>(i & 7)) == InputError::kNone);
  CHECK(m.core.status_in_flight() == 64);
  CHECK(m.core.set_leds(1) == InputError::kBusy);
  CHECK(m.core.counters().led_busy == 1);
  m.twisted.hold_status = false;
  m.machine.function->process_queue(InputDevice::kStatusQueue);  // the held doorbells arrive
  m.service();
  CHECK(m.device.stats().status_buffers == 64);
  CHECK(m.core.set_leds(5) == InputError::kNone);
  m.service();
  CHECK(m.device.led_state() == 5);
  CHECK(m.core.status_in_flight() == 0);
}

// ---- scaling property --------------------------------------------------------------------

TEST_CASE("input core: tablet scaling is monotonic, clamped and exact at the ends (property)", "[drivers][input][INP-7]") {
  rc::prop("scaled = (clamp(v) - min) * 32767 / (max - min)", [] {
    const auto lo = *rc::gen::inRange<int32_t>(-100000, 100000);
    const auto span = *rc::gen::inRange<int32_t>(0, 200000);
    const int32_t hi = lo + span;
    InputMachine m(of_kind(in::InputKind::kTablet, lo, hi));
    const Descriptor d = parse(in::InputKind::kTablet);
    const Field* xy = find(d, 0x01, 0x30);
    RC_ASSERT(xy != nullptr);
    const auto a = *rc::gen::inRange<int32_t>(lo - 1000, hi + 1000);
    const auto b = *rc::gen::inRange<int32_t>(lo - 1000, hi + 1000);
    const in::Event pos[2] = {{in::kEvAbs, in::kAbsX, static_cast<uint32_t>(a)},
                              {in::kEvAbs, in::kAbsY, static_cast<uint32_t>(b)}};
    RC_ASSERT(m.device->inject(pos));
    m.service();
    RC_ASSERT(m.reports.size() == 1u);
    const int64_t x = read_field(m.reports[0], *xy, 0);
    const int64_t y = read_field(m.reports[0], *xy, 1);
    auto expect = [&](int32_t v) -> int64_t {
      if (span == 0) return 0;
      const int64_t c = std::min<int64_t>(std::max<int64_t>(v, lo), hi);
      return (c - lo) * 32767 / span;
    };
    RC_ASSERT(x == expect(a));
    RC_ASSERT(y == expect(b));
    RC_ASSERT((x >= 0 && x <= 32767 && y >= 0 && y <= 32767));
    RC_ASSERT((a <= b) == (x <= y) || x == y);  // monotonic
  });
}
