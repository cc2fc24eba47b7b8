#include "model/sim/event_queue.hpp"

#include <algorithm>

namespace aerov::model::sim {

EventId EventQueue::schedule_at(Cycles when, Callback callback) {
  if (when < now_) {
    ++late_events_;
    when = now_;
  }
  const EventId id = next_id_++;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{std::move(callback)});
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot].callback = std::move(callback);
  }
  heap_.push_back(Key{when, id, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return id;
}

bool EventQueue::cancel(EventId id) {
  // Rare: a linear look through the pending events is fine.
  const auto it = std::find_if(heap_.begin(), heap_.end(), [id](const Key& k) { return k.id == id; });
  if (it == heap_.end() || slots_[it->slot].cancelled) return false;  // unknown, run or cancelled
  slots_[it->slot].cancelled = true;
  ++cancelled_;
  return true;
}

EventQueue::Key EventQueue::pop_top() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Key k = heap_.back();
  heap_.pop_back();
  free_slots_.push_back(k.slot);
  return k;
}

void EventQueue::drop_cancelled_top() {
  while (cancelled_ != 0 && !heap_.empty() && slots_[heap_.front().slot].cancelled) {
    Slot& s = slots_[pop_top().slot];
    s.callback = nullptr;
    s.cancelled = false;
    --cancelled_;
  }
}

bool EventQueue::run_next() {
  drop_cancelled_top();
  if (heap_.empty()) return false;
  const Key k = pop_top();
  // Move the callback out before running it: it may schedule more (and
  // reuse its slot).
  const Callback callback = std::move(slots_[k.slot].callback);
  now_ = k.when;
  ++events_run_;
  callback();
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
