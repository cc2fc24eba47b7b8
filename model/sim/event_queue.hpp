// Virtual time for the deterministic machine: a clock in cycles and a queue
// of events ordered by (time, sequence number). Events at the same time run
// in the order they were scheduled, so a run depends only on what was
// scheduled, never on container internals, pointers or the wall clock.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <string>
#include <vector>

namespace aerov::model::sim {

using Cycles = uint64_t;
using EventId = uint64_t;  // the sequence number: unique, increasing

class EventQueue {
 public:
  using Callback = std::function<void()>;

  Cycles now() const { return now_; }

  // Schedules `callback` at absolute time `when`. A time in the past runs at
  // now() (after events already due) and is counted as late.
  EventId schedule_at(Cycles when, Callback callback, std::string label = {});
  EventId schedule_in(Cycles delay, Callback callback, std::string label = {});
  // True when the event was pending and will not run.
  bool cancel(EventId id);

  // Runs the earliest event, advancing now() to its time. False if none.
  bool run_next();
  // Runs events due at or before `deadline` (at most `max_events`), then
  // advances now() to `deadline` if the queue ran dry before it. Returns the
  // number of events run.
  size_t run_until(Cycles deadline, size_t max_events);

  size_t pending() const { return heap_.size() - cancelled_.size(); }
  uint64_t events_run() const { return events_run_; }
  uint64_t late_events() const { return late_events_; }
  // Label of the event running now (for traces and failure messages).
  const std::string& current_label() const { return current_label_; }

 private:
  // The heap holds small keys; callbacks and labels stay put in slots_.
  struct Key {
    Cycles when;
    EventId id;
    uint32_t slot;
  };
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.when != b.when ? a.when > b.when : a.id > b.id;
    }
  };
  struct Slot {
    Callback callback;
    std::string label;
  };
  void drop_cancelled_top();
  Key pop_top();

  std::vector<Key> heap_;                  // a binary heap under Later
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::unordered_set<EventId> cancelled_;  // still in heap_, dropped when they reach the top
  Cycles now_ = 0;
  EventId next_id_ = 0;
  uint64_t events_run_ = 0;
  uint64_t late_events_ = 0;
  std::string current_label_;
};

}  // namespace aerov::model::sim
