// A conformance check: one named, deterministic scenario that states which
// contract rules it exercises and reports pass/fail with the evidence.
//
// Checks are plain data so that every consumer runs the same list: the
// `aero-virtio conform` command prints the rule table from them, and the
// Catch2 suite in tests/conformance runs each one as a test case.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace aerov::conformance {

struct Outcome {
  bool passed = true;
  std::string detail;  // on failure: expected vs. observed, in one line

  // Records a failed expectation; the first failure's text is kept.
  void expect(bool ok, const std::string& what);
};

struct Check {
  std::string name;                // "virtqueue.hostile.loop-self", unique
  std::vector<std::string> rules;  // contract rule IDs, e.g. {"VQ-7"}
  std::function<Outcome()> run;
};

// Contract sections whose every MUST and P rule must be covered by at least
// one check (a test fails otherwise): now every section of the contract.
inline constexpr const char* kImplementedSections[] = {
    "PCI identity", "BAR0 and capabilities", "Common configuration",
    "Notifications, ISR and interrupts", "Split virtqueues", "virtio-blk",
    "virtio-net", "virtio-input", "virtio-snd", "Versioning and drivers"};

// Every check of every suite, in a stable order.
std::vector<Check> all_checks();

}  // namespace aerov::conformance
