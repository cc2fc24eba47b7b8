#include "conformance/report.hpp"

#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::conformance {

const char* to_string(RuleStatus s) {
  switch (s) {
    case RuleStatus::kPass: return "PASS";
    case RuleStatus::kFail: return "FAIL";
    case RuleStatus::kNotCovered: return "NOT COVERED";
  }
  return "?";
}

Report run_checks(const std::vector<Check>& checks, const std::string& filter) {
  Report r;
  for (const auto& spec : contract::kRules) {
    r.rules.push_back(RuleResult{spec.id, spec.kind, spec.section, spec.title,
                                 RuleStatus::kNotCovered, {}});
  }
  for (const Check& c : checks) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    for (const std::string& id : c.rules) {
      if (contract::find_rule(id.c_str()) == nullptr) {
        throw std::invalid_argument("check " + c.name + " names unknown rule " + id);
      }
    }
    Outcome o = c.run();
    (o.passed ? r.passed : r.failed) += 1;
    for (RuleResult& rule : r.rules) {
      for (const std::string& id : c.rules) {
        if (rule.id != id) continue;
        rule.checks.push_back(c.name);
        if (!o.passed) {
          rule.status = RuleStatus::kFail;
        } else if (rule.status == RuleStatus::kNotCovered) {
          rule.status = RuleStatus::kPass;
        }
      }
    }
    r.checks.push_back(CheckResult{c.name, c.rules, std::move(o)});
  }
  return r;
}

void print_rule_table(const Report& r, std::ostream& out, bool verbose) {
  out << std::left << std::setw(8) << "RULE" << std::setw(5) << "KIND" << std::setw(13)
      << "STATUS" << std::setw(7) << "CHECKS" << "TITLE\n";
  size_t covered = 0;
  for (const RuleResult& rule : r.rules) {
    if (rule.status != RuleStatus::kNotCovered) ++covered;
    out << std::left << std::setw(8) << rule.id << std::setw(5) << rule.kind << std::setw(13)
        << to_string(rule.status) << std::setw(7) << rule.checks.size() << rule.title << "\n";
  }
  for (const CheckResult& c : r.checks) {
    if (verbose || !c.outcome.passed) {
      out << (c.outcome.passed ? "  pass  " : "  FAIL  ") << c.name;
      if (!c.outcome.passed) {
        out << ": " << c.outcome.detail << "\n        reproduce: aero-virtio conform --exact --filter "
            << c.name;
      }
      out << "\n";
    }
  }
  out << "rules: " << covered << " of " << r.rules.size() << " covered\n";
  out << "checks: " << r.passed << " passed, " << r.failed << " failed\n";
}

nlohmann::json to_json(const Report& r) {
  nlohmann::json j;
  j["contract"] = "AERO-W7-VIRTIO";
  j["major"] = contract::kMajor;
  j["summary"] = {{"checks_passed", r.passed}, {"checks_failed", r.failed}};
  for (const RuleResult& rule : r.rules) {
    j["rules"].push_back({{"id", rule.id},
                          {"kind", std::string(1, rule.kind)},
                          {"section", rule.section},
                          {"title", rule.title},
                          {"status", to_string(rule.status)},
                          {"checks", rule.checks}});
  }
  for (const CheckResult& c : r.checks) {
    j["checks"].push_back({{"name", c.name},
                           {"rules", c.rules},
                           {"passed", c.outcome.passed},
                           {"detail", c.outcome.detail}});
  }
  return j;
}

namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += ch;
    }
  }
  return o;
}

}  // namespace

std::string to_junit(const Report& r) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"aero-virtio conformance\" tests=\"" << r.checks.size()
    << "\" failures=\"" << r.failed << "\">\n"
    << "  <testsuite name=\"AERO-W7-VIRTIO v" << contract::kMajor << "\" tests=\""
    << r.checks.size() << "\" failures=\"" << r.failed << "\">\n";
  for (const CheckResult& c : r.checks) {
    std::string rules;
    for (const std::string& id : c.rules) rules += (rules.empty() ? "" : " ") + id;
    o << "    <testcase classname=\"" << xml_escape(rules) << "\" name=\"" << xml_escape(c.name)
      << "\"";
    if (c.outcome.passed) {
      o << "/>\n";
    } else {
      o << ">\n      <failure message=\"" << xml_escape(c.outcome.detail) << "\"/>\n"
        << "    </testcase>\n";
    }
  }
  o << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace aerov::conformance
