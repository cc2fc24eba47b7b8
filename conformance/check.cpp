#include "conformance/check.hpp"

#include "conformance/suites/suites.hpp"

namespace aerov::conformance {

void Outcome::expect(bool ok, const std::string& what) {
  if (ok) return;
  if (passed) detail = what;
  passed = false;
}

std::vector<Check> all_checks() {
  std::vector<Check> checks;
  for (auto suite : {virtqueue_checks, transport_checks, transport_capability_checks, blk_checks, net_checks,
                     input_checks, snd_checks, versioning_checks}) {
    for (Check& c : suite()) checks.push_back(std::move(c));
  }
  return checks;
}

}  // namespace aerov::conformance
