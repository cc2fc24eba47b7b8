// Contract versioning (VER-2): today's contract against the frozen v1.0
// baseline (conformance/compat/aero-w7-virtio-v1.0.json, embedded at build
// time).
#include <nlohmann/json.hpp>
#include <string>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/compat/compat_baseline.hpp"
#include "conformance/suites/suites.hpp"

namespace aerov::conformance {

namespace {

uint64_t hex(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

uint64_t mask_of(const nlohmann::json& names, const nlohmann::json& bits) {
  uint64_t m = 0;
  for (const auto& n : names) m |= uint64_t{1} << bits.at(n.get<std::string>()).get<uint32_t>();
  return m;
}

}  // namespace

std::vector<std::string> compat_problems(std::string_view baseline_json, uint32_t major,
                                         uint8_t pci_revision, std::span<const contract::DeviceSpec> live) {
  std::vector<std::string> problems;
  const auto base = nlohmann::json::parse(baseline_json, nullptr, false);
  if (base.is_discarded() || !base.contains("devices")) return {"the baseline is not contract JSON"};
  if (major != pci_revision) {
    problems.push_back("major version " + std::to_string(major) + " but PCI Revision ID " +
                       std::to_string(pci_revision) + ": a breaking change bumps both");
  }
  if (major != base.at("major").get<uint32_t>()) return problems;  // another major: another baseline
  const auto& bits = base.at("feature_bits");
  for (const auto& b : base.at("devices")) {
    const std::string name = b.at("name");
    const contract::DeviceSpec* d = nullptr;
    for (const auto& s : live) {
      if (name == s.name) d = &s;
    }
    if (d == nullptr) {
      problems.push_back(name + ": device removed");
      continue;
    }
    const auto& pci = b.at("pci");
    const auto& cls = pci.at("class");
    if (d->virtio_type != b.at("virtio_type").get<uint32_t>() || d->device_id != hex(pci.at("device_id")) ||
        d->vendor_id != hex(pci.at("vendor_id")) ||
        d->subsystem_vendor_id != hex(pci.at("subsystem_vendor_id")) ||
        d->revision != hex(pci.at("revision")) || d->class_base != hex(cls.at("base")) ||
        d->class_sub != hex(cls.at("sub")) || d->class_prog_if != hex(cls.at("prog_if"))) {
      problems.push_back(name + ": PCI identity or virtio type changed");
    }
    const auto& queues = b.at("queues");
    if (d->num_queues != queues.size()) {
      problems.push_back(name + ": " + std::to_string(d->num_queues) + " queues, v1.0 has " +
                         std::to_string(queues.size()));
    } else {
      for (const auto& q : queues) {
        const auto i = q.at("index").get<uint16_t>();
        if (d->queues[i].size != q.at("size").get<uint16_t>()) {
          problems.push_back(name + ": queue " + std::to_string(i) + " size changed");
        }
      }
    }
    for (const auto& f : b.at("functions")) {
      bool same = false;
      for (uint8_t i = 0; i < d->num_functions; ++i) {
        const auto& lf = d->functions[i];
        same = same || (lf.function == f.at("function").get<uint8_t>() &&
                        lf.subsystem_id == hex(f.at("subsystem_id")) &&
                        std::string(lf.hardware_id) == f.at("hardware_id").get<std::string>() &&
                        lf.required == f.at("required").get<bool>());
      }
      if (!same) problems.push_back(name + ": function " + f.at("role").get<std::string>() + " changed or removed");
    }
    const uint64_t offered = mask_of(b.at("features_offered"), bits);
    const uint64_t forbidden = mask_of(b.at("features_forbidden"), bits);
    if ((d->features_offered & offered) != offered) {
      problems.push_back(name + ": a feature v1.0 offered is no longer offered");
    }
    if ((d->features_offered & forbidden) != 0) {
      problems.push_back(name + ": offers a feature v1.0 forbade");
    }
  }
  return problems;
}

std::vector<Check> versioning_checks() {
  return {{"contract.versioning.v1.0-baseline",
           {"VER-2"},
           [] {
             return outcome_of(compat_problems(kCompatBaselineV1_0, contract::kMajor, contract::kPciRevision,
                                               {contract::kDevices, contract::kNumDevices}));
           }}};
}

}  // namespace aerov::conformance
