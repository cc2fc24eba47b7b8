// Virtual time for the deterministic machine: a clock in cycles and a queue
// of events ordered by (time, sequence number). Events at the same time run
// in the order they were scheduled, so a run depends only on what was
// scheduled, never on container internals, pointers or the wall clock.
#pragma once

#include <cstdint>
#include <functional>
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
  EventId schedule_at(Cycles when, Callback callback);
  EventId schedule_in(Cycles delay, Callback callback) {
    // Saturate rather than wrap: an absurd delay means "never", not "now".
    return schedule_at(delay > UINT64_MAX - now_ ? UINT64_MAX : now_ + delay, std::move(callback));
  }
  // True when the event was pending and will not run.
  bool cancel(EventId id);

  // Runs the earliest event, advancing now() to its time. False if none.
  bool run_next();
  // Runs events due at or before `deadline` (at most `max_events`), then
  // advances now() to `deadline` if the queue ran dry before it. Returns the
  // number of events run.
  size_t run_until(Cycles deadline, size_t max_events);

  size_t pending() const { return heap_.size() - cancelled_; }
  uint64_t events_run() const { return events_run_; }
  uint64_t late_events() const { return late_events_; }

 private:
  // The heap holds small keys; callbacks stay put in slots_.
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
    bool cancelled = false;  // still in heap_, dropped when it reaches the top
  };
  void drop_cancelled_top();
  Key pop_top();

  std::vector<Key> heap_;                  // a binary heap under Later
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t cancelled_ = 0;  // keys in heap_ whose slot is cancelled
  Cycles now_ = 0;
  EventId next_id_ = 0;
  uint64_t events_run_ = 0;
  uint64_t late_events_ = 0;
};

}  // namespace aerov::model::sim
