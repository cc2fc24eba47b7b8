#include "conformance/check.hpp"

namespace aerov::conformance {

void Outcome::expect(bool ok, const std::string& what) {
  if (ok) return;
  if (passed) detail = what;
  passed = false;
}

std::vector<Check> all_checks() {
  std::vector<Check> checks;
  for (auto& c : virtqueue_checks()) checks.push_back(std::move(c));
  return checks;
}

}  // namespace aerov::conformance
