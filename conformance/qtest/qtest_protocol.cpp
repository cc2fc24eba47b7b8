#include "conformance/qtest/qtest_protocol.hpp"

#include <charconv>

namespace aerov::conformance::qtest {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[noreturn]] void malformed(std::string_view what, std::string_view line) {
  std::string shown(line.substr(0, Transcript::kLineCharsMax));
  throw QtestError("malformed qtest reply (" + std::string(what) + "): '" + shown + "'");
}

// A 0x-prefixed hex or plain decimal number filling all of `text`.
bool parse_number(std::string_view text, uint64_t* out) {
  int base = 10;
  if (starts_with(text, "0x") || starts_with(text, "0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

LineKind classify_line(std::string_view line) {
  if (line == "OK" || starts_with(line, "OK ")) return LineKind::kOk;
  if (line == "FAIL" || starts_with(line, "FAIL ")) return LineKind::kFail;
  if (starts_with(line, "IRQ ")) return LineKind::kIrq;
  return LineKind::kMalformed;
}

IrqEvent parse_irq(std::string_view line) {
  std::string_view rest = line;
  bool raised = false;
  if (starts_with(rest, "IRQ raise ")) {
    raised = true;
    rest.remove_prefix(10);
  } else if (starts_with(rest, "IRQ lower ")) {
    rest.remove_prefix(10);
  } else {
    malformed("IRQ line without raise/lower", line);
  }
  uint64_t n = 0;
  if (!parse_number(rest, &n) || n > 0xFFFF) malformed("IRQ number", line);
  return IrqEvent{raised, static_cast<uint32_t>(n)};
}

uint64_t parse_ok_value(std::string_view line) {
  if (!starts_with(line, "OK ")) malformed("expected 'OK VALUE'", line);
  uint64_t v = 0;
  if (!parse_number(line.substr(3), &v)) malformed("value", line);
  return v;
}

void expect_ok(std::string_view line) {
  if (line != "OK") malformed("expected 'OK'", line);
}

std::vector<uint8_t> parse_ok_data(std::string_view line, size_t size) {
  if (!starts_with(line, "OK 0x")) malformed("expected 'OK 0x<data>'", line);
  const std::string_view hex = line.substr(5);
  if (hex.size() != 2 * size) malformed("data length", line);
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) malformed("data digit", line);
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string encode_hex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + 2 * size);
  out += "0x";
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

void Transcript::add(const char* prefix, std::string_view line) {
  std::string entry = prefix;
  if (line.size() > kLineCharsMax) {
    entry += line.substr(0, kLineCharsMax);
    entry += "... (" + std::to_string(line.size()) + " chars)";
  } else {
    entry += line;
  }
  lines_.push_back(std::move(entry));
  while (lines_.size() > keep_) lines_.pop_front();
}

std::string Transcript::tail() const {
  if (lines_.empty()) return "  (nothing exchanged)\n";
  std::string out;
  for (const auto& l : lines_) out += "  " + l + "\n";
  return out;
}

}  // namespace aerov::conformance::qtest
