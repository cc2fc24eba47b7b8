// Scenario "blk": the Windows 7 blk core drives the virtio-blk device model
// on a RAM disk behind a FaultyDisk (seeded I/O errors and latency).
//
// Workload: reads, writes and flushes of 1..64 sectors at random places, in
// 1..8 scatter-gather pieces of random sizes inside per-slot guest buffers
// (low and high RAM), at most kSlots in flight, never two in flight over
// the same sectors (their order would be undefined).
//
// Oracles. Safety: every accepted request completes exactly once; without
// an injected backend error every result is success; a successful read
// returns exactly what the shadow disk holds for every sector whose content
// is known (a failed write makes its sectors unknown: it may or may not have
// executed before a reset reissued it). Liveness: with faults off, every
// request completes; then a FLUSH, and the RAM disk equals the shadow.
//
// Write data: payload words (sim/payload_words.hpp) from one draw per
// write. So the shadow keeps per sector only which write's which sector it
// holds (or zero, never written), and checks regenerate the bytes.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#include "drivers/windows7/common/blk_core.hpp"
#include "sim/device_stacks.hpp"
#include "sim/payload_words.hpp"
#include "sim/scenarios.hpp"
#include "sim/sim_machine.hpp"
#include "sim/trace_channels.hpp"

namespace aerov::sim {

namespace {

namespace w7 = drivers::windows7;
using model::backends::DiskStatus;

constexpr uint64_t kSectors = BlkStack::kSectors;
constexpr uint32_t kMaxSectorsPerRequest = 64;
constexpr uint32_t kMaxPieces = 8;  // scatter-gather pieces per request
constexpr size_t kSlots = 48;
constexpr uint64_t kAllSlots = (uint64_t{1} << kSlots) - 1;  // a bit per slot
static_assert(kSlots < 64);
constexpr Cycles kLivenessBound = 20'000'000;
constexpr uint32_t kSectorWords = 512 / 8;
constexpr uint8_t kPoison = 0xA5;  // see submit_one()

// What a sector holds as far as the workload knows.
struct SectorShadow {
  uint64_t key = 0;    // the write's draw
  uint32_t index = 0;  // the sector's place in that write
  bool written = false;  // false: never written, all zero
  bool known = true;     // false: a failed write may or may not have landed
};

// Does `p` (512 bytes) hold what `e` says?
bool holds(const SectorShadow& e, const uint8_t* p) {
  static constexpr std::array<uint8_t, 512> kZero{};
  if (!e.written) return std::memcmp(p, kZero.data(), 512) == 0;
  return words_mismatch(p, 512, e.key + uint64_t{e.index} * kSectorWords * kWordStep) == 512;
}

struct Slot {
  int completions = 0;
  uint64_t serial = 0;
  uint64_t buffer = 0;  // guest address of this slot's data area
  w7::BlkRequest req{};
  std::vector<w7::BlkSgElement> sg;
  uint64_t key = 0;  // a write's draw (see holds())
};

class BlkScenario {
 public:
  explicit BlkScenario(const RunOptions& o)
      : options_(o),
        m_(SimMachineOptions{o.seed, o.faults,
                             {Fault::kBackendIoError, Fault::kBackendLatency, Fault::kIrqDelay,
                              Fault::kIrqCoalesce, Fault::kSpuriousIrq, Fault::kSpuriousDoorbell,
                              Fault::kNeedsReset, Fault::kDriverReset}}),
        work_(m_.rng.stream("workload")),
        disk_seed_(m_.rng.stream("disk").next()),
        stack_(disk_seed_, o.mutant),
        shadow_(kSectors) {
    m_.attach_device(stack_.device, contract::kBlk, o.mutant);
    for (auto& s : slots_) {
      s.buffer = m_.alloc_buffer(kMaxSectorsPerRequest * 512 + 4096);
    }
    pending_.assign(kSlots, nullptr);
    m_.on_interrupt = [this] { return core_.interrupt(); };
    m_.on_driver_reset = [this] { core_.reset(); };
    m_.on_message = [this](uint16_t message) { return core_.message_interrupt(message); };
    m_.progress = [this] { return core_.counters().completed; };
  }

  RunResult run() {
    w7::BlkCoreConfig cfg{};
    cfg.on_complete = &BlkScenario::on_complete;
    cfg.context = this;
    cfg.pending = pending_.data();
    cfg.pending_capacity = static_cast<uint16_t>(pending_.size());
    if (!options_.record.empty()) {
      m_.record(options_.record, m_.provenance(options_, "virtio-blk", {{"disk_seed", disk_seed_}}));
    }
    if (m_.faults.enabled(Fault::kBackendIoError)) {
      disk_input(channel::kDiskErrors,
                 BlkStack::errors_input(m_.faults.rate_ppm(Fault::kBackendIoError),
                                        model::backends::kFaultRead |
                                            model::backends::kFaultWrite |
                                            model::backends::kFaultFlush));
    }
    if (core_.init(m_.driver_os(), cfg) != w7::BlkError::kNone) {
      throw SafetyFailure("core init failed");
    }
    m_.start_chaos(2000);
    disk_tick();
    // Fault phase: `steps` operations.
    schedule_submit();
    const bool issued = m_.run([this] { return submitted_ >= options_.steps; },
                               options_.steps * 100'000);
    if (!issued) return finish(Outcome::kLiveness, "workload stalled in the fault phase");
    // Liveness phase.
    m_.faults.off();
    disk_input(channel::kDiskErrors, BlkStack::errors_input(0, 0));
    disk_input(channel::kDiskDelay, BlkStack::delay_input(0, 3));
    const Cycles deadline = m_.now() + kLivenessBound;
    if (!m_.run([this] { return in_flight() == 0; }, deadline)) {
      return finish(Outcome::kLiveness, std::to_string(in_flight()) +
                                            " requests outstanding " +
                                            std::to_string(kLivenessBound) +
                                            " cycles after faults stopped");
    }
    // Everything durable: a final flush, then the disk must equal the shadow.
    Slot* f = submit_flush();
    if (f == nullptr) return finish(Outcome::kSafety, "final flush refused");
    if (!m_.run([this] { return in_flight() == 0; }, m_.now() + kLivenessBound)) {
      return finish(Outcome::kLiveness, "final flush never completed");
    }
    if (!final_flush_ok_) return finish(Outcome::kSafety, "final flush failed with faults off");
    if (core_.counters().resets > m_.resets_injected()) {
      return finish(Outcome::kSafety, unexpected_resets(core_.counters().resets, m_.resets_injected()));
    }
    uint64_t bad = kSectors;
    const bool read = for_each_disk_piece([&](uint64_t first, std::span<const uint8_t> bytes) {
      for (uint64_t s = first; s < first + bytes.size() / 512 && bad == kSectors; ++s) {
        if (shadow_[s].known && !holds(shadow_[s], bytes.data() + (s - first) * 512)) bad = s;
      }
    });
    if (!read) throw SafetyFailure("reading the RAM disk back failed");
    if (bad != kSectors) {
      return finish(Outcome::kSafety, "disk sector " + std::to_string(bad) +
                                          " differs from the shadow after the final flush");
    }
    return finish(Outcome::kPass, "");
  }

  RunResult fail(const std::string& message) { return finish(Outcome::kSafety, message); }

 private:
  // Changes the backend as a recorded host action.
  void disk_input(uint16_t ch, const std::vector<uint8_t>& bytes) {
    m_.host_input(ch, bytes, [&] { stack_.apply(ch, bytes); });
  }


  // The backend makes progress on its own clock.
  void disk_tick() {
    m_.events.schedule_in(100 + m_.timing.below(300), [this] {
      if (stack_.disk.in_flight() != 0) m_.serve_soon(0, 0);
      if (m_.faults.fire(Fault::kBackendLatency)) {
        m_.note("backend latency spike", 0);
        disk_input(channel::kDiskDelay, BlkStack::delay_input(20, 200));
        spike_ = true;
      } else if (spike_ && m_.faults.active()) {
        disk_input(channel::kDiskDelay, BlkStack::delay_input(0, 3));
        spike_ = false;
      }
      disk_tick();
    });
  }

  void schedule_submit() {
    m_.events.schedule_in(work_.below(400), [this] {
      m_.note("driver submits", submitted_);
      if (submitted_ < options_.steps) {
        submit_one();
        schedule_submit();
      }
    });
  }

  uint64_t bit(const Slot& s) const { return uint64_t{1} << (&s - slots_.data()); }
  bool busy(const Slot& s) const { return (busy_ & bit(s)) != 0; }
  uint64_t in_flight() const { return static_cast<uint64_t>(std::popcount(busy_)); }

  Slot* free_slot() {
    const uint64_t free = ~busy_ & kAllSlots;
    return free == 0 ? nullptr : &slots_[static_cast<size_t>(std::countr_zero(free))];
  }

  bool overlaps(uint64_t sector, uint32_t count) const {
    for (uint64_t m = busy_; m != 0; m &= m - 1) {
      const Slot& s = slots_[static_cast<size_t>(std::countr_zero(m))];
      if (s.req.op != w7::BlkOp::kFlush && sector < s.req.sector + s.req.sector_count &&
          s.req.sector < sector + count) {
        return true;
      }
    }
    return false;
  }

  void submit_one() {
    Slot* slot = free_slot();
    if (slot == nullptr) return;  // queue depth reached; try again next time
    const uint64_t dice = work_.below(100);
    if (dice < 8) {
      if (submit_flush() != nullptr) ++submitted_;
      return;
    }
    const auto count = static_cast<uint32_t>(1 + work_.below(kMaxSectorsPerRequest));
    const uint64_t sector = work_.below(kSectors - count + 1);
    if (overlaps(sector, count)) return;
    slot->req = w7::BlkRequest{};
    slot->req.op = dice < 54 ? w7::BlkOp::kWrite : w7::BlkOp::kRead;
    slot->req.sector = sector;
    slot->req.sector_count = count;
    // 1..8 pieces with random cut points, each starting at a random offset
    // inside the slot's area (DMA-1: no alignment).
    const uint32_t bytes = count * 512;
    const auto pieces = static_cast<uint32_t>(1 + work_.below(std::min(kMaxPieces, bytes)));
    std::vector<uint32_t>& cuts = cuts_;  // scratch, reused per request
    cuts.assign({0, bytes});
    for (uint32_t i = 1; i < pieces; ++i) cuts.push_back(static_cast<uint32_t>(1 + work_.below(bytes - 1)));
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    slot->sg.clear();
    uint64_t at = slot->buffer;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      const uint32_t len = cuts[i + 1] - cuts[i];
      at += work_.below(8);  // small gaps between pieces
      slot->sg.push_back(w7::BlkSgElement{at, len});
      at += len;
    }
    if (slot->req.op == w7::BlkOp::kWrite) {
      // The data goes straight into the pieces.
      slot->key = work_.next();
      uint32_t off = 0;
      for (const auto& e : slot->sg) {
        uint8_t* host = m_.memory.translate(e.addr, e.len);
        if (host == nullptr) throw SafetyFailure("a request buffer left guest RAM");
        fill_words(host, e.len, slot->key, off);
        m_.memory.note_write(e.addr, e.len);
        off += e.len;
      }
    } else {
      // The read must overwrite every byte. A sector whose buffer already
      // holds what the read should return (read again into the same
      // place, or zeroes for a never-written sector) gets poison; the
      // others keep their stale bytes, which differ from what is wanted,
      // so a recording has no mem_write for them.
      for_each_sector(*slot, [&](uint32_t i, std::span<const Part> parts, const uint8_t* now) {
        const SectorShadow& want = shadow_[sector + i];
        if (!want.known || !holds(want, now)) return;
        for (const Part& p : parts) {
          std::memset(p.host, kPoison, p.len);
          m_.memory.note_write(p.gpa, p.len);
        }
      });
    }
    slot->req.sg = slot->sg.data();
    slot->req.sg_count = static_cast<uint32_t>(slot->sg.size());
    start(*slot);
  }

  Slot* submit_flush() {
    Slot* slot = free_slot();
    if (slot == nullptr) return nullptr;
    slot->req = w7::BlkRequest{};
    slot->req.op = w7::BlkOp::kFlush;
    slot->sg.clear();
    return start(*slot) ? slot : nullptr;
  }

  bool start(Slot& slot) {
    slot.req.cookie = &slot;
    busy_ |= bit(slot);
    slot.completions = 0;
    slot.serial = serial_++;
    const w7::BlkError e = core_.submit(&slot.req);
    if (e == w7::BlkError::kBusy) {  // allowed: the caller retries later
      busy_ &= ~bit(slot);
      return false;
    }
    if (e != w7::BlkError::kNone) {
      m_.safety(std::string("submit refused a valid request: ") + w7::to_string(e));
      return false;
    }
    if (slot.req.op != w7::BlkOp::kFlush) ++submitted_;
    return true;
  }

  // Where a request's sector lies in guest memory: one part per
  // scatter-gather piece it touches (a piece may be a single byte).
  struct Part {
    uint64_t gpa;
    uint8_t* host;
    uint32_t len;
  };

  // Calls fn(i, parts, bytes) for each sector i of the slot's request:
  // the parts that hold it and its 512 bytes, in place when one part
  // holds them, else gathered into scratch_.
  template <typename Fn>
  void for_each_sector(const Slot& slot, Fn&& fn) {
    std::array<uint8_t*, kMaxPieces> host;  // each piece's bytes, translated once
    for (size_t k = 0; k < slot.sg.size(); ++k) {
      host[k] = m_.memory.translate(slot.sg[k].addr, slot.sg[k].len);
      if (host[k] == nullptr) throw SafetyFailure("a request buffer left guest RAM");
    }
    std::array<Part, kMaxPieces> parts;  // a sector spans at most all pieces
    size_t piece = 0;
    uint32_t within = 0;  // bytes of the piece already visited
    for (uint32_t i = 0; i < slot.req.sector_count; ++i) {
      size_t count = 0;
      for (uint32_t done = 0; done < 512;) {
        const w7::BlkSgElement& e = slot.sg[piece];
        const uint32_t n = std::min<uint32_t>(e.len - within, 512 - done);
        parts[count++] = Part{e.addr + within, host[piece] + within, n};
        done += n;
        within += n;
        if (within == e.len) {
          ++piece;
          within = 0;
        }
      }
      const uint8_t* bytes = parts[0].host;
      if (count > 1) {
        uint32_t at = 0;
        for (size_t k = 0; k < count; ++k) {
          std::memcpy(scratch_.data() + at, parts[k].host, parts[k].len);
          at += parts[k].len;
        }
        bytes = scratch_.data();
      }
      fn(i, std::span<const Part>(parts.data(), count), bytes);
    }
  }

  static void on_complete(void* context, w7::BlkRequest* request, w7::BlkResult result) {
    static_cast<BlkScenario*>(context)->complete(*static_cast<Slot*>(request->cookie), result);
  }

  void complete(Slot& slot, w7::BlkResult result) {
    m_.note("request completes", slot.serial);
    if (!busy(slot) || ++slot.completions != 1) {
      return m_.safety("request " + std::to_string(slot.serial) + " completed twice");
    }
    const bool errors_possible = stack_.disk.injected_errors() != 0;
    if (result != w7::BlkResult::kSuccess && !(errors_possible && result == w7::BlkResult::kIoError)) {
      return m_.safety("request " + std::to_string(slot.serial) + " completed " +
                          w7::to_string(result) + " with no backend error injected");
    }
    const w7::BlkRequest& r = slot.req;
    if (r.op != w7::BlkOp::kFlush && result == w7::BlkResult::kSuccess) {
      m_.count_payload(uint64_t{r.sector_count} * 512);
    }
    if (r.op == w7::BlkOp::kWrite) {
      const bool ok = result == w7::BlkResult::kSuccess;
      for (uint32_t i = 0; i < r.sector_count; ++i) {
        SectorShadow& e = shadow_[r.sector + i];
        e.known = ok;
        if (ok) e = SectorShadow{slot.key, i, true, true};
      }
    } else if (r.op == w7::BlkOp::kRead && result == w7::BlkResult::kSuccess) {
      // Each sector is checked where it landed, or gathered first when it
      // straddles pieces; before the read, none held what it should read.
      uint32_t bad = r.sector_count;
      for_each_sector(slot, [&](uint32_t i, std::span<const Part>, const uint8_t* got) {
        const SectorShadow& want = shadow_[r.sector + i];
        if (bad == r.sector_count && want.known && !holds(want, got)) bad = i;
      });
      if (bad != r.sector_count) {
        return m_.safety("read " + std::to_string(slot.serial) + " returned wrong data for sector " +
                         std::to_string(r.sector + bad));
      }
    } else if (r.op == w7::BlkOp::kFlush) {
      final_flush_ok_ = result == w7::BlkResult::kSuccess;
    }
    ++completed_;
    busy_ &= ~bit(slot);
  }

  // Calls fn(first sector, bytes) for the RAM disk's content, a 64 KiB
  // piece at a time (one buffer, reused: it stays in cache); false if the
  // disk could not be read.
  template <typename Fn>
  bool for_each_disk_piece(Fn&& fn) {
    constexpr uint64_t kPieceSectors = sizeof(piece_) / 512;
    for (uint64_t s = 0; s < kSectors; s += kPieceSectors) {
      const std::span<uint8_t> piece(piece_.data(), std::min(kPieceSectors, kSectors - s) * 512);
      if (model::backends::read_sync(stack_.ram, s, piece) != DiskStatus::kOk) return false;
      fn(s, std::span<const uint8_t>(piece));
    }
    return true;
  }

  RunResult finish(Outcome o, const std::string& message) {
    Hash state;
    for_each_disk_piece(
        [&](uint64_t, std::span<const uint8_t> bytes) { state.add_bytes(bytes.data(), bytes.size()); });
    const auto& c = core_.counters();
    for (uint64_t v : {c.submitted, c.completed, c.parts_issued, c.kicks, c.interrupts, c.spurious,
                       c.resets, c.os_resets, c.reissued, c.io_errors}) {
      state.add(v);
    }
    return m_.result(o, message, state.value(), completed_);
  }

  RunOptions options_;
  SimMachine m_;
  model::sim::Rng& work_;
  uint64_t disk_seed_;
  BlkStack stack_;
  w7::BlkCore core_;
  std::vector<w7::BlkRequest*> pending_;
  std::array<Slot, kSlots> slots_{};
  std::vector<SectorShadow> shadow_;  // by sector
  std::array<uint8_t, 512> scratch_{};  // a read sector that straddles pieces
  uint64_t submitted_ = 0;
  uint64_t completed_ = 0;
  uint64_t busy_ = 0;  // bit i: slots_[i] has a request in flight
  uint64_t serial_ = 0;
  std::vector<uint32_t> cuts_;  // scratch of submit_one()
  std::array<uint8_t, 64 * 1024> piece_;  // for_each_disk_piece()'s buffer
  bool final_flush_ok_ = false;
  bool spike_ = false;
};

}  // namespace

RunResult run_blk(const RunOptions& options) { return run_scenario<BlkScenario>(options); }

}  // namespace aerov::sim
