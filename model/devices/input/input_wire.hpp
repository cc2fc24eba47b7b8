// virtio-input wire format as the contract fixes it (INP-2..INP-7): the
// device configuration window, the 8-byte event, the Linux input codes the
// three functions use, and what each function advertises. Freestanding:
// shared by the device model, its tests, the fuzzer and the driver core
// (drivers/windows7/common/input_core.cpp), so both ends use one definition.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace aerov::model::devices::input {

// ---- device configuration (INP-2) -------------------------------------------
// {u8 select, u8 subsel, u8 size, u8 reserved[5], u8 payload[128]}.
inline constexpr uint32_t kConfigSelect = 0x00;
inline constexpr uint32_t kConfigSubsel = 0x01;
inline constexpr uint32_t kConfigSize = 0x02;
inline constexpr uint32_t kConfigPayload = 0x08;
inline constexpr uint32_t kPayloadBytes = 128;
inline constexpr uint32_t kConfigBytes = kConfigPayload + kPayloadBytes;

// Selectors (virtio 1.2, 5.8.4).
inline constexpr uint8_t kSelectUnset = 0x00;
inline constexpr uint8_t kSelectIdName = 0x01;
inline constexpr uint8_t kSelectIdSerial = 0x02;
inline constexpr uint8_t kSelectIdDevids = 0x03;
inline constexpr uint8_t kSelectPropBits = 0x10;
inline constexpr uint8_t kSelectEvBits = 0x11;
inline constexpr uint8_t kSelectAbsInfo = 0x12;

// ABS_INFO payload: le32 min, max, fuzz, flat, res.
inline constexpr uint8_t kAbsInfoBytes = 20;
// ID_DEVIDS payload: le16 bustype, vendor, product, version (INP-3).
inline constexpr uint8_t kDevidsBytes = 8;
inline constexpr uint16_t kBusVirtual = 0x0006;
inline constexpr uint16_t kDevidsVendor = 0x1AF4;
inline constexpr uint16_t kDevidsVersion = 0x0001;

// ---- events (INP-4) ------------------------------------------------------------
inline constexpr uint32_t kEventBytes = 8;

struct Event {
  uint16_t type;
  uint16_t code;
  uint32_t value;  // two's complement for relative and absolute axes
};

inline void encode_event(const Event& e, uint8_t out[kEventBytes]) {
  out[0] = static_cast<uint8_t>(e.type);
  out[1] = static_cast<uint8_t>(e.type >> 8);
  out[2] = static_cast<uint8_t>(e.code);
  out[3] = static_cast<uint8_t>(e.code >> 8);
  for (uint32_t i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(e.value >> (8 * i));
}

inline Event decode_event(const uint8_t in[kEventBytes]) {
  Event e{};
  e.type = static_cast<uint16_t>(in[0] | (in[1] << 8));
  e.code = static_cast<uint16_t>(in[2] | (in[3] << 8));
  e.value = uint32_t{in[4]} | (uint32_t{in[5]} << 8) | (uint32_t{in[6]} << 16) |
            (uint32_t{in[7]} << 24);
  return e;
}

// Linux input event types and codes (include/uapi/linux/input-event-codes.h).
inline constexpr uint16_t kEvSyn = 0x00;
inline constexpr uint16_t kEvKey = 0x01;
inline constexpr uint16_t kEvRel = 0x02;
inline constexpr uint16_t kEvAbs = 0x03;
inline constexpr uint16_t kEvLed = 0x11;
inline constexpr uint16_t kEvRep = 0x14;  // never advertised (INP-5: no auto-repeat)
inline constexpr uint16_t kEvMax = 0x1F;
inline constexpr uint16_t kSynReport = 0;

inline constexpr uint16_t kKeyEsc = 1;
inline constexpr uint16_t kKey1 = 2;  // KEY_1..KEY_9 = 2..10, KEY_0 = 11
inline constexpr uint16_t kKey0 = 11;
inline constexpr uint16_t kKeyMinus = 12;
inline constexpr uint16_t kKeyEqual = 13;
inline constexpr uint16_t kKeyBackspace = 14;
inline constexpr uint16_t kKeyTab = 15;
inline constexpr uint16_t kKeyQ = 16;
inline constexpr uint16_t kKeyW = 17;
inline constexpr uint16_t kKeyE = 18;
inline constexpr uint16_t kKeyR = 19;
inline constexpr uint16_t kKeyT = 20;
inline constexpr uint16_t kKeyY = 21;
inline constexpr uint16_t kKeyU = 22;
inline constexpr uint16_t kKeyI = 23;
inline constexpr uint16_t kKeyO = 24;
inline constexpr uint16_t kKeyP = 25;
inline constexpr uint16_t kKeyLeftBrace = 26;
inline constexpr uint16_t kKeyRightBrace = 27;
inline constexpr uint16_t kKeyEnter = 28;
inline constexpr uint16_t kKeyLeftCtrl = 29;
inline constexpr uint16_t kKeyA = 30;
inline constexpr uint16_t kKeyS = 31;
inline constexpr uint16_t kKeyD = 32;
inline constexpr uint16_t kKeyF = 33;
inline constexpr uint16_t kKeyG = 34;
inline constexpr uint16_t kKeyH = 35;
inline constexpr uint16_t kKeyJ = 36;
inline constexpr uint16_t kKeyK = 37;
inline constexpr uint16_t kKeyL = 38;
inline constexpr uint16_t kKeySemicolon = 39;
inline constexpr uint16_t kKeyApostrophe = 40;
inline constexpr uint16_t kKeyGrave = 41;
inline constexpr uint16_t kKeyLeftShift = 42;
inline constexpr uint16_t kKeyBackslash = 43;
inline constexpr uint16_t kKeyZ = 44;
inline constexpr uint16_t kKeyX = 45;
inline constexpr uint16_t kKeyC = 46;
inline constexpr uint16_t kKeyV = 47;
inline constexpr uint16_t kKeyB = 48;
inline constexpr uint16_t kKeyN = 49;
inline constexpr uint16_t kKeyM = 50;
inline constexpr uint16_t kKeyComma = 51;
inline constexpr uint16_t kKeyDot = 52;
inline constexpr uint16_t kKeySlash = 53;
inline constexpr uint16_t kKeyRightShift = 54;
inline constexpr uint16_t kKeyLeftAlt = 56;
inline constexpr uint16_t kKeySpace = 57;
inline constexpr uint16_t kKeyCapsLock = 58;
inline constexpr uint16_t kKeyF1 = 59;  // KEY_F1..KEY_F10 = 59..68
inline constexpr uint16_t kKeyF10 = 68;
inline constexpr uint16_t kKeyNumLock = 69;
inline constexpr uint16_t kKeyScrollLock = 70;
inline constexpr uint16_t kKeyF11 = 87;
inline constexpr uint16_t kKeyF12 = 88;
inline constexpr uint16_t kKeyRightCtrl = 97;
inline constexpr uint16_t kKeyRightAlt = 100;
inline constexpr uint16_t kKeyHome = 102;
inline constexpr uint16_t kKeyUp = 103;
inline constexpr uint16_t kKeyPageUp = 104;
inline constexpr uint16_t kKeyLeft = 105;
inline constexpr uint16_t kKeyRight = 106;
inline constexpr uint16_t kKeyEnd = 107;
inline constexpr uint16_t kKeyDown = 108;
inline constexpr uint16_t kKeyPageDown = 109;
inline constexpr uint16_t kKeyInsert = 110;
inline constexpr uint16_t kKeyDelete = 111;
inline constexpr uint16_t kKeyLeftMeta = 125;
inline constexpr uint16_t kKeyRightMeta = 126;

inline constexpr uint16_t kBtnLeft = 0x110;
inline constexpr uint16_t kBtnRight = 0x111;
inline constexpr uint16_t kBtnMiddle = 0x112;
inline constexpr uint16_t kBtnSide = 0x113;
inline constexpr uint16_t kBtnExtra = 0x114;
inline constexpr uint16_t kBtnTouch = 0x14A;
inline constexpr uint16_t kKeyMax = 0x2FF;

inline constexpr uint16_t kRelX = 0x00;
inline constexpr uint16_t kRelY = 0x01;
inline constexpr uint16_t kRelHWheel = 0x06;
inline constexpr uint16_t kRelWheel = 0x08;
inline constexpr uint16_t kAbsX = 0x00;
inline constexpr uint16_t kAbsY = 0x01;

inline constexpr uint16_t kLedNumLock = 0x00;
inline constexpr uint16_t kLedCapsLock = 0x01;
inline constexpr uint16_t kLedScrollLock = 0x02;
inline constexpr uint16_t kLedCompose = 0x03;
inline constexpr uint16_t kLedKana = 0x04;
inline constexpr uint16_t kLedCount = 5;  // every LED the keyboard advertises

// ---- the three functions (PCI-6, INP-3, INP-5..INP-7) ---------------------------
enum class InputKind : uint8_t { kKeyboard = 0, kMouse = 1, kTablet = 2 };

inline constexpr uint8_t kFunctionCount = 3;  // PCI function number = kind

inline constexpr const char* kNames[kFunctionCount] = {"Aero Virtio Keyboard", "Aero Virtio Mouse",
                                                       "Aero Virtio Tablet"};
inline constexpr uint16_t kDevidsProduct[kFunctionCount] = {0x0001, 0x0002, 0x0003};

// INP-5: every key the keyboard advertises (the contract's set plus the
// punctuation keys and both GUI keys of a boot keyboard).
inline constexpr uint16_t kKeyboardKeys[] = {
    kKeyEsc, 2, 3, 4, 5, 6, 7, 8, 9, 10, kKey0, kKeyMinus, kKeyEqual, kKeyBackspace, kKeyTab,
    kKeyQ, kKeyW, kKeyE, kKeyR, kKeyT, kKeyY, kKeyU, kKeyI, kKeyO, kKeyP, kKeyLeftBrace,
    kKeyRightBrace, kKeyEnter, kKeyLeftCtrl, kKeyA, kKeyS, kKeyD, kKeyF, kKeyG, kKeyH, kKeyJ,
    kKeyK, kKeyL, kKeySemicolon, kKeyApostrophe, kKeyGrave, kKeyLeftShift, kKeyBackslash, kKeyZ,
    kKeyX, kKeyC, kKeyV, kKeyB, kKeyN, kKeyM, kKeyComma, kKeyDot, kKeySlash, kKeyRightShift,
    kKeyLeftAlt, kKeySpace, kKeyCapsLock, kKeyF1, 60, 61, 62, 63, 64, 65, 66, 67, kKeyF10,
    kKeyNumLock, kKeyScrollLock, kKeyF11, kKeyF12, kKeyRightCtrl, kKeyRightAlt, kKeyHome, kKeyUp,
    kKeyPageUp, kKeyLeft, kKeyRight, kKeyEnd, kKeyDown, kKeyPageDown, kKeyInsert, kKeyDelete,
    kKeyLeftMeta, kKeyRightMeta};
inline constexpr size_t kKeyboardKeyCount = sizeof(kKeyboardKeys) / sizeof(kKeyboardKeys[0]);
// The same keys as a bitmap over codes 0..1023, for O(1) lookups (the
// device builds its EV_BITS payload code by code).
struct KeyBitmap {
  uint64_t words[16];
  constexpr bool has(uint16_t code) const { return code < 1024 && (words[code / 64] >> (code % 64) & 1) != 0; }
};
static_assert([] {
  for (uint16_t c : kKeyboardKeys) {
    if (c >= 1024) return false;
  }
  return true;
}(), "EV_BITS covers codes 0..1023");
inline constexpr KeyBitmap kKeyboardKeyBits = [] {
  KeyBitmap b{};
  for (uint16_t c : kKeyboardKeys) b.words[c / 64] |= uint64_t{1} << (c % 64);
  return b;
}();

// INP-6: the five mouse buttons, in HID button order 1..5.
inline constexpr uint16_t kMouseButtons[] = {kBtnLeft, kBtnRight, kBtnMiddle, kBtnSide, kBtnExtra};
inline constexpr size_t kMouseButtonCount = 5;
inline constexpr uint16_t kMouseAxes[] = {kRelX, kRelY, kRelHWheel, kRelWheel};

// INP-7: the tablet's axes; its one button is BTN_TOUCH (HID button 1).
inline constexpr uint16_t kTabletAxes[] = {kAbsX, kAbsY};
inline constexpr int32_t kTabletDefaultMax = 32767;

// The event types each function advertises (EV_BITS subsel = type).
inline constexpr bool advertises_type(InputKind kind, uint16_t type) {
  switch (type) {
    case kEvSyn:
    case kEvKey: return true;
    case kEvLed: return kind == InputKind::kKeyboard;
    case kEvRel: return kind == InputKind::kMouse;
    case kEvAbs: return kind == InputKind::kTablet;
    default: return false;
  }
}

// Whether `kind` advertises event code `code` of type `type`.
inline constexpr bool advertises_code(InputKind kind, uint16_t type, uint16_t code) {
  if (!advertises_type(kind, type)) return false;
  switch (type) {
    case kEvSyn: return code == kSynReport;
    case kEvLed: return code < kLedCount;
    case kEvRel:
      for (uint16_t c : kMouseAxes) {
        if (c == code) return true;
      }
      return false;
    case kEvAbs: return code == kAbsX || code == kAbsY;
    case kEvKey:
      if (kind == InputKind::kTablet) return code == kBtnTouch;
      if (kind == InputKind::kMouse) {
        for (uint16_t c : kMouseButtons) {
          if (c == code) return true;
        }
        return false;
      }
      return kKeyboardKeyBits.has(code);
    default: return false;
  }
}

}  // namespace aerov::model::devices::input
