#include "model/sim/event_queue.hpp"

namespace aerov::model::sim {

EventId EventQueue::schedule_at(Cycles when, Callback callback, std::string label) {
  if (when < now_) {
    ++late_events_;
    when = now_;
  }
  const EventId id = next_id_++;
  live_.insert(id);
  heap_.push(Event{when, id, std::move(callback), std::move(label)});
  return id;
}

EventId EventQueue::schedule_in(Cycles delay, Callback callback, std::string label) {
  // Saturate rather than wrap: an absurd delay means "never", not "now".
  const Cycles when = delay > UINT64_MAX - now_ ? UINT64_MAX : now_ + delay;
  return schedule_at(when, std::move(callback), std::move(label));
}

bool EventQueue::cancel(EventId id) {
  if (live_.erase(id) == 0) return false;  // unknown, already run or cancelled
  cancelled_.insert(id);
  return true;
}

void EventQueue::drop_cancelled_top() {
  while (!heap_.empty()) {
    auto it = cancelled_.find(heap_.top().id);
    if (it == cancelled_.end()) return;
    cancelled_.erase(it);
    heap_.pop();
  }
}

bool EventQueue::run_next() {
  drop_cancelled_top();
  if (heap_.empty()) return false;
  // Move the event out before running it: the callback may schedule more.
  Event e = std::move(const_cast<Event&>(heap_.top()));
  heap_.pop();
  live_.erase(e.id);
  now_ = e.when;
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
    if (heap_.empty() || heap_.top().when > deadline) break;
    run_next();
    ++ran;
  }
  if (ran < max_events && now_ < deadline) now_ = deadline;
  return ran;
}

}  // namespace aerov::model::sim
