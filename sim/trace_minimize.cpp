#include "sim/trace_minimize.hpp"

#include <vector>

#include "sim/replay.hpp"

namespace aerov::sim {

namespace {

using traces::EventKind;

bool is_effect(EventKind k) {
  return k == EventKind::kDmaWrite || k == EventKind::kIntx || k == EventKind::kMsi ||
         k == EventKind::kHostOutput;
}

// The divergence a candidate must keep: its cause and the recorded event.
struct Signature {
  std::string cause;
  std::string recorded;
  bool operator==(const Signature&) const = default;
};

Signature signature_of(const ReplayResult& r) {
  const size_t colon = r.message.find(": ");
  return {colon == std::string::npos ? r.message : r.message.substr(colon + 2), r.recorded};
}

class Search {
 public:
  Search(const traces::Trace& trace, uint64_t max_replays)
      : trace_(trace), max_replays_(max_replays) {}

  MinimizeResult run() {
    MinimizeResult out;
    const ReplayResult first = replay(trace_);
    ++out.replays;
    if (first.ok) {
      out.message = "the trace replays without divergence: nothing to minimize";
      return out;
    }
    if (first.recorded.empty()) {
      out.message = "the replay fails before any recorded event (" + first.message +
                    "): nothing to minimize";
      return out;
    }
    target_ = signature_of(first);
    split(first.index);
    out.actions_before = units_.size();
    replays_ = out.replays;
    std::vector<size_t> kept(units_.size());
    for (size_t i = 0; i < kept.size(); ++i) kept[i] = i;
    if (!fails(kept)) {
      // Dropping notes and state hashes changed the outcome: keep them all.
      out.message = "the divergence depends on recorded state hashes; trace left as is";
      return out;
    }
    kept = ddmin(std::move(kept));
    out.trace = build(kept);
    out.actions_after = kept.size();
    out.replays = replays_;
    out.budget_exhausted = replays_ >= max_replays_;
    out.ok = true;
    out.message = target_.cause + " at: " + target_.recorded;
    return out;
  }

 private:
  // Units up to the divergent event; the divergent event itself is `last_`.
  void split(size_t divergent) {
    const auto& events = trace_.events;
    for (size_t i = 0; i < divergent && i < events.size(); ++i) {
      const traces::EventView e = events[i];
      const EventKind k = e.event_kind();
      if (e.undescribed || k == EventKind::kNote || k == EventKind::kStateHash ||
          k == EventKind::kDmaRead) {
        continue;
      }
      if (is_effect(k) && !units_.empty()) {
        units_.back().push_back(i);
      } else {
        units_.push_back({i});
      }
    }
    last_ = divergent;
  }

  traces::Trace build(const std::vector<size_t>& kept) const {
    traces::Trace t;
    t.version_major = trace_.version_major;
    t.version_minor = trace_.version_minor;
    t.provenance = trace_.provenance;
    t.table = trace_.table;
    for (size_t u : kept) {
      for (size_t i : units_[u]) t.events.push_back(trace_.events[i]);
    }
    if (last_ < trace_.events.size()) t.events.push_back(trace_.events[last_]);
    return t;
  }

  bool fails(const std::vector<size_t>& kept) {
    ++replays_;
    const ReplayResult r = replay(build(kept));
    return !r.ok && signature_of(r) == target_;
  }

  // ddmin, complement-only and without restarts: walk the units in chunks,
  // dropping every chunk whose removal keeps the divergence; then halve the
  // chunk size. A full pass at size 1 that drops nothing proves the result
  // 1-minimal (no single remaining unit can go).
  std::vector<size_t> ddmin(std::vector<size_t> kept) {
    size_t chunk = std::max<size_t>(kept.size() / 2, 1);
    for (;;) {
      bool reduced = false;
      for (size_t start = 0; start < kept.size();) {
        if (replays_ >= max_replays_) return kept;
        const size_t end = std::min(kept.size(), start + chunk);
        std::vector<size_t> rest(kept.begin(), kept.begin() + static_cast<ptrdiff_t>(start));
        rest.insert(rest.end(), kept.begin() + static_cast<ptrdiff_t>(end), kept.end());
        if (fails(rest)) {
          kept = std::move(rest);
          reduced = true;
        } else {
          start = end;
        }
      }
      if (chunk == 1 && !reduced) return kept;
      if (!reduced) chunk = std::max<size_t>(chunk / 2, 1);
      chunk = std::min(chunk, std::max<size_t>(kept.size(), 1));
      if (kept.empty()) return kept;
    }
  }

  const traces::Trace& trace_;
  uint64_t max_replays_;
  Signature target_;
  std::vector<std::vector<size_t>> units_;
  size_t last_ = 0;
  uint64_t replays_ = 0;
};

}  // namespace

MinimizeResult minimize(const traces::Trace& trace, uint64_t max_replays) {
  return Search(trace, max_replays).run();
}

}  // namespace aerov::sim
