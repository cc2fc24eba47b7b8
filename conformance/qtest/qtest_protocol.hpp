// QEMU's qtest protocol, the parts that need no QEMU: parsing its reply
// lines, the hex payloads of `read`/`write`, and a transcript of the last
// lines exchanged so every failure can show where the conversation stood.
//
// The protocol is line based: each request gets one reply, "OK [VALUE]" or
// "FAIL reason"; "IRQ raise N" / "IRQ lower N" may arrive at any time before
// a reply (asynchronous, when interception is on). Values are hex with a
// 0x prefix; `read` answers with the bytes as one hex number, first byte
// first. Anything else is malformed and reported, never guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aerov::conformance::qtest {

// Every harness failure: what went wrong, with the device and the last
// protocol lines when the caller knows them.
class QtestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LineKind : uint8_t { kOk, kFail, kIrq, kMalformed };

// What a line from QEMU is; the line has no trailing newline.
LineKind classify_line(std::string_view line);

struct IrqEvent {
  bool raised;
  uint32_t line;
};

// "IRQ raise N" / "IRQ lower N"; throws QtestError otherwise.
IrqEvent parse_irq(std::string_view line);

// The value of "OK 0x..." (inb/inw/inl, readb..readq, clock_step's decimal
// nanoseconds too); throws QtestError when there is no value, it is not a
// number or it does not fit 64 bits.
uint64_t parse_ok_value(std::string_view line);

// "OK" with nothing after it (out*, write*, write); throws otherwise.
void expect_ok(std::string_view line);

// The bytes of a `read ADDR SIZE` reply ("OK 0x" + 2*size hex digits);
// throws when the count or any digit is wrong.
std::vector<uint8_t> parse_ok_data(std::string_view line, size_t size);

// "0x" + two lower-case hex digits per byte, first byte first.
std::string encode_hex(const uint8_t* data, size_t size);

// The last `keep` lines sent ("> ...") and received ("< ...").
class Transcript {
 public:
  static constexpr size_t kKeepDefault = 12;
  // Long lines (memory payloads) are cut to this many characters.
  static constexpr size_t kLineCharsMax = 160;

  explicit Transcript(size_t keep = kKeepDefault) : keep_(keep) {}
  void sent(std::string_view line) { add("> ", line); }
  void received(std::string_view line) { add("< ", line); }
  // One line each, oldest first; "(nothing exchanged)" when empty.
  std::string tail() const;

 private:
  void add(const char* prefix, std::string_view line);

  size_t keep_;
  std::deque<std::string> lines_;
};

}  // namespace aerov::conformance::qtest
