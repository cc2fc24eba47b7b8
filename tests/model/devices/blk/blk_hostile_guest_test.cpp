// The hostile-guest table (model/devices/blk/testing/hostile_cases.cpp):
// every malformed request completes with exactly the status the contract
// names (or none, when it has no status place), touches no data, and the
// next valid request still works.
#include <catch2/catch.hpp>

#include <set>

#include "model/devices/blk/testing/hostile_cases.hpp"

using namespace aerov::model::devices::testing;

TEST_CASE("blk.hostile: every case in the table", "[blk][BLK-4][BLK-5][BLK-6][BLK-7][VQ-7]") {
  for (const HostileCase& c : hostile_cases()) {
    DYNAMIC_SECTION(c.name) {
      INFO("case " << c.name);
      CHECK(run_hostile_case(c) == "");
    }
  }
}

TEST_CASE("blk.hostile: the table names each case once and covers every outcome", "[blk]") {
  std::set<std::string> names;
  std::set<Expect> outcomes;
  for (const HostileCase& c : hostile_cases()) {
    CHECK(names.insert(c.name).second);
    CHECK_FALSE(c.rules.empty());
    outcomes.insert(c.expect);
  }
  CHECK(names.size() >= 60);
  CHECK(outcomes.size() == 4);
}

TEST_CASE("blk.hostile: the runner notices a wrong expectation", "[blk]") {
  for (HostileCase c : hostile_cases()) {
    // Every case with the wrong outcome must be reported, so a green table
    // means the device really did what each row says.
    c.expect = c.expect == Expect::kOk ? Expect::kIoErr : Expect::kOk;
    INFO("case " << c.name);
    CHECK(run_hostile_case(c) != "");
  }
}
