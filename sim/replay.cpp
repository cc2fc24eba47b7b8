#include "sim/replay.hpp"

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/host/testing/core_machine.hpp"
#include "model/backends/net/scripted_peer.hpp"
#include "sim/device_recorder.hpp"
#include "sim/device_stacks.hpp"
#include "sim/memory_shadow.hpp"
#include "sim/mutants.hpp"
#include "sim/trace_channels.hpp"
#include "traces/trace_dump.hpp"
#include "transport/device/forwarding_device.hpp"

namespace aerov::sim {

namespace {

using traces::Event;
using traces::EventKind;
using traces::EventView;
using traces::FieldType;
namespace make = traces::make;

// A device-side effect the replay produced, waiting to be matched against
// the recording. Payload bytes live in Effects' one buffer, so producing and
// matching effects allocates nothing once the buffers have grown.
struct Effect {
  EventKind kind;
  uint16_t channel = 0;  // host_output
  uint32_t length = 0;   // dma_write, host_output: payload bytes
  uint64_t a = 0;        // dma_write gpa, msi address, intx level
  uint64_t b = 0;        // msi data; dma_write, host_output: payload offset
  const uint8_t* at = nullptr;  // push_in_place: the payload itself
};

class Effects {
 public:
  bool empty() const { return head_ == items_.size(); }
  const Effect& front() const { return items_[head_]; }
  void pop() {
    if (++head_ == items_.size()) {
      items_.clear();
      bytes_.clear();
      head_ = 0;
    }
  }
  void push(Effect e, std::span<const uint8_t> payload = {}) {
    e.b = e.length = 0;
    if (!payload.empty() || e.kind == EventKind::kDmaWrite || e.kind == EventKind::kHostOutput) {
      e.b = bytes_.size();
      e.length = static_cast<uint32_t>(payload.size());
      bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    }
    items_.push_back(e);
  }
  // A payload that stays put until the effect is matched, so not copied:
  // the memory shadow's copy of a dma_write's bytes, which only the next
  // driver-side event changes, and that waits for every effect to be
  // matched (or the replay to stop).
  void push_in_place(Effect e, std::span<const uint8_t> payload) {
    e.at = payload.data();
    e.length = static_cast<uint32_t>(payload.size());
    e.b = 0;
    items_.push_back(e);
  }
  void push_msi(uint64_t address, uint32_t data) {
    items_.push_back(Effect{EventKind::kMsi, 0, 0, address, data});
  }
  std::span<const uint8_t> payload(const Effect& e) const {
    return {e.at != nullptr ? e.at : bytes_.data() + e.b, e.length};
  }

  // The recorded event `e` is this effect (device 0, as the replay makes them).
  bool matches(const Effect& g, const EventView& e) const {
    if (e.kind != static_cast<uint16_t>(g.kind)) return false;
    const auto& f = e.fields;
    const auto is = [&f](size_t i, FieldType t) { return f[i].type == t; };
    switch (g.kind) {
      case EventKind::kDmaWrite:
        return f.size() == 3 && is(0, FieldType::kU8) && is(1, FieldType::kU64) &&
               is(2, FieldType::kBytes) && f[0].value == 0 && f[1].value == g.a &&
               same(e.bytes(2), payload(g));
      case EventKind::kIntx:
        return f.size() == 2 && is(0, FieldType::kU8) && is(1, FieldType::kU8) && f[0].value == 0 &&
               f[1].value == g.a;
      case EventKind::kMsi:
        return f.size() == 3 && is(0, FieldType::kU8) && is(1, FieldType::kU64) &&
               is(2, FieldType::kU32) && f[0].value == 0 && f[1].value == g.a && f[2].value == g.b;
      case EventKind::kHostOutput:
        return f.size() == 3 && is(0, FieldType::kU8) && is(1, FieldType::kU16) &&
               is(2, FieldType::kBytes) && f[0].value == 0 && f[1].value == g.channel &&
               same(e.bytes(2), payload(g));
      default:
        return false;
    }
  }

  // The effect as an event, for a divergence report.
  Event to_event(const Effect& g, uint64_t t) const {
    switch (g.kind) {
      case EventKind::kDmaWrite: return make::dma_write(t, 0, g.a, payload(g));
      case EventKind::kIntx: return make::intx(t, 0, static_cast<uint8_t>(g.a));
      case EventKind::kMsi: return make::msi(t, 0, g.a, static_cast<uint32_t>(g.b));
      default: return make::host_output(t, 0, g.channel, payload(g));
    }
  }

 private:
  static bool same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
  }
  std::vector<Effect> items_;
  std::vector<uint8_t> bytes_;
  size_t head_ = 0;
};

// Doorbells reach the device only when the trace says the device looked.
class ReplayGate final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (passthrough || (q < 32 && (immediate >> q & 1) != 0)) inner().queue_notify(q, t);
  }
  bool passthrough = false;
  uint32_t immediate = 0;  // queues the recorded machine served at the doorbell
};

// The net device's peer during a replay: what the device sends is a
// device-side effect to compare. A recorded guest run's peer (a
// ScriptedPeer) is rebuilt behind it and answers as it did.
class CapturePeer final : public model::backends::NetBackend {
 public:
  CapturePeer(Effects& out, model::backends::NetBackend* inner) : out_(out), inner_(inner) {}
  void attach(model::backends::NetPort* port) override {
    if (inner_ != nullptr) inner_->attach(port);
  }
  void transmit(std::span<const uint8_t> frame) override {
    out_.push(Effect{EventKind::kHostOutput, channel::kSent}, frame);
    if (inner_ != nullptr) inner_->transmit(frame);
  }

 private:
  Effects& out_;
  model::backends::NetBackend* inner_;
};

// A JSON array of exactly N bytes, as a guest run's recorder writes a MAC
// or IPv4 address.
template <size_t N>
bool byte_array(const nlohmann::json& j, std::array<uint8_t, N>& out) {
  if (!j.is_array() || j.size() != N) return false;
  for (size_t i = 0; i < N; ++i) {
    if (!j[i].is_number_unsigned() || j[i].get<uint64_t>() > 255) return false;
    out[i] = j[i].get<uint8_t>();
  }
  return true;
}

// The snd device's sink during a replay: what it plays is a device-side
// effect to compare.
class CaptureSink final : public model::backends::AudioSink {
 public:
  explicit CaptureSink(Effects& out) : out_(out) {}
  void write(std::span<const uint8_t> pcm) override {
    out_.push(Effect{EventKind::kHostOutput, channel::kPlayed}, pcm);
  }

 private:
  Effects& out_;
};

bool device_side(EventKind k) {
  return k == EventKind::kDmaWrite || k == EventKind::kIntx || k == EventKind::kMsi ||
         k == EventKind::kHostOutput;
}

class Replayer {
 public:
  explicit Replayer(const traces::Trace& t) : trace_(t), machine_(low_ram_bytes(t)) {}

  ReplayResult run() {
    if (!build()) return result_;
    const traces::EventList& events = trace_.events;
    for (size_t i = 0; i < events.size(); ++i) {
      if (!step(i, events[i])) return result_;
      ++result_.events;
    }
    if (!generated_.empty()) {
      diverge_effect(trace_.events.size(), nullptr, &generated_.front(),
              "the replay produced more than the recording has");
      return result_;
    }
    result_.ok = true;
    return result_;
  }

 private:
  // A guest run (DeviceRecorder) names the RAM its guest had.
  static uint64_t low_ram_bytes(const traces::Trace& t) {
    const auto cfg = nlohmann::json::parse(t.provenance.config_json, nullptr, false);
    using drivers::host::testing::CoreMachine;
    if (!cfg.is_object() || !cfg.contains("ram_bytes") || !cfg["ram_bytes"].is_number_unsigned()) {
      return CoreMachine::kRamBytes;
    }
    const uint64_t bytes = cfg["ram_bytes"].get<uint64_t>();
    const bool fits = bytes != 0 && bytes <= kGuestRunRamLimit && bytes % model::GuestMemory::kPageSize == 0;
    return fits ? bytes : CoreMachine::kRamBytes;  // build() then fails on the ranges
  }

  bool build() {
    // From the start: the shadow then copies only what set-up wrote.
    machine_.memory.set_dirty_logging(true);
    const auto& p = trace_.provenance;
    nlohmann::json cfg = nlohmann::json::parse(p.config_json, nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object() || !cfg.contains("ranges") ||
        !cfg["ranges"].is_array()) {
      return fail("provenance config is not the JSON a recorded run writes");
    }
    std::vector<MemoryShadow::Range> ranges;
    for (const auto& r : cfg["ranges"]) {
      if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() ||
          !r[1].is_number_unsigned() || r[0].get<uint64_t>() > r[1].get<uint64_t>()) {
        return fail("provenance config has a bad memory range");
      }
      ranges.emplace_back(r[0].get<uint64_t>(), r[1].get<uint64_t>());
    }
    Mutant mutant = Mutant::kNone;
    if (cfg.contains("mutant") &&
        (!cfg["mutant"].is_string() || !parse_mutant(cfg["mutant"].get<std::string>(), &mutant))) {
      return fail("provenance config names an unknown mutant");
    }
    transport::VirtioDevice* device = nullptr;
    const contract::DeviceSpec* spec = nullptr;
    const bool guest_run = cfg.contains("source") && cfg["source"] == "vhost-user";
    if (p.scenario == "blk" && guest_run) {
      if (!cfg.contains("disk_sectors") || !cfg["disk_sectors"].is_number_unsigned() ||
          cfg["disk_sectors"].get<uint64_t>() > (uint64_t{1} << 21)) {
        return fail("guest blk trace without a disk_sectors of at most 2^21 (1 GiB) in its configuration");
      }
      blk_.emplace(cfg["disk_sectors"].get<uint64_t>());
      device = &blk_->device;
      spec = &contract::kBlk;
    } else if (p.scenario == "blk") {
      if (!cfg.contains("disk_seed") || !cfg["disk_seed"].is_number_unsigned()) {
        return fail("blk trace without disk_seed in its configuration");
      }
      blk_.emplace(cfg["disk_seed"].get<uint64_t>(), mutant);
      device = &blk_->device;
      spec = &contract::kBlk;
    } else if (p.scenario == "net" && guest_run) {
      model::backends::MacAddress mac{};
      model::backends::Ipv4Address ip{};
      model::devices::NetDeviceOptions options;
      if (!cfg.contains("peer_mac") || !byte_array(cfg["peer_mac"], mac) || !cfg.contains("peer_ip") ||
          !byte_array(cfg["peer_ip"], ip) || !cfg.contains("net_header_bytes") ||
          (cfg["net_header_bytes"] != 10 && cfg["net_header_bytes"] != 12)) {
        return fail("guest net trace without peer_mac, peer_ip and a net_header_bytes of 10 or 12");
      }
      options.header_bytes = cfg["net_header_bytes"].get<uint32_t>();
      scripted_peer_ = std::make_unique<model::backends::ScriptedPeer>(mac, ip);
      peer_ = std::make_unique<CapturePeer>(generated_, scripted_peer_.get());
      net_.emplace(peer_.get(), options);
      device = &net_->device;
      spec = &contract::kNet;
    } else if (p.scenario == "net") {
      peer_ = std::make_unique<CapturePeer>(generated_, nullptr);
      net_.emplace(peer_.get());
      device = &net_->device;
      spec = &contract::kNet;
    } else if (p.scenario == "snd") {
      sink_ = std::make_unique<CaptureSink>(generated_);
      snd_.emplace(sink_.get());
      device = &snd_->device;
      spec = &contract::kSnd;
    } else if (p.scenario == "input") {
      input_.emplace();
      device = &input_->device;
      spec = &contract::kInput;
    } else {
      return fail("no device stack for scenario '" + p.scenario + "'");
    }
    device = &with_mutant(mutant, *device, mutant_);
    uint16_t msix_messages = 0;
    if (cfg.contains("msix_messages")) {
      if (!cfg["msix_messages"].is_number_unsigned() || cfg["msix_messages"].get<uint64_t>() > 4) {
        return fail("provenance config has a bad msix_messages");
      }
      msix_messages = cfg["msix_messages"].get<uint16_t>();
    }
    gate_ = std::make_unique<ReplayGate>(*device);
    if (cfg.contains("immediate_queues")) {
      if (!cfg["immediate_queues"].is_number_unsigned()) {
        return fail("provenance config has a bad immediate_queues");
      }
      gate_->immediate = cfg["immediate_queues"].get<uint32_t>();
    }
    if (msix_messages != 0) machine_.set_msix_vectors(4);
    machine_.attach(*gate_, *spec);
    machine_.os->trace_mmio(false);
    // The platform's grant, as the recorded machine made it before recording.
    if (msix_messages != 0) machine_.os->grant_msix_messages(msix_messages);
    machine_.on_msi = [this](const model::irq::MsiMessage& m) {
      generated_.push_msi(m.address, m.data);
      machine_.msi_messages.clear();
    };
    machine_.intx.set_sink(
        [this](bool level) { generated_.push(Effect{EventKind::kIntx, 0, 0, level ? 1u : 0u}); });
    // The bytes a sync reports are the shadow's copy (the copy now equals
    // memory there): see Effects::push_in_place.
    on_change_ = [this](uint64_t gpa, std::span<const uint8_t> bytes) {
      generated_.push_in_place(Effect{EventKind::kDmaWrite, 0, 0, gpa}, bytes);
    };
    machine_.memory.take_dirty_spans(spans_);
    try {
      shadow_.emplace(machine_.memory, ranges, spans_);  // the machine's RAM starts zero
    } catch (const std::exception& e) {
      return fail(std::string("provenance config: ") + e.what());
    }
    return true;
  }

  // Inlined into run(): a call per event, and the view it passes, cost a
  // measurable share of a replay.
  [[gnu::always_inline]] bool step(size_t i, const EventView& e) {
    if (e.undescribed) return true;  // a kind this build does not know
    const EventKind k = e.event_kind();
    if (device_side(k)) {
      if (generated_.empty()) return diverge(i, &e, nullptr, "the replay did not produce it");
      const Effect& got = generated_.front();
      if (!generated_.matches(got, e)) return diverge_effect(i, &e, &got, "the device did something else");
      generated_.pop();
      return true;
    }
    if (k == EventKind::kNote || k == EventKind::kDmaRead) return true;
    if (!generated_.empty()) {
      return diverge_effect(i, &e, &generated_.front(),
                     "the replay produced an event the recording does not have here");
    }
    auto& os = *machine_.os;
    switch (k) {
      case EventKind::kConfigRead: {
        const uint32_t v = os.config_read(static_cast<uint16_t>(e.u(1)), static_cast<uint8_t>(e.u(2)));
        if (v != e.u(3)) {
          const Event got = make::config_read(e.time_cycles, 0, static_cast<uint16_t>(e.u(1)),
                                              static_cast<uint8_t>(e.u(2)), v);
          return diverge(i, &e, &got, "a config read returned another value");
        }
        return true;
      }
      case EventKind::kConfigWrite:
        os.config_write(static_cast<uint16_t>(e.u(1)), static_cast<uint8_t>(e.u(2)),
                        static_cast<uint32_t>(e.u(3)));
        device_changes();
        return true;
      case EventKind::kMmioRead: {
        const uint32_t v = os.mmio_read(static_cast<uint8_t>(e.u(1)), static_cast<uint32_t>(e.u(2)),
                                        static_cast<uint8_t>(e.u(3)));
        if (v != e.u(4)) {
          const Event got = make::mmio_read(e.time_cycles, 0, static_cast<uint8_t>(e.u(1)),
                                            static_cast<uint32_t>(e.u(2)),
                                            static_cast<uint8_t>(e.u(3)), v);
          return diverge(i, &e, &got, "a BAR read returned another value");
        }
        return true;
      }
      case EventKind::kMmioWrite:
        os.mmio_write(static_cast<uint8_t>(e.u(1)), static_cast<uint32_t>(e.u(2)),
                      static_cast<uint8_t>(e.u(3)), static_cast<uint32_t>(e.u(4)));
        device_changes();
        return true;
      case EventKind::kMemWrite: {
        // In one RAM region (the usual case) the translation is the check.
        const uint64_t gpa = e.u(0);
        const std::span<const uint8_t> bytes = e.data(1);
        uint8_t* host = machine_.memory.translate(gpa, bytes.size());
        if (host == nullptr && machine_.memory.check(gpa, bytes.size()) != model::MemError::kOk) {
          return diverge(i, &e, nullptr, "mem_write outside guest RAM");
        }
        shadow_->apply(machine_.memory, gpa, bytes, host);
        return true;
      }
      case EventKind::kDoorbell:
        gate_->passthrough = true;
        machine_.function->process_queue(static_cast<uint16_t>(e.u(1)));
        gate_->passthrough = false;
        device_changes();
        return true;
      case EventKind::kHostInput: {
        const auto ch = static_cast<uint16_t>(e.u(1));
        bool known = false;
        if (ch == channel::kNeedsReset) {
          machine_.function->set_needs_reset();
          known = true;
        } else if (blk_) {
          known = blk_->apply(ch, e.data(2));
        } else if (net_) {
          known = net_->apply(ch, e.data(2));
        } else if (input_) {
          known = input_->apply(ch, e.data(2));
        } else if (snd_) {
          known = snd_->apply(ch, e.data(2));
        }
        return known || diverge(i, &e, nullptr, "a host_input this device stack does not know");
      }
      case EventKind::kStateHash:
        if (const uint64_t h = shadow_->hash(); h != e.u(0)) {
          const Event got = make::state_hash(e.time_cycles, h);
          return diverge(i, &e, &got, "guest memory differs from the recording");
        }
        return true;
      default:
        return true;
    }
  }

  // Only bytes the device model wrote (the memory's dirty log) can differ
  // from the shadow: mem_write events go to both.
  void device_changes() {
    machine_.memory.take_dirty_spans(spans_);
    if (!spans_.empty()) shadow_->sync_spans(spans_, on_change_);
  }

  bool fail(const std::string& message) {
    result_.message = message;
    return false;
  }

  static std::string line(const Event& e) {
    const traces::EventList one(std::vector<Event>{e});
    return traces::event_line(traces::find_v1_kind(e.kind), one[0]);
  }

  bool diverge(size_t index, const EventView* recorded, const Event* replayed, const char* what) {
    result_.index = index;
    if (recorded != nullptr) {
      result_.recorded = traces::event_line(traces::find_v1_kind(recorded->kind), *recorded);
    }
    if (replayed != nullptr) {
      Event shown = *replayed;
      if (recorded != nullptr) shown.time_cycles = recorded->time_cycles;
      result_.replayed = line(shown);
    }
    result_.message = "divergence at event " + std::to_string(index) + ": " + what;
    return false;
  }

  bool diverge_effect(size_t index, const EventView* recorded, const Effect* replayed,
                      const char* what) {
    const Event got = generated_.to_event(*replayed, 0);
    return diverge(index, recorded, &got, what);
  }

  const traces::Trace& trace_;
  ReplayResult result_;
  drivers::host::testing::CoreMachine machine_;
  std::optional<BlkStack> blk_;
  std::unique_ptr<model::backends::ScriptedPeer> scripted_peer_;
  std::unique_ptr<CapturePeer> peer_;
  std::optional<NetStack> net_;
  std::optional<InputStack> input_;
  std::unique_ptr<CaptureSink> sink_;
  std::optional<SndStack> snd_;
  std::unique_ptr<transport::VirtioDevice> mutant_;
  std::unique_ptr<ReplayGate> gate_;
  std::optional<MemoryShadow> shadow_;
  std::vector<model::GuestMemory::Span> spans_;
  MemoryShadow::Change on_change_;  // device_changes(): a dma_write effect per run
  Effects generated_;
};

}  // namespace

ReplayResult replay(const traces::Trace& trace) {
  auto r = std::make_unique<Replayer>(trace);
  return r->run();
}

}  // namespace aerov::sim
