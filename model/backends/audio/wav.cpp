#include "model/backends/audio/wav.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

namespace aerov::model::backends {

namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint32_t kFmtBytes = 16;
constexpr uint64_t kMaxDataBytes = 0xFFFFFFFFull - (kWavHeaderBytes - 8);

void put(std::vector<uint8_t>& v, uint64_t x, unsigned n) {
  for (unsigned i = 0; i < n; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void put_tag(std::vector<uint8_t>& v, const char* tag) { v.insert(v.end(), tag, tag + 4); }

uint32_t get(std::span<const uint8_t> b, size_t at, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint32_t{b[at + i]} << (8 * i);
  return v;
}
bool tag_is(std::span<const uint8_t> b, size_t at, const char* tag) { return std::memcmp(&b[at], tag, 4) == 0; }

WavData failed(WavError e) {
  WavData d;
  d.error = e;
  return d;
}

}  // namespace

const char* to_string(WavError e) {
  switch (e) {
    case WavError::kNone: return "ok";
    case WavError::kOpenFailed: return "cannot open or read the file";
    case WavError::kWriteFailed: return "write failed";
    case WavError::kTooShort: return "too short for a RIFF header";
    case WavError::kNotRiff: return "not a RIFF file";
    case WavError::kNotWave: return "RIFF form is not WAVE";
    case WavError::kRiffSizeMismatch: return "RIFF size larger than the file";
    case WavError::kChunkOverrun: return "chunk runs past the end of the file";
    case WavError::kNoFmtChunk: return "no fmt chunk before the data chunk";
    case WavError::kFmtTooShort: return "fmt chunk shorter than 16 bytes";
    case WavError::kNotPcm: return "format tag is not integer PCM";
    case WavError::kBadBlockAlign: return "block align or byte rate inconsistent";
    case WavError::kFormatMismatch: return "channels, rate or bits differ from the stream's";
    case WavError::kNoDataChunk: return "no data chunk";
    case WavError::kPartialFrame: return "data is not a whole number of frames";
    case WavError::kTooLarge: return "data larger than RIFF can describe";
  }
  return "unknown";
}

std::vector<uint8_t> wav_header(const WavFormat& f, uint32_t data_bytes) {
  std::vector<uint8_t> h;
  h.reserve(kWavHeaderBytes);
  put_tag(h, "RIFF");
  put(h, uint64_t{data_bytes} + (kWavHeaderBytes - 8), 4);
  put_tag(h, "WAVE");
  put_tag(h, "fmt ");
  put(h, kFmtBytes, 4);
  put(h, kFormatPcm, 2);
  put(h, f.channels, 2);
  put(h, f.rate, 4);
  put(h, uint64_t{f.rate} * f.frame_bytes(), 4);  // byte rate
  put(h, f.frame_bytes(), 2);                      // block align
  put(h, f.bits, 2);
  put_tag(h, "data");
  put(h, data_bytes, 4);
  return h;
}

WavData parse_wav(std::span<const uint8_t> b, const WavFormat* want) {
  if (b.size() < 12) return failed(WavError::kTooShort);
  if (!tag_is(b, 0, "RIFF")) return failed(WavError::kNotRiff);
  if (!tag_is(b, 8, "WAVE")) return failed(WavError::kNotWave);
  const uint64_t riff_end = uint64_t{get(b, 4, 4)} + 8;
  if (riff_end > b.size()) return failed(WavError::kRiffSizeMismatch);
  WavData d;
  bool have_fmt = false;
  size_t at = 12;
  // Each chunk moves `at` forward by at least 8 bytes: bounded by the file.
  while (at + 8 <= riff_end) {
    const uint64_t len = get(b, at + 4, 4);
    const size_t body = at + 8;
    if (body + len > riff_end) return failed(WavError::kChunkOverrun);
    if (tag_is(b, at, "fmt ")) {
      if (len < kFmtBytes) return failed(WavError::kFmtTooShort);
      if (get(b, body, 2) != kFormatPcm) return failed(WavError::kNotPcm);
      d.format.channels = static_cast<uint16_t>(get(b, body + 2, 2));
      d.format.rate = get(b, body + 4, 4);
      d.format.bits = static_cast<uint16_t>(get(b, body + 14, 2));
      const uint32_t align = get(b, body + 12, 2);
      if (d.format.channels == 0 || d.format.bits == 0 || d.format.bits % 8 != 0 ||
          align != d.format.frame_bytes() || get(b, body + 8, 4) != uint64_t{d.format.rate} * align) {
        return failed(WavError::kBadBlockAlign);
      }
      if (want != nullptr && !(d.format == *want)) return failed(WavError::kFormatMismatch);
      have_fmt = true;
    } else if (tag_is(b, at, "data")) {
      if (!have_fmt) return failed(WavError::kNoFmtChunk);
      if (len % d.format.frame_bytes() != 0) return failed(WavError::kPartialFrame);
      d.pcm.assign(b.begin() + static_cast<long>(body), b.begin() + static_cast<long>(body + len));
      return d;
    }
    at = body + len + (len & 1);  // chunks are padded to even sizes
  }
  return failed(have_fmt ? WavError::kNoDataChunk : WavError::kNoFmtChunk);
}

WavData read_wav_file(const std::string& path, const WavFormat* want) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed(WavError::kOpenFailed);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return failed(WavError::kOpenFailed);
  return parse_wav(bytes, want);
}

WavFileSink::WavFileSink(const std::string& path, const WavFormat& format) : format_(format) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    error_ = WavError::kOpenFailed;
    return;
  }
  const std::vector<uint8_t> h = wav_header(format_, 0);  // sizes patched by finish()
  if (std::fwrite(h.data(), 1, h.size(), file_) != h.size()) error_ = WavError::kWriteFailed;
}

WavFileSink::~WavFileSink() { finish(); }

void WavFileSink::write(std::span<const uint8_t> pcm) {
  if (file_ == nullptr || error_ != WavError::kNone || pcm.empty()) return;
  if (data_bytes_ + pcm.size() > kMaxDataBytes) {
    error_ = WavError::kTooLarge;
    return;
  }
  if (std::fwrite(pcm.data(), 1, pcm.size(), file_) != pcm.size()) {
    error_ = WavError::kWriteFailed;
    return;
  }
  data_bytes_ += pcm.size();
}

WavError WavFileSink::finish() {
  if (file_ == nullptr) return error_;
  // A partial last frame would make the file unreadable: pad it with silence.
  const uint32_t fb = format_.frame_bytes();
  if (error_ == WavError::kNone && fb != 0 && data_bytes_ % fb != 0) {
    const std::vector<uint8_t> pad(fb - data_bytes_ % fb, 0);
    write(pad);
  }
  const std::vector<uint8_t> h = wav_header(format_, static_cast<uint32_t>(data_bytes_));
  if (std::fseek(file_, 0, SEEK_SET) != 0 || std::fwrite(h.data(), 1, h.size(), file_) != h.size()) {
    if (error_ == WavError::kNone) error_ = WavError::kWriteFailed;
  }
  if (std::fclose(file_) != 0 && error_ == WavError::kNone) error_ = WavError::kWriteFailed;
  file_ = nullptr;
  return error_;
}

void PcmSource::read(std::span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    if (at_ >= pcm_.size()) {
      if (!loop_ || pcm_.empty()) break;
      at_ = 0;
    }
    const size_t n = std::min<size_t>(out.size() - i, pcm_.size() - at_);
    std::memcpy(out.data() + i, pcm_.data() + at_, n);
    i += n;
    at_ += n;
  }
  if (i < out.size()) std::memset(out.data() + i, 0, out.size() - i);  // after the end: silence
}

SineSource::SineSource(uint16_t channels, uint32_t rate, uint32_t frequency_hz, int16_t amplitude, uint32_t phase0)
    : channels_(channels == 0 ? 1 : channels),
      rate_(rate == 0 ? 1 : rate),
      frequency_(frequency_hz),
      amplitude_(amplitude),
      phase0_(phase0 % (rate == 0 ? 1 : rate)) {}

int16_t SineSource::sample(uint64_t frame) const {
  // Integer phase in units of 1/rate of a cycle: exact for any run length.
  const uint64_t phase = (phase0_ + (frame % rate_) * uint64_t{frequency_}) % rate_;
  const double angle = 2.0 * 3.14159265358979323846 * static_cast<double>(phase) / static_cast<double>(rate_);
  return static_cast<int16_t>(std::lround(amplitude_ * std::sin(angle)));
}

void SineSource::read(std::span<uint8_t> out) {
  // Byte-granular so a read may end inside a sample and the next continues it.
  for (uint8_t& b : out) {
    const uint64_t sample_index = byte_at_ / 2;
    const uint16_t s = static_cast<uint16_t>(sample(sample_index / channels_));
    b = static_cast<uint8_t>(byte_at_ % 2 == 0 ? s : s >> 8);
    ++byte_at_;
  }
}

}  // namespace aerov::model::backends
