// RIFF/WAVE PCM files for the virtio-snd backends: a sink that records what a
// playback stream played, and a capture source that plays a file into a
// capture stream.
//
// Only canonical integer PCM is written and read: a "RIFF" chunk of form
// "WAVE" holding a "fmt " chunk (format tag 1, 16 bytes or more) and a
// "data" chunk; other chunks are skipped when reading. Every field is
// little-endian. A file that does not parse is refused with a WavError that
// names the cause, never half-read.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "model/backends/audio/audio_backend.hpp"

namespace aerov::model::backends {

struct WavFormat {
  uint16_t channels = 2;
  uint32_t rate = 48000;
  uint16_t bits = 16;
  uint32_t frame_bytes() const { return uint32_t{channels} * (bits / 8u); }
  bool operator==(const WavFormat&) const = default;
};

enum class WavError : uint8_t {
  kNone = 0,
  kOpenFailed,      // the file could not be opened or read
  kWriteFailed,     // a write, seek or close failed
  kTooShort,        // fewer than 12 bytes: no RIFF header
  kNotRiff,         // does not start with "RIFF"
  kNotWave,         // RIFF form is not "WAVE"
  kRiffSizeMismatch,// RIFF size field larger than the file
  kChunkOverrun,    // a chunk claims more bytes than the file holds
  kNoFmtChunk,      // no "fmt " chunk before "data"
  kFmtTooShort,     // "fmt " chunk under 16 bytes
  kNotPcm,          // format tag is not 1 (integer PCM)
  kBadBlockAlign,   // block_align / byte_rate disagree with channels and bits
  kFormatMismatch,  // channels, rate or bits differ from what the caller needs
  kNoDataChunk,     // no "data" chunk
  kPartialFrame,    // data size is not a whole number of frames
  kTooLarge,        // over 4 GiB of data, which RIFF cannot describe
};
const char* to_string(WavError e);

inline constexpr size_t kWavHeaderBytes = 44;

// The canonical 44-byte header for `data_bytes` of PCM.
std::vector<uint8_t> wav_header(const WavFormat& format, uint32_t data_bytes);

struct WavData {
  WavError error = WavError::kNone;
  WavFormat format{};
  std::vector<uint8_t> pcm;
};
// Parses a whole file image; `want` (if given) must match the file's format.
WavData parse_wav(std::span<const uint8_t> file, const WavFormat* want = nullptr);
WavData read_wav_file(const std::string& path, const WavFormat* want = nullptr);

// Writes played PCM to a WAV file as it arrives; finish() (or the
// destructor) patches the RIFF and data sizes.
class WavFileSink final : public AudioSink {
 public:
  WavFileSink(const std::string& path, const WavFormat& format);
  ~WavFileSink() override;
  WavFileSink(const WavFileSink&) = delete;
  WavFileSink& operator=(const WavFileSink&) = delete;

  void write(std::span<const uint8_t> pcm) override;
  // Final sizes in the header, file closed; the first error is kept.
  WavError finish();
  WavError error() const { return error_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  std::FILE* file_ = nullptr;
  WavFormat format_;
  uint64_t data_bytes_ = 0;
  WavError error_ = WavError::kNone;
};

// Plays PCM (typically a parsed file) into a capture stream; silence after
// the end unless it loops.
class PcmSource final : public CaptureSource {
 public:
  explicit PcmSource(std::vector<uint8_t> pcm, bool loop = false) : pcm_(std::move(pcm)), loop_(loop) {}
  void read(std::span<uint8_t> out) override;
  uint64_t position() const { return at_; }

 private:
  std::vector<uint8_t> pcm_;
  bool loop_;
  uint64_t at_ = 0;
};

// A sine tone of S16 samples, the same in every channel. Sample k is a pure
// function of (phase0 + k * frequency) mod rate, so a run is reproducible
// and reads split anywhere give the same bytes.
class SineSource final : public CaptureSource {
 public:
  SineSource(uint16_t channels, uint32_t rate, uint32_t frequency_hz, int16_t amplitude, uint32_t phase0 = 0);
  void read(std::span<uint8_t> out) override;
  int16_t sample(uint64_t frame) const;
  uint64_t frames_read() const { return byte_at_ / (2u * channels_); }

 private:
  uint16_t channels_;
  uint32_t rate_;
  uint32_t frequency_;
  int16_t amplitude_;
  uint32_t phase0_;
  uint64_t byte_at_ = 0;
};

}  // namespace aerov::model::backends
