// VER-2: the compatibility check against the frozen v1.0 contract finds
// breaking changes and lets additions through.
#include <catch2/catch.hpp>
#include <vector>

#include "conformance/compat/compat_baseline.hpp"
#include "conformance/suites/suites.hpp"

namespace {

namespace contract = aerov::contract;
using aerov::conformance::compat_problems;
using aerov::conformance::kCompatBaselineV1_0;

std::vector<contract::DeviceSpec> live() { return {contract::kDevices, contract::kDevices + contract::kNumDevices}; }

contract::DeviceSpec& by_name(std::vector<contract::DeviceSpec>& d, const std::string& name) {
  for (auto& s : d) {
    if (name == s.name) return s;
  }
  FAIL("no device " << name);
  return d.front();
}

}  // namespace

TEST_CASE("versioning: today's contract is compatible with v1.0", "[conformance][VER-2]") {
  CHECK(compat_problems(kCompatBaselineV1_0, contract::kMajor, contract::kPciRevision, live()).empty());
}

TEST_CASE("versioning: additions pass, breaking changes are named", "[conformance][VER-2]") {
  auto d = live();
  SECTION("an optional feature added") {
    by_name(d, "blk").features_offered |= contract::feature_mask(10);  // BLK_TOPOLOGY: not forbidden
    CHECK(compat_problems(kCompatBaselineV1_0, 1, 1, d).empty());
  }
  SECTION("a feature withdrawn") {
    by_name(d, "net").features_offered &= ~contract::feature_mask(contract::kFeatureNetStatus);
    const auto p = compat_problems(kCompatBaselineV1_0, 1, 1, d);
    REQUIRE(p.size() == 1);
    CHECK(p[0] == "net: a feature v1.0 offered is no longer offered");
  }
  SECTION("a forbidden feature offered") {
    by_name(d, "blk").features_offered |= contract::feature_mask(contract::kFeatureRingEventIdx);
    const auto p = compat_problems(kCompatBaselineV1_0, 1, 1, d);
    REQUIRE(p.size() == 1);
    CHECK(p[0] == "blk: offers a feature v1.0 forbade");
  }
  SECTION("a queue resized") {
    const contract::QueueSpec bigger[] = {{"requestq", 0, 256}};
    by_name(d, "blk").queues = bigger;
    CHECK(compat_problems(kCompatBaselineV1_0, 1, 1, d) ==
          std::vector<std::string>{"blk: queue 0 size changed"});
  }
  SECTION("a device dropped") {
    d.pop_back();
    CHECK(compat_problems(kCompatBaselineV1_0, 1, 1, d).size() == 1);
  }
  SECTION("major and revision must move together") {
    CHECK(compat_problems(kCompatBaselineV1_0, 2, 1, d).size() == 1);
    CHECK(compat_problems(kCompatBaselineV1_0, 2, 2, d).empty());  // a new major has a new baseline
  }
  SECTION("a hardware ID changed") {
    const contract::FunctionSpec f[] = {{0, "blk", 0x0002, "PCI\\VEN_1AF4&DEV_1042&REV_02", true}};
    by_name(d, "blk").functions = f;
    CHECK(compat_problems(kCompatBaselineV1_0, 1, 1, d) ==
          std::vector<std::string>{"blk: function blk changed or removed"});
  }
}
