// Scenario "snd": the Windows 7 snd core streams playback (stream 0) from a
// cyclic buffer, as a WaveRT miniport does, into the virtio-snd device
// model, while stream time passes in seeded ticks of virtual time.
//
// Workload: the "application" fills the cyclic buffer with a signal in
// which every frame names its own index (left = index mod 32767 + 1,
// right = index / 32767 + 1, so no frame of the signal is silent) and
// refills each period as the core reports it played. `steps` periods are
// played in the fault phase; then faults stop, the rest of the signal plays
// out, the application writes silence behind it and stops the stream.
//
// Oracles, on every frame the device plays into its sink. Safety: a frame
// is silence or the next frame of the signal; the only way back is to the
// start of a period, right after a reset (the period the device had not
// finished is played again: the reset lost its progress), and never more
// than one buffer back; a frame never skips ahead (lost audio) or plays
// data that was not written yet. Silence before the end of the signal is
// an underrun and the device must have counted at least that many
// underrun frames. Liveness: with faults off the whole signal plays and
// the stream stops and closes.
#include <string>
#include <vector>

#include "drivers/windows7/common/snd_core.hpp"
#include "model/backends/audio/audio_backend.hpp"
#include "sim/device_stacks.hpp"
#include "sim/scenarios.hpp"
#include "sim/sim_machine.hpp"
#include "sim/trace_channels.hpp"

namespace aerov::sim {

namespace {

namespace w7 = drivers::windows7;
namespace snd = model::devices::snd;
using model::devices::SndDevice;

constexpr Cycles kLivenessBound = 20'000'000;
constexpr uint32_t kFrameBytes = snd::frame_bytes(snd::kPlaybackStream);  // 4
constexpr uint32_t kPeriodFrames = 240;  // 5 ms at 48 kHz
constexpr uint32_t kPeriods = 4;
constexpr uint32_t kPeriodBytes = kPeriodFrames * kFrameBytes;
constexpr uint32_t kBufferBytes = kPeriods * kPeriodBytes;
constexpr Cycles kCyclesPerFrame = 100;  // the machine's notion of 1/48000 s
constexpr uint32_t kSample = 32767;

void put_frame(uint8_t* at, uint64_t index) {
  const auto left = static_cast<uint16_t>(index % kSample + 1);
  const auto right = static_cast<uint16_t>(index / kSample % kSample + 1);
  at[0] = static_cast<uint8_t>(left);
  at[1] = static_cast<uint8_t>(left >> 8);
  at[2] = static_cast<uint8_t>(right);
  at[3] = static_cast<uint8_t>(right >> 8);
}

class SndScenario final : private model::backends::AudioSink {
 public:
  explicit SndScenario(const RunOptions& o)
      : options_(o),
        m_(SimMachineOptions{o.seed, o.faults,
                             {Fault::kIrqDelay, Fault::kIrqCoalesce, Fault::kSpuriousIrq,
                              Fault::kSpuriousDoorbell, Fault::kNeedsReset}}),
        work_(m_.rng.stream("workload")),
        stack_(static_cast<model::backends::AudioSink*>(this)),
        device_(stack_.device),
        total_frames_((o.steps + kPeriods) * kPeriodFrames) {
    m_.serve_at_doorbell(SndDevice::kControlQueue);
    m_.attach_device(device_, contract::kSnd, o.mutant);
    device_.on_time_pending = [this] { m_.serve_soon(SndDevice::kTxQueue, 1 + m_.timing.below(20)); };
    buffer_gpa_ = m_.alloc_buffer(kBufferBytes);
    m_.on_interrupt = [this] { return core_.interrupt(); };
    m_.on_message = [this](uint16_t message) { return core_.message_interrupt(message); };
    m_.progress = [this] { return core_.counters().periods_completed; };
  }

  RunResult run() {
    if (!options_.record.empty()) {
      m_.record(options_.record, m_.provenance(options_, "virtio-snd", {}));
    }
    w7::SndCoreConfig cfg{};
    cfg.on_period = &SndScenario::on_period;
    cfg.context = this;
    if (core_.init(m_.driver_os(), cfg) != w7::SndError::kNone) throw SafetyFailure("core init failed");
    for (uint32_t p = 0; p < kPeriods; ++p) fill_period(p);
    const w7::DmaRegion buffer{m_.memory.translate(buffer_gpa_, kBufferBytes), buffer_gpa_};
    if (const auto e = core_.open(snd::kPlaybackStream, buffer, kBufferBytes, kPeriodBytes);
        e != w7::SndError::kNone) {
      throw SafetyFailure(std::string("open failed: ") + w7::to_string(e));
    }
    if (const auto e = core_.start(snd::kPlaybackStream); e != w7::SndError::kNone) {
      throw SafetyFailure(std::string("start failed: ") + w7::to_string(e));
    }
    m_.start_chaos(2000);
    tick();
    if (!m_.run([this] { return core_.counters().periods_completed >= options_.steps; },
                options_.steps * 100'000)) {
      return finish(Outcome::kLiveness, "playback stalled in the fault phase after " +
                                            std::to_string(core_.counters().periods_completed) +
                                            " periods");
    }
    m_.faults.off();
    if (!m_.run([this] { return next_ == total_frames_; }, m_.now() + kLivenessBound)) {
      return finish(Outcome::kLiveness, "played " + std::to_string(next_) + " of " +
                                            std::to_string(total_frames_) + " frames " +
                                            std::to_string(kLivenessBound) +
                                            " cycles after faults stopped");
    }
    // The application stops and closes the stream (the tail is silence).
    if (const auto e = core_.stop(snd::kPlaybackStream); e != w7::SndError::kNone) {
      return finish(Outcome::kSafety, std::string("stop refused with faults off: ") + w7::to_string(e));
    }
    if (const auto e = core_.close(snd::kPlaybackStream); e != w7::SndError::kNone) {
      return finish(Outcome::kSafety, std::string("close refused with faults off: ") + w7::to_string(e));
    }
    if (device_.state(snd::kPlaybackStream) != model::devices::PcmState::kReleased) {
      return finish(Outcome::kSafety, std::string("the device's stream is ") +
                                          model::devices::to_string(device_.state(snd::kPlaybackStream)) +
                                          " after close");
    }
    if (underrun_frames_ > device_.stats().underrun_frames) {
      return finish(Outcome::kSafety, std::to_string(underrun_frames_) +
                                          " silent frames inside the signal but the device counted " +
                                          std::to_string(device_.stats().underrun_frames) +
                                          " underrun frames");
    }
    if (core_.counters().resets > m_.resets_injected()) {
      return finish(Outcome::kSafety, unexpected_resets(core_.counters().resets, m_.resets_injected()));
    }
    return finish(Outcome::kPass, "");
  }

  RunResult fail(const std::string& message) { return finish(Outcome::kSafety, message); }

 private:
  // Stream time: 24..72 frames per tick, at the stream's rate.
  void tick() {
    const auto frames = static_cast<uint32_t>(24 + work_.below(49));
    m_.events.schedule_in(frames * kCyclesPerFrame, [this, frames] {
      if (stopped_) return;
      const auto bytes = SndStack::time_input(frames);
      m_.host_input(channel::kSndTime, bytes, [&] { stack_.apply(channel::kSndTime, bytes); });
      tick();
    });
  }

  // The application writes the next period of the signal (silence past
  // its end) into period slot `p` of the cyclic buffer.
  void fill_period(uint32_t p) {
    std::vector<uint8_t> bytes(kPeriodBytes, 0);
    for (uint32_t f = 0; f < kPeriodFrames && written_ < total_frames_; ++f) {
      put_frame(bytes.data() + f * kFrameBytes, written_++);
    }
    m_.memory.write(buffer_gpa_ + uint64_t{p} * kPeriodBytes, bytes.data(), bytes.size());
  }

  static void on_period(void* context, uint32_t stream, uint64_t bytes_done) {
    auto* self = static_cast<SndScenario*>(context);
    if (stream != snd::kPlaybackStream) {
      return self->m_.safety("a period completed on stream " + std::to_string(stream));
    }
    if (bytes_done % kPeriodBytes != 0 || bytes_done == 0) {
      return self->m_.safety("play position " + std::to_string(bytes_done) + " is not at a period end");
    }
    self->m_.note("period played", bytes_done / kPeriodBytes);
    self->fill_period(static_cast<uint32_t>((bytes_done / kPeriodBytes - 1) % kPeriods));
  }

  // ---- the device's sink: every frame it plays -------------------------------
  void write(std::span<const uint8_t> pcm) override {
    m_.host_output(channel::kPlayed, pcm);
    if (pcm.size() % kFrameBytes != 0) {
      return m_.safety("the device played " + std::to_string(pcm.size()) + " bytes: not whole frames");
    }
    const uint64_t resets = core_.counters().resets;
    for (size_t at = 0; at < pcm.size(); at += kFrameBytes) {
      const uint16_t left = static_cast<uint16_t>(pcm[at] | pcm[at + 1] << 8);
      const uint16_t right = static_cast<uint16_t>(pcm[at + 2] | pcm[at + 3] << 8);
      if (left == 0 && right == 0) {
        if (next_ < total_frames_) ++underrun_frames_;
        continue;
      }
      if (left > kSample || right == 0 || right > kSample) {
        return m_.safety("the device played a frame that is not in the signal");
      }
      const uint64_t index = (left - 1u) + uint64_t{right - 1u} * kSample;
      if (index >= written_) {
        return m_.safety("frame " + std::to_string(index) + " played before the application wrote it");
      }
      if (index > next_) {
        return m_.safety("frames " + std::to_string(next_) + ".." + std::to_string(index - 1) +
                         " were never played (lost audio)");
      }
      if (index < next_) {
        const bool after_reset = resets != resets_at_last_frame_;
        if (!after_reset || index % kPeriodFrames != 0 || next_ - index > kPeriods * kPeriodFrames) {
          return m_.safety("frame " + std::to_string(index) + " played again after frame " +
                           std::to_string(next_ - 1) +
                           (after_reset ? " (further back than the unfinished period)" : " without a reset"));
        }
        m_.note("period replayed after reset", index);
      }
      next_ = index + 1;
      resets_at_last_frame_ = resets;
    }
  }

  RunResult finish(Outcome o, const std::string& message) {
    stopped_ = true;
    Hash state;
    const auto& c = core_.counters();
    for (uint64_t v : {c.control_requests, c.control_failures, c.periods_submitted, c.periods_completed,
                       c.period_errors, c.kicks, c.interrupts, c.spurious, c.resets, c.resubmitted}) {
      state.add(v);
    }
    const auto& st = device_.stats();
    for (uint64_t v : {st.underruns, st.underrun_frames, device_.frames_played()}) state.add(v);
    state.add(next_);
    return m_.result(o, message, state.value(), core_.counters().periods_completed);
  }

  RunOptions options_;
  SimMachine m_;
  model::sim::Rng& work_;
  SndStack stack_;
  SndDevice& device_;
  w7::SndCore core_;
  uint64_t buffer_gpa_ = 0;
  const uint64_t total_frames_;  // the signal's length
  uint64_t written_ = 0;         // frames of the signal the application wrote
  uint64_t next_ = 0;            // the frame of the signal due next
  uint64_t underrun_frames_ = 0; // silent frames played before the signal ended
  uint64_t resets_at_last_frame_ = 0;
  bool stopped_ = false;
};

}  // namespace

RunResult run_snd(const RunOptions& options) { return run_scenario<SndScenario>(options); }

}  // namespace aerov::sim
