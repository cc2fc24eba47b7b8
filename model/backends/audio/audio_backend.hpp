// Where a virtio-snd device's PCM goes to and comes from. The device calls
// these in virtual time (SndDevice::advance): a sink gets exactly the bytes
// the stream played, silence included; a source is asked for exactly the
// bytes the stream captured. Neither ever sees a wall clock.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace aerov::model::backends {

class AudioSink {
 public:
  virtual ~AudioSink() = default;
  // Played PCM, in order (S16_LE interleaved frames).
  virtual void write(std::span<const uint8_t> pcm) = 0;
};

class CaptureSource {
 public:
  virtual ~CaptureSource() = default;
  // Fills all of out with the next captured PCM.
  virtual void read(std::span<uint8_t> out) = 0;
};

// Keeps everything played (tests; bounded by what a test plays).
class MemorySink final : public AudioSink {
 public:
  void write(std::span<const uint8_t> pcm) override { bytes.insert(bytes.end(), pcm.begin(), pcm.end()); }
  std::vector<uint8_t> bytes;
};

class SilenceSource final : public CaptureSource {
 public:
  void read(std::span<uint8_t> out) override {
    if (!out.empty()) std::memset(out.data(), 0, out.size());
  }
};

}  // namespace aerov::model::backends
