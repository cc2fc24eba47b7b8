// IntxLine: several sources wired-OR onto one level-triggered pin
// (contract IRQ-1 needs INTx to follow each function's pending state).
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include "model/irq/intx_line.hpp"

namespace {

using aerov::model::irq::IntxError;
using aerov::model::irq::IntxLine;
using aerov::model::irq::IntxSourceId;

// A line whose sink records every level it is told.
struct RecordedLine {
  std::vector<bool> levels;
  IntxLine line{[this](bool level) { levels.push_back(level); }};
};

}  // namespace

TEST_CASE("irq: intx line is the OR of two sources and reports each level change", "[irq][IRQ-1]") {
  RecordedLine r;
  const IntxSourceId a = *r.line.add_source();
  const IntxSourceId b = *r.line.add_source();
  CHECK_FALSE(r.line.level());

  REQUIRE(r.line.assert_line(a) == IntxError::kOk);
  CHECK(r.line.level());
  REQUIRE(r.line.assert_line(b) == IntxError::kOk);  // already high: no change
  CHECK(r.levels == std::vector<bool>{true});

  // a letting go must not drop the level b still holds.
  r.line.deassert_line(a);
  CHECK(r.line.level());
  CHECK(r.levels == std::vector<bool>{true});
  r.line.deassert_line(b);
  CHECK_FALSE(r.line.level());
  CHECK(r.levels == std::vector<bool>{true, false});
}

TEST_CASE("irq: intx repeated assert or deassert from one source does not double-count", "[irq][IRQ-1]") {
  RecordedLine r;
  const IntxSourceId a = *r.line.add_source();
  const IntxSourceId b = *r.line.add_source();

  r.line.assert_line(a);
  r.line.assert_line(a);
  r.line.assert_line(a);
  // One deassert undoes any number of asserts from the same source.
  r.line.deassert_line(a);
  CHECK_FALSE(r.line.level());
  // A spurious deassert of a low source cannot pull another source's level.
  r.line.assert_line(b);
  r.line.deassert_line(a);
  r.line.deassert_line(a);
  CHECK(r.line.level());
  CHECK(r.line.asserted(b));
  CHECK_FALSE(r.line.asserted(a));
  CHECK(r.levels == std::vector<bool>{true, false, true});
}

TEST_CASE("irq: intx unknown sources are rejected and the fan-in is bounded", "[irq]") {
  RecordedLine r;
  CHECK(r.line.assert_line(0) == IntxError::kUnknownSource);
  CHECK_FALSE(r.line.level());
  CHECK(r.levels.empty());
  CHECK_FALSE(r.line.asserted(200));

  for (size_t i = 0; i < IntxLine::kMaxSources; ++i) REQUIRE(r.line.add_source());
  CHECK_FALSE(r.line.add_source());
  CHECK(r.line.source_count() == IntxLine::kMaxSources);
}

TEST_CASE("irq: intx sink may re-enter the line", "[irq][IRQ-1]") {
  // An interrupt controller that acknowledges synchronously makes the device
  // deassert from inside the sink; the line must already be consistent.
  IntxLine line;
  const IntxSourceId a = *line.add_source();
  std::vector<bool> levels;
  line.set_sink([&](bool level) {
    levels.push_back(level);
    if (level) line.deassert_line(a);
  });
  line.assert_line(a);
  CHECK_FALSE(line.level());
  CHECK(levels == std::vector<bool>{true, false});
}

TEST_CASE("irq: intx property - level is the OR of source states, sink sees exactly the changes",
          "[irq][IRQ-1][property]") {
  rc::prop("random assert/deassert sequences", [] {
    const auto source_count = *rc::gen::inRange<size_t>(1, 9);
    const auto ops = *rc::gen::container<std::vector<std::pair<size_t, bool>>>(
        rc::gen::pair(rc::gen::inRange<size_t>(0, source_count), rc::gen::arbitrary<bool>()));

    RecordedLine r;
    for (size_t i = 0; i < source_count; ++i) RC_ASSERT(r.line.add_source().has_value());
    std::vector<bool> model(source_count, false);  // the independent oracle
    std::vector<bool> expected_levels;
    bool expected_level = false;

    for (const auto& [source, assert_it] : ops) {
      RC_ASSERT(r.line.set(static_cast<IntxSourceId>(source), assert_it) == IntxError::kOk);
      model[source] = assert_it;
      bool any = false;
      for (const bool s : model) any = any || s;
      if (any != expected_level) expected_levels.push_back(any);
      expected_level = any;

      RC_ASSERT(r.line.level() == any);
      for (size_t s = 0; s < source_count; ++s) {
        RC_ASSERT(r.line.asserted(static_cast<IntxSourceId>(s)) == model[s]);
      }
    }
    RC_ASSERT(r.levels == expected_levels);
  });
}
