// The conformance machinery itself. The checks run as CTest tests of their
// own, one per check, labelled with their rule IDs (cli/CMakeLists.txt).
#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/report.hpp"

using namespace aerov::conformance;

TEST_CASE("check names are unique and every named rule exists", "[conformance]") {
  std::set<std::string> names;
  for (const Check& c : all_checks()) {
    CHECK(names.insert(c.name).second);
    CHECK_FALSE(c.rules.empty());
    for (const auto& id : c.rules) CHECK(aerov::contract::find_rule(id.c_str()) != nullptr);
  }
}

TEST_CASE("the hostile-guest table has at least 40 distinct cases", "[conformance][VQ-7][VQ-8]") {
  size_t hostile = 0;
  for (const Check& c : all_checks()) {
    if (c.name.rfind("virtqueue.hostile-guest.", 0) == 0) ++hostile;
  }
  CHECK(hostile >= 40);
}

TEST_CASE("a failing check fails its rules and is reported", "[conformance]") {
  const std::vector<Check> checks = {
      {"fake.passes", {"VQ-1"}, [] { return Outcome{}; }},
      {"fake.fails", {"VQ-1", "VQ-2"}, [] {
         Outcome o;
         o.expect(false, "expected <1> & got \"2\"");
         return o;
       }},
  };
  const Report r = run_checks(checks);
  CHECK(r.passed == 1);
  CHECK(r.failed == 1);
  CHECK_FALSE(r.ok());
  for (const RuleResult& rule : r.rules) {
    if (rule.id == "VQ-1" || rule.id == "VQ-2") {
      CHECK(rule.status == RuleStatus::kFail);
    } else {
      CHECK(rule.status == RuleStatus::kNotCovered);
    }
  }
  const std::string junit = to_junit(r);
  CHECK(junit.find("failures=\"1\"") != std::string::npos);
  CHECK(junit.find("expected &lt;1&gt; &amp; got &quot;2&quot;") != std::string::npos);
  const auto j = to_json(r);
  CHECK(j["summary"]["checks_failed"] == 1);
  CHECK(j["rules"].size() == aerov::contract::kNumRules);
}

TEST_CASE("a check naming an unknown rule is rejected", "[conformance]") {
  const std::vector<Check> checks = {{"fake.bad", {"NOPE-1"}, [] { return Outcome{}; }}};
  CHECK_THROWS_AS(run_checks(checks), std::invalid_argument);
}

TEST_CASE("every MUST and P rule of an implemented section has a check", "[conformance][registry]") {
  const Report r = run_checks({});  // the rule table without running anything
  std::map<std::string, size_t> covered;
  for (const Check& c : all_checks()) {
    for (const auto& id : c.rules) ++covered[id];
  }
  size_t required = 0;
  for (const auto& rule : aerov::contract::kRules) {
    const bool implemented =
        std::any_of(std::begin(kImplementedSections), std::end(kImplementedSections),
                    [&](const char* s) { return std::string(s) == rule.section; });
    if (!implemented || rule.kind == 'S') continue;
    ++required;
    INFO(rule.id << " (" << rule.section << ") has no conformance check");
    CHECK(covered[rule.id] > 0);
  }
  CHECK(required >= 40);
  CHECK(r.rules.size() == aerov::contract::kNumRules);
}
