// Scenario "net": the Windows 7 net core drives the virtio-net device model,
// whose peer echoes every frame back after a seeded latency (and, as
// faults, loses some or delays them past later ones). The link goes down
// and up now and then.
//
// Workload: `steps` frames of 60..1514 bytes, each carrying a sequence
// number and a pattern derived from it, in 1..4 fragments at random offsets
// of per-slot guest buffers. A refused frame (busy, link down) is retried.
//
// Oracles. Safety: every accepted frame completes exactly once, as sent; a
// received frame is one that was sent (sequence known, pattern and length
// intact); it arrives twice only if the core reissued frames after a reset
// (a frame the device sent before it broke may go out again). Liveness:
// with faults off and the link up, every frame completes, and every frame
// the device accepted from the peer reached the driver or is counted by the
// device as dropped (host queue overflow, reset).
#include <array>
#include <bit>
#include <cstring>
#include <deque>
#include <vector>

#include "drivers/windows7/common/net_core.hpp"
#include "sim/device_stacks.hpp"
#include "sim/payload_words.hpp"
#include "sim/scenarios.hpp"
#include "sim/sim_machine.hpp"
#include "sim/trace_channels.hpp"

namespace aerov::sim {

namespace {

namespace w7 = drivers::windows7;
using model::devices::NetDevice;

constexpr size_t kSlots = 96;
constexpr uint32_t kSlotBytes = 1600;
constexpr uint16_t kEtherType = 0x88B5;  // IEEE local experimental
constexpr uint32_t kSeqOffset = 14;
constexpr uint32_t kPatternOffset = 22;
constexpr Cycles kLivenessBound = 20'000'000;
constexpr std::array<uint8_t, 6> kPeerMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

// Frame `seq`'s payload from kPatternOffset on: payload words
// (sim/payload_words.hpp) starting from a bijective mix of seq.
uint64_t pattern_key(uint64_t seq) {
  uint64_t x = seq + 1;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct Slot {
  bool busy = false;
  int completions = 0;
  uint64_t seq = 0;
  uint64_t buffer = 0;
  std::vector<w7::NetFragment> fragments;
};

class NetScenario final : private model::backends::NetBackend {
 public:
  explicit NetScenario(const RunOptions& o)
      : options_(o),
        m_(SimMachineOptions{o.seed, o.faults,
                             {Fault::kIrqDelay, Fault::kIrqCoalesce, Fault::kSpuriousIrq,
                              Fault::kSpuriousDoorbell, Fault::kNeedsReset, Fault::kPeerLoss,
                              Fault::kPeerReorder, Fault::kDriverReset}}),
        work_(m_.rng.stream("workload")),
        stack_(static_cast<model::backends::NetBackend*>(this)),
        device_(stack_.device),
        ring_(o.mutant) {
    m_.attach_device(device_, contract::kNet, o.mutant);
    link_flaps_ = o.faults;  // a link flap loses frames: part of the fault phase
    device_.on_rx_pending = [this] {
      m_.serve_soon(NetDevice::kRxQueue, 10 + m_.timing.below(100));
    };
    for (auto& s : slots_) s.buffer = m_.alloc_buffer(kSlotBytes);
    m_.on_interrupt = [this] { return core_.interrupt(); };
    m_.on_driver_reset = [this] { core_.reset(); };
    m_.on_message = [this](uint16_t message) { return core_.message_interrupt(message); };
    m_.progress = [this] { return core_.counters().rx_frames + core_.counters().tx_completed; };
  }

  RunResult run() {
    w7::NetCoreConfig cfg{};
    cfg.on_tx_done = &NetScenario::on_tx_done;
    cfg.on_receive = &NetScenario::on_receive;
    cfg.context = this;
    if (!options_.record.empty()) {
      m_.record(options_.record, m_.provenance(options_, "virtio-net", {}));
    }
    if (core_.init(m_.driver_os(), cfg) != w7::NetError::kNone) {
      throw SafetyFailure("core init failed");
    }
    m_.start_chaos(2000);
    schedule_send();
    if (!m_.run([this] { return accepted_ >= options_.steps; }, options_.steps * 100'000)) {
      return finish(Outcome::kLiveness, "workload stalled in the fault phase");
    }
    // Liveness: faults off, link up, everything drains.
    m_.faults.off();
    link_flaps_ = false;
    if (!device_.link_up()) set_link(true);
    const Cycles deadline = m_.now() + kLivenessBound;
    const bool quiet = m_.run(
        [this] {
          return tx_in_flight_ == 0 && peer_pending_ == 0 && device_.host_queue_frames() == 0;
        },
        deadline);
    if (!quiet) {
      return finish(Outcome::kLiveness,
                    std::to_string(tx_in_flight_) + " frames outstanding, " +
                        std::to_string(peer_pending_) + " at the peer, " +
                        std::to_string(device_.host_queue_frames()) + " waiting in the device " +
                        std::to_string(kLivenessBound) + " cycles after faults stopped");
    }
    // The interrupt for the last frames may still be on its way.
    m_.run([] { return false; }, m_.now() + 100'000);
    const auto& st = device_.stats();
    if (received_ + st.rx_overflow + st.rx_reset != peer_accepted_) {
      return finish(Outcome::kLiveness,
                    "frames lost without a count: peer delivered " +
                        std::to_string(peer_accepted_) + ", driver received " +
                        std::to_string(received_) + ", device dropped " +
                        std::to_string(st.rx_overflow + st.rx_reset));
    }
    if (core_.counters().resets > m_.resets_injected()) {
      return finish(Outcome::kSafety, unexpected_resets(core_.counters().resets, m_.resets_injected()));
    }
    // Without faults nothing may go missing at all: every frame sent comes
    // back once (the peer echoes, nothing resets, the link stays up).
    if (!options_.faults && (received_ != accepted_ || peer_accepted_ != accepted_)) {
      return finish(Outcome::kLiveness, "without faults " + std::to_string(accepted_) +
                                            " frames were sent but " + std::to_string(received_) +
                                            " came back");
    }
    return finish(Outcome::kPass, "");
  }

  RunResult fail(const std::string& message) { return finish(Outcome::kSafety, message); }

 private:
  // ---- the peer (NetBackend) ----------------------------------------------
  // The peer talks to the device directly (device_.deliver).
  void attach(model::backends::NetPort*) override {}
  void transmit(std::span<const uint8_t> frame) override {
    m_.host_output(channel::kSent, frame);
    if (ring_.selected()) return ring_transmit(std::vector<uint8_t>(frame.begin(), frame.end()));
    if (m_.faults.fire(Fault::kPeerLoss)) {
      m_.note("peer loses frame", frame.size());
      return;
    }
    // The echo waits in a buffer of the pool, reused once delivered: no
    // allocation per frame, and the event's capture fits std::function.
    uint32_t e;
    if (free_echoes_.empty()) {
      e = static_cast<uint32_t>(echoes_.size());
      echoes_.emplace_back();
    } else {
      e = free_echoes_.back();
      free_echoes_.pop_back();
    }
    std::vector<uint8_t>& echo = echoes_[e];
    echo.assign(frame.begin(), frame.end());
    std::copy(frame.begin() + 6, frame.begin() + 12, echo.begin());  // back to the sender
    std::copy(kPeerMac.begin(), kPeerMac.end(), echo.begin() + 6);
    Cycles delay = 100 + m_.timing.below(2000);
    if (m_.faults.fire(Fault::kPeerReorder)) delay += m_.timing.below(20000);
    ++peer_pending_;
    m_.events.schedule_in(delay, [this, e] { echo_frame(e); });
  }

  void echo_frame(uint32_t e) {
    m_.note("peer echoes frame", 0);
    --peer_pending_;
    const std::vector<uint8_t>& echo = echoes_[e];  // a deque: stays put if transmit() adds one
    m_.host_input(channel::kFrame, echo, [&] {
      if (device_.deliver(echo)) ++peer_accepted_;
    });
    free_echoes_.push_back(e);
  }

  // The peer of the ring mutants (sim/mutants.hpp): as transmit(), but the
  // echo waits in a ring buffer, and goes out with what that buffer holds
  // when its time comes. A frame the ring cannot take yet waits its turn.
  void ring_transmit(std::vector<uint8_t> frame) {
    if (!ring_.can_take()) {
      ++peer_pending_;
      ring_waiting_.push_back(std::move(frame));
      return;
    }
    std::copy(frame.begin() + 6, frame.begin() + 12, frame.begin());
    std::copy(kPeerMac.begin(), kPeerMac.end(), frame.begin() + 6);
    const uint32_t slot = ring_.take(std::move(frame));
    if (m_.faults.fire(Fault::kPeerLoss)) {
      m_.note("peer loses frame", slot);
      return ring_.dropped(slot);
    }
    Cycles delay = 100 + m_.timing.below(2000);
    if (m_.faults.fire(Fault::kPeerReorder)) delay += m_.timing.below(20000);
    ++peer_pending_;
    m_.at(delay, "peer echoes frame", [this, slot] {
      --peer_pending_;
      const std::vector<uint8_t> echo = ring_.bytes(slot);
      ring_.sent(slot);
      m_.host_input(channel::kFrame, echo, [&] {
        if (device_.deliver(echo)) ++peer_accepted_;
      });
      while (!ring_waiting_.empty() && ring_.can_take()) {
        std::vector<uint8_t> next = std::move(ring_waiting_.front());
        ring_waiting_.pop_front();
        --peer_pending_;
        ring_transmit(std::move(next));
      }
    });
  }

  // ---- workload ----------------------------------------------------------------
  void set_link(bool up) {
    m_.note("link", up ? 1 : 0);
    const auto bytes = NetStack::link_input(up);
    m_.host_input(channel::kLink, bytes, [&] { stack_.apply(channel::kLink, bytes); });
  }


  void schedule_send() {
    m_.events.schedule_in(work_.below(300), [this] {
      if (accepted_ >= options_.steps) return;
      if (link_flaps_ && work_.below(1000) == 0) {
        set_link(false);
        m_.at(1000 + work_.below(20000), "link back up", [this] { set_link(true); });
      }
      send_one();
      schedule_send();
    });
  }

  void send_one() {
    Slot* slot = nullptr;
    for (auto& s : slots_) {
      if (!s.busy) {
        slot = &s;
        break;
      }
    }
    if (slot == nullptr) return;
    const uint64_t seq = next_seq_;
    if (lengths_.size() <= seq) lengths_.push_back(static_cast<uint32_t>(60 + work_.below(1514 - 60 + 1)));
    const uint32_t length = lengths_[seq];
    // Built once per sequence number: a refused frame is offered again.
    std::vector<uint8_t>& frame = frame_;
    if (frame_seq_ != seq) {
      frame_seq_ = seq;
      frame.resize(length);
      std::copy(kPeerMac.begin(), kPeerMac.end(), frame.begin());
      std::copy(device_.mac().begin(), device_.mac().end(), frame.begin() + 6);
      frame[12] = kEtherType >> 8;
      frame[13] = kEtherType & 0xFF;
      for (uint32_t i = 0; i < 8; ++i) frame[kSeqOffset + i] = static_cast<uint8_t>(seq >> (8 * i));
      fill_words(frame.data() + kPatternOffset, length - kPatternOffset, pattern_key(seq));
    }
    // 1..4 fragments, each at a random offset into the slot's buffer space.
    const auto pieces = static_cast<uint32_t>(1 + work_.below(4));
    slot->fragments.clear();
    uint32_t at = 0;
    uint64_t gpa = slot->buffer;
    for (uint32_t p = 0; p < pieces && at < length; ++p) {
      const uint32_t left = length - at;
      const uint32_t len = p + 1 == pieces ? left : static_cast<uint32_t>(1 + work_.below(left));
      gpa += work_.below(8);
      m_.memory.write(gpa, frame.data() + at, len);
      slot->fragments.push_back(w7::NetFragment{gpa, len});
      gpa += len;
      at += len;
    }
    slot->seq = seq;
    slot->completions = 0;
    const w7::NetError e = core_.transmit(
        w7::NetTxFrame{slot->fragments.data(), static_cast<uint32_t>(slot->fragments.size()), slot});
    if (e == w7::NetError::kBusy || e == w7::NetError::kLinkDown) return;  // retried later
    if (e != w7::NetError::kNone) {
      return m_.safety(std::string("transmit refused a valid frame: ") + w7::to_string(e));
    }
    m_.note("driver sends frame", seq);
    m_.count_payload(length);
    slot->busy = true;
    ++tx_in_flight_;
    ++accepted_;
    ++next_seq_;
  }

  // The glue's send completion: hands the frame back to the OS (the oracles).
  static void on_tx_done(void* context, void* cookie, w7::NetTxResult result) {
    auto* self = static_cast<NetScenario*>(context);
    if (!self->m_.glue().pass_completion()) return;
    auto* slot = static_cast<Slot*>(cookie);
    self->m_.note("frame completes", slot->seq);
    if (!slot->busy || ++slot->completions != 1) {
      return self->m_.safety("frame " + std::to_string(slot->seq) + " completed twice");
    }
    if (result != w7::NetTxResult::kSent) {
      return self->m_.safety("frame " + std::to_string(slot->seq) + " aborted");
    }
    slot->busy = false;
    --self->tx_in_flight_;
  }

  // The glue's receive indication: hands the frame to the OS (the oracles).
  static void on_receive(void* context, const uint8_t* frame, uint32_t length) {
    auto* self = static_cast<NetScenario*>(context);
    if (!self->m_.glue().pass_rx_frame()) return;
    self->receive(frame, length);
  }

  void receive(const uint8_t* frame, uint32_t length) {
    ++received_;
    m_.count_payload(length);
    if (length < kPatternOffset || frame[12] != (kEtherType >> 8) || frame[13] != (kEtherType & 0xFF)) {
      return m_.safety("received a frame that was never sent (length " + std::to_string(length) + ")");
    }
    uint64_t seq = 0;
    for (uint32_t i = 0; i < 8; ++i) seq |= uint64_t{frame[kSeqOffset + i]} << (8 * i);
    m_.note("driver receives frame", seq);
    if (seq >= next_seq_ || lengths_[seq] != length) {
      return m_.safety("received frame " + std::to_string(seq) + " of length " +
                          std::to_string(length) + " was never sent so");
    }
    if (const size_t bad = words_mismatch(frame + kPatternOffset, length - kPatternOffset, pattern_key(seq));
        bad != length - kPatternOffset) {
      return m_.safety("received frame " + std::to_string(seq) + " corrupted at byte " +
                          std::to_string(kPatternOffset + bad));
    }
    if (seen_.size() <= seq) seen_.resize(seq + 1, false);
    if (seen_[seq] && core_.counters().reissued == 0) {
      return m_.safety("frame " + std::to_string(seq) + " received twice without a reissue");
    }
    seen_[seq] = true;
  }

  RunResult finish(Outcome o, const std::string& message) {
    Hash state;
    const auto& c = core_.counters();
    for (uint64_t v : {c.tx_frames, c.tx_bytes, c.tx_completed, c.rx_frames, c.rx_bytes, c.kicks,
                       c.interrupts, c.spurious, c.resets, c.os_resets, c.reissued, c.link_changes}) {
      state.add(v);
    }
    const auto& st = device_.stats();
    for (uint64_t v : {st.tx_frames, st.rx_frames, st.rx_overflow, st.rx_reset, st.tx_link_down}) {
      state.add(v);
    }
    return m_.result(o, message, state.value(), accepted_);
  }

  RunOptions options_;
  SimMachine m_;
  model::sim::Rng& work_;
  NetStack stack_;
  NetDevice& device_;
  w7::NetCore core_;
  std::array<Slot, kSlots> slots_{};
  std::vector<uint32_t> lengths_;  // by sequence number
  std::vector<bool> seen_;
  std::vector<uint8_t> frame_;     // the frame of sequence number frame_seq_
  uint64_t frame_seq_ = ~uint64_t{0};
  uint64_t next_seq_ = 0;
  uint64_t accepted_ = 0;
  uint64_t tx_in_flight_ = 0;
  uint64_t peer_pending_ = 0;
  uint64_t peer_accepted_ = 0;
  std::deque<std::vector<uint8_t>> echoes_;  // frames on their way back; see transmit()
  std::vector<uint32_t> free_echoes_;
  PeerRing ring_;  // used by the ring mutants only
  std::deque<std::vector<uint8_t>> ring_waiting_;
  uint64_t received_ = 0;
  bool link_flaps_ = true;
};

}  // namespace

RunResult run_net(const RunOptions& options) { return run_scenario<NetScenario>(options); }

}  // namespace aerov::sim
