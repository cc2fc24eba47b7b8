// WAV files and capture sources for virtio-snd: header bytes, finalised
// sizes, typed rejection of malformed files, deterministic tones, and a WAV
// recorded from the device through the real transport.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "model/backends/audio/wav.hpp"
#include "model/devices/snd/testing/snd_rig.hpp"

using namespace aerov::model::backends;
using aerov::model::devices::testing::SndRig;
using aerov::model::devices::testing::SndRigOptions;
using aerov::model::devices::testing::snd_pattern;
using Bytes = std::vector<uint8_t>;

namespace {

// A file name of this process in the temp directory (CTest runs cases in
// parallel processes); each test removes its file.
std::string temp_path(const std::string& name) {
  const auto file = "aerov-audio-" + std::to_string(::getpid()) + "-" + name;
  return (std::filesystem::temp_directory_path() / file).string();
}

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

uint32_t le32(const Bytes& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

Bytes valid_file(const WavFormat& f, const Bytes& pcm) {
  Bytes file = wav_header(f, static_cast<uint32_t>(pcm.size()));
  file.insert(file.end(), pcm.begin(), pcm.end());
  return file;
}

}  // namespace

TEST_CASE("audio.wav: the 44-byte header is canonical PCM", "[audio][SND-6]") {
  const Bytes h = wav_header({2, 48000, 16}, 1000);
  const Bytes want = {'R', 'I', 'F', 'F', 0x0C, 0x04, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
                      16, 0, 0, 0, 1, 0, 2, 0, 0x80, 0xBB, 0, 0, 0x00, 0xEE, 0x02, 0,
                      4, 0, 16, 0, 'd', 'a', 't', 'a', 0xE8, 0x03, 0, 0};
  CHECK(h == want);
}

TEST_CASE("audio.wav: a file sink finalises RIFF and data sizes", "[audio][SND-6]") {
  const std::string path = temp_path("sink.wav");
  const Bytes pcm = snd_pattern(300, 2, 11);
  {
    WavFileSink sink(path, {2, 48000, 16});
    REQUIRE(sink.error() == WavError::kNone);
    sink.write(Bytes(pcm.begin(), pcm.begin() + 100));
    sink.write(Bytes(pcm.begin() + 100, pcm.end()));
    CHECK(sink.finish() == WavError::kNone);
    CHECK(sink.data_bytes() == pcm.size());
  }
  const Bytes file = slurp(path);
  REQUIRE(file.size() == 44 + pcm.size());
  CHECK(le32(file, 4) == 36 + pcm.size());
  CHECK(le32(file, 40) == pcm.size());
  const WavData back = parse_wav(file);
  REQUIRE(back.error == WavError::kNone);
  CHECK(back.pcm == pcm);
  CHECK(read_wav_file(path).pcm == pcm);
  std::filesystem::remove(path);
}

TEST_CASE("audio.wav: a partial last frame is padded so the file stays valid", "[audio]") {
  const std::string path = temp_path("odd.wav");
  {
    WavFileSink sink(path, {2, 48000, 16});
    sink.write(Bytes{1, 2, 3, 4, 5, 6});
  }  // destructor finishes
  const WavData back = read_wav_file(path);
  REQUIRE(back.error == WavError::kNone);
  CHECK(back.pcm == Bytes{1, 2, 3, 4, 5, 6, 0, 0});
  std::filesystem::remove(path);
}

TEST_CASE("audio.wav: a sink that cannot open its file says so", "[audio]") {
  WavFileSink sink("/nonexistent-dir/x/y.wav", {2, 48000, 16});
  CHECK(sink.error() == WavError::kOpenFailed);
  sink.write(Bytes{1, 2, 3, 4});
  CHECK(sink.data_bytes() == 0);
  CHECK(read_wav_file("/nonexistent-dir/x/y.wav").error == WavError::kOpenFailed);
}

TEST_CASE("audio.wav: malformed files are refused with a typed cause", "[audio][SND-7]") {
  const WavFormat mono{1, 48000, 16};
  const Bytes good = valid_file(mono, snd_pattern(10, 1, 3));
  REQUIRE(parse_wav(good).error == WavError::kNone);
  auto mutate = [&](auto fn) {
    Bytes b = good;
    fn(b);
    return parse_wav(b).error;
  };
  CHECK(parse_wav(Bytes(good.begin(), good.begin() + 8)).error == WavError::kTooShort);
  CHECK(mutate([](Bytes& b) { b[0] = 'X'; }) == WavError::kNotRiff);
  CHECK(mutate([](Bytes& b) { b[8] = 'X'; }) == WavError::kNotWave);
  CHECK(mutate([](Bytes& b) { b[4] = 0xFF; b[5] = 0xFF; }) == WavError::kRiffSizeMismatch);
  CHECK(mutate([](Bytes& b) { b[40] = 0xFF; }) == WavError::kChunkOverrun);
  CHECK(mutate([](Bytes& b) { b[12] = 'x'; }) == WavError::kNoFmtChunk);
  CHECK(mutate([](Bytes& b) { b[16] = 8; }) == WavError::kFmtTooShort);
  CHECK(mutate([](Bytes& b) { b[20] = 3; }) == WavError::kNotPcm);
  CHECK(mutate([](Bytes& b) { b[32] = 3; }) == WavError::kBadBlockAlign);
  CHECK(mutate([](Bytes& b) { b[29] = 0; }) == WavError::kBadBlockAlign);
  CHECK(mutate([](Bytes& b) { b[36] = 'x'; }) == WavError::kNoDataChunk);
  CHECK(mutate([](Bytes& b) { b[40] = 19; b.resize(b.size() - 1); b[4] = static_cast<uint8_t>(b.size() - 8); }) ==
        WavError::kPartialFrame);
  const WavFormat stereo{2, 48000, 16};
  CHECK(parse_wav(good, &stereo).error == WavError::kFormatMismatch);
  CHECK(parse_wav(good, &mono).error == WavError::kNone);
  CHECK(std::string(to_string(WavError::kNotPcm)).find("PCM") != std::string::npos);
}

TEST_CASE("audio.wav: unknown chunks are skipped, odd ones padded", "[audio]") {
  const WavFormat mono{1, 48000, 16};
  const Bytes pcm = snd_pattern(4, 1, 5);
  Bytes file = wav_header(mono, static_cast<uint32_t>(pcm.size()));
  const Bytes list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  file.insert(file.begin() + 36, list.begin(), list.end());
  file.insert(file.end(), pcm.begin(), pcm.end());
  file[4] = static_cast<uint8_t>(file.size() - 8);
  const WavData d = parse_wav(file);
  REQUIRE(d.error == WavError::kNone);
  CHECK(d.pcm == pcm);
}

TEST_CASE("audio.sources: silence, PCM playback and looping", "[audio][SND-7]") {
  Bytes out(6, 0xAA);
  SilenceSource().read(out);
  CHECK(out == Bytes(6, 0));
  PcmSource once(Bytes{1, 2, 3, 4});
  once.read(out);
  CHECK(out == Bytes{1, 2, 3, 4, 0, 0});
  PcmSource loop(Bytes{1, 2, 3, 4}, true);
  loop.read(out);
  CHECK(out == Bytes{1, 2, 3, 4, 1, 2});
  loop.read(out);
  CHECK(out == Bytes{3, 4, 1, 2, 3, 4});
}

TEST_CASE("audio.sources: the sine tone is deterministic, periodic and phase-exact", "[audio][SND-7]") {
  SineSource a(1, 48000, 1000, 10000, 0);
  CHECK(a.sample(0) == 0);
  CHECK(a.sample(12) == 10000);   // a quarter of a 48-frame period
  CHECK(a.sample(36) == -10000);
  CHECK(a.sample(48) == 0);
  CHECK(a.sample(7) == a.sample(7 + 48 * 1000));
  SineSource shifted(1, 48000, 1000, 10000, 12000);  // phase0 = a quarter cycle
  CHECK(shifted.sample(0) == 10000);
  // Split reads (even mid-sample) give the same bytes as one read.
  SineSource one(2, 48000, 440, 12000, 5), split(2, 48000, 440, 12000, 5);
  Bytes whole(4000), parts(4000);
  one.read(whole);
  split.read(std::span<uint8_t>(parts).subspan(0, 1));
  split.read(std::span<uint8_t>(parts).subspan(1, 2221));
  split.read(std::span<uint8_t>(parts).subspan(2222));
  CHECK(whole == parts);
  CHECK(whole[0] == whole[2]);  // both channels carry the same sample
  CHECK(whole[1] == whole[3]);
}

TEST_CASE("audio.e2e: the device's playback recorded as WAV equals the guest's PCM", "[audio][SND-6]") {
  const std::string path = temp_path("e2e.wav");
  Bytes played;
  {
    WavFileSink sink(path, {2, 48000, 16});
    SndRig rig(SndRigOptions{.sink = &sink});
    REQUIRE(rig.open_and_start(0));
    for (uint16_t s = 0; s < 8; ++s) {
      const Bytes p = snd_pattern(240, 2, static_cast<uint16_t>(s * 31));
      played.insert(played.end(), p.begin(), p.end());
      REQUIRE(rig.queue_tx(s, p) == aerov::virtqueue::DriverStatus::kOk);
    }
    rig.kick_tx();
    rig.advance(8 * 240 + 10);  // 10 frames of underrun silence at the end
    CHECK(rig.reap_tx().size() == 8);
    CHECK(sink.finish() == WavError::kNone);
  }
  played.insert(played.end(), 40, 0);
  const WavFormat want{2, 48000, 16};
  const WavData back = read_wav_file(path, &want);
  REQUIRE(back.error == WavError::kNone);
  CHECK(back.pcm == played);
  std::filesystem::remove(path);
}

TEST_CASE("audio.e2e: a WAV file captured through the device arrives byte-exact", "[audio][SND-7]") {
  const Bytes pcm = snd_pattern(96, 1, 99);
  const WavFormat mono{1, 48000, 16};
  const WavData file = parse_wav(valid_file(mono, pcm), &mono);
  REQUIRE(file.error == WavError::kNone);
  PcmSource source(file.pcm);
  SndRig rig(SndRigOptions{.source = &source});
  REQUIRE(rig.open_and_start(1));
  rig.queue_rx(0, 96);
  rig.queue_rx(1, 96);
  rig.kick_rx();
  rig.advance(96);
  const auto done = rig.reap_rx();
  REQUIRE(done.size() == 2);
  Bytes got = rig.rx_payload(0, 96);
  const Bytes second = rig.rx_payload(1, 96);
  got.insert(got.end(), second.begin(), second.end());
  CHECK(got == pcm);
}
