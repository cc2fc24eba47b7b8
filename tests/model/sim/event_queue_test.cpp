#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <vector>

#include "model/sim/event_queue.hpp"

using aerov::model::sim::Cycles;
using aerov::model::sim::EventId;
using aerov::model::sim::EventQueue;

TEST_CASE("sim: events run in (time, scheduling order)", "[sim]") {
  EventQueue q;
  std::vector<int> order;
  q.schedule_at(20, [&] { order.push_back(3); });
  q.schedule_at(10, [&] { order.push_back(1); });
  q.schedule_at(10, [&] { order.push_back(2); });  // tie: after the first 10
  q.schedule_at(5, [&] { order.push_back(0); });
  while (q.run_next()) {
  }
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(q.now() == 20);
  CHECK(q.events_run() == 4);
}

TEST_CASE("sim: an event scheduled for now runs after events already due now", "[sim]") {
  EventQueue q;
  std::vector<int> order;
  q.schedule_at(10, [&] {
    order.push_back(1);
    q.schedule_in(0, [&] { order.push_back(3); });
  });
  q.schedule_at(10, [&] { order.push_back(2); });
  while (q.run_next()) {
  }
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("sim: late events run at now and are counted", "[sim]") {
  EventQueue q;
  Cycles ran_at = 0;
  q.schedule_at(100, [&] { q.schedule_at(50, [&] { ran_at = q.now(); }); });
  while (q.run_next()) {
  }
  CHECK(ran_at == 100);
  CHECK(q.late_events() == 1);
}

TEST_CASE("sim: cancelled events never run and cancel is idempotent", "[sim]") {
  EventQueue q;
  int ran = 0;
  const EventId a = q.schedule_at(1, [&] { ran += 1; });
  const EventId b = q.schedule_at(2, [&] { ran += 10; });
  CHECK(q.cancel(a));
  CHECK_FALSE(q.cancel(a));
  CHECK(q.pending() == 1);
  while (q.run_next()) {
  }
  CHECK(ran == 10);
  CHECK_FALSE(q.cancel(b));  // already ran
  CHECK_FALSE(q.cancel(12345));
  CHECK(q.pending() == 0);
}

TEST_CASE("sim: run_until stops at the deadline and at the event budget", "[sim]") {
  EventQueue q;
  int ran = 0;
  for (Cycles t = 1; t <= 10; ++t) q.schedule_at(t * 10, [&] { ++ran; });
  CHECK(q.run_until(35, 100) == 3);
  CHECK(q.now() == 35);  // advanced to the deadline once idle before it
  CHECK(q.run_until(1000, 2) == 2);
  CHECK(q.now() == 50);  // budget hit: time stays at the last event
  CHECK(q.run_until(1000, 100) == 5);
  CHECK(ran == 10);
  CHECK(q.now() == 1000);
}

TEST_CASE("sim: schedule_in saturates instead of wrapping", "[sim]") {
  EventQueue q;
  q.schedule_at(10, [] {});
  q.run_next();
  bool ran = false;
  q.schedule_in(UINT64_MAX, [&] { ran = true; });
  CHECK(q.run_until(1'000'000, 10) == 0);
  CHECK_FALSE(ran);
}

TEST_CASE("sim: any schedule runs in sorted (time, scheduling order)", "[sim][property]") {
  rc::prop("order", [](const std::vector<uint16_t>& times) {
    EventQueue q;
    std::vector<size_t> ran;
    for (size_t i = 0; i < times.size(); ++i) {
      q.schedule_at(times[i], [&ran, i] { ran.push_back(i); });
    }
    std::vector<size_t> expected(times.size());
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = i;
    std::stable_sort(expected.begin(), expected.end(),
                     [&](size_t a, size_t b) { return times[a] < times[b]; });
    while (q.run_next()) {
    }
    RC_ASSERT(ran == expected);
  });
}

TEST_CASE("sim: a dropped cancelled event's slot serves later events", "[sim]") {
  EventQueue q;
  std::vector<int> order;
  const EventId a = q.schedule_at(1, [&] { order.push_back(1); });
  q.schedule_at(2, [&] {
    order.push_back(2);
    q.schedule_at(3, [&] { order.push_back(3); });  // may take a's slot
  });
  CHECK(q.cancel(a));
  while (q.run_next()) {
  }
  CHECK(order == std::vector<int>{2, 3});
  const EventId d = q.schedule_at(5, [&] { order.push_back(5); });
  CHECK(q.cancel(d));
  CHECK(q.pending() == 0);
  q.schedule_at(6, [&] { order.push_back(6); });
  CHECK(q.pending() == 1);
  while (q.run_next()) {
  }
  CHECK(order == std::vector<int>{2, 3, 6});
  CHECK(q.pending() == 0);
}
