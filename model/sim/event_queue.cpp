#include "model/sim/event_queue.hpp"

#include <algorithm>

namespace aerov::model::sim {

EventId EventQueue::schedule_at(Cycles when, Callback callback, std::string label) {
  if (when < now_) {
    ++late_events_;
    when = now_;
  }
  const EventId id = next_id_++;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{std::move(callback), std::move(label)});
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = Slot{std::move(callback), std::move(label)};
  }
  heap_.push_back(Key{when, id, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return id;
}

EventId EventQueue::schedule_in(Cycles delay, Callback callback, std::string label) {
  // Saturate rather than wrap: an absurd delay means "never", not "now".
  const Cycles when = delay > UINT64_MAX - now_ ? UINT64_MAX : now_ + delay;
  return schedule_at(when, std::move(callback), std::move(label));
}

bool EventQueue::cancel(EventId id) {
  // Rare: a linear look through the pending events is fine.
  if (cancelled_.count(id) != 0) return false;
  const bool pending = std::any_of(heap_.begin(), heap_.end(),
                                   [id](const Key& k) { return k.id == id; });
  if (pending) cancelled_.insert(id);
  return pending;  // false: unknown, already run or cancelled
}

EventQueue::Key EventQueue::pop_top() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Key k = heap_.back();
  heap_.pop_back();
  free_slots_.push_back(k.slot);
  return k;
}

void EventQueue::drop_cancelled_top() {
  while (!cancelled_.empty() && !heap_.empty()) {
    auto it = cancelled_.find(heap_.front().id);
    if (it == cancelled_.end()) return;
    cancelled_.erase(it);
    slots_[pop_top().slot] = Slot{};
  }
}

bool EventQueue::run_next() {
  drop_cancelled_top();
  if (heap_.empty()) return false;
  const Key k = pop_top();
  // Move the callback out before running it: it may schedule more (and
  // reuse its slot).
  Slot e = std::move(slots_[k.slot]);
  now_ = k.when;
  current_label_ = std::move(e.label);
  ++events_run_;
  e.callback();
  current_label_.clear();
  return true;
}

size_t EventQueue::run_until(Cycles deadline, size_t max_events) {
  size_t ran = 0;
  while (ran < max_events) {
    drop_cancelled_top();
    if (heap_.empty() || heap_.front().when > deadline) break;
    run_next();
    ++ran;
  }
  if (ran < max_events && now_ < deadline) now_ = deadline;
  return ran;
}

}  // namespace aerov::model::sim
