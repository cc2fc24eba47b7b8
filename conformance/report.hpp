// Runs conformance checks and folds their outcomes into a per-rule table.
//
// A rule PASSes when at least one check names it and every such check
// passed, FAILs when any of them failed, and is NOT COVERED when no check
// names it yet: an honest table shows what is not tested.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "conformance/check.hpp"

namespace aerov::conformance {

struct CheckResult {
  std::string name;
  std::vector<std::string> rules;
  Outcome outcome;
};

enum class RuleStatus { kPass, kFail, kNotCovered };

struct RuleResult {
  std::string id;
  char kind;  // M, S or P
  std::string section;
  std::string title;
  RuleStatus status;
  std::vector<std::string> checks;  // names of the checks that cover it
};

struct Report {
  std::vector<CheckResult> checks;
  std::vector<RuleResult> rules;  // contract order
  size_t passed = 0;
  size_t failed = 0;
  bool ok() const { return failed == 0; }
};

// Runs every check whose name contains `filter` (all when empty). Throws
// std::invalid_argument if a check names a rule the contract does not have.
Report run_checks(const std::vector<Check>& checks, const std::string& filter = "");

const char* to_string(RuleStatus s);
void print_rule_table(const Report& r, std::ostream& out, bool verbose);
nlohmann::json to_json(const Report& r);
std::string to_junit(const Report& r);

}  // namespace aerov::conformance
