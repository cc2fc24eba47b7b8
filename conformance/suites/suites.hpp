// Every suite's check list; all_checks() (check.cpp) concatenates them.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/check.hpp"

namespace aerov::conformance {

// The device scenarios (model/devices/*/testing) return every failure they
// found; as a check, each is one failed expectation (the first is reported).
inline Outcome outcome_of(const std::vector<std::string>& failures) {
  Outcome out;
  for (const std::string& failure : failures) out.expect(false, failure);
  return out;
}

inline std::function<Outcome()> scenario(std::vector<std::string> (*run)()) {
  return [run] { return outcome_of(run()); };
}

std::vector<Check> virtqueue_checks();
std::vector<Check> virtqueue_hostile_guest_checks();
std::vector<Check> transport_checks();
std::vector<Check> transport_capability_checks();
std::vector<Check> blk_checks();
std::vector<Check> net_checks();
std::vector<Check> input_checks();
std::vector<Check> snd_checks();
std::vector<Check> versioning_checks();

// VER-2: what in `live` breaks compatibility with the baseline contract JSON
// (empty: only additions). Exposed for tests that feed it broken contracts.
std::vector<std::string> compat_problems(std::string_view baseline_json, uint32_t major,
                                         uint8_t pci_revision, std::span<const contract::DeviceSpec> live);

}  // namespace aerov::conformance
