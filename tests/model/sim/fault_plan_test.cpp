// model/sim/fault_plan: swarm mixes per seed, firing at the drawn rate,
// independence of sites, and the off switch of the liveness phase.
#include <catch2/catch.hpp>
#include <set>

#include "model/sim/fault_plan.hpp"

namespace {

using aerov::model::sim::Fault;
using aerov::model::sim::FaultPlan;
using aerov::model::sim::RngStreams;

constexpr std::initializer_list<Fault> kAll = {
    Fault::kBackendIoError, Fault::kBackendLatency, Fault::kIrqDelay,     Fault::kIrqCoalesce,
    Fault::kSpuriousIrq,    Fault::kSpuriousDoorbell, Fault::kNeedsReset, Fault::kDriverReset,
    Fault::kPeerLoss,       Fault::kPeerReorder};

}  // namespace

TEST_CASE("fault plan: the same seed draws the same mix and the same firings", "[sim]") {
  RngStreams a(42), b(42);
  FaultPlan pa(a, kAll), pb(b, kAll);
  CHECK(pa.describe() == pb.describe());
  for (int i = 0; i < 10000; ++i) {
    for (Fault f : kAll) REQUIRE(pa.fire(f) == pb.fire(f));
  }
}

TEST_CASE("fault plan: seeds differ in which sites are on (swarm)", "[sim]") {
  std::set<std::string> mixes;
  size_t none = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    RngStreams s(seed);
    FaultPlan p(s, kAll);
    mixes.insert(p.describe());
    none += p.describe() == "none";
    for (Fault f : kAll) {
      CHECK(p.rate_ppm(f) <= FaultPlan::kMaxRatePpm);
    }
  }
  CHECK(mixes.size() > 150);  // nearly every seed has its own mix
  CHECK(none <= 5);           // 1 in 1024 seeds expected with ten sites
}

TEST_CASE("fault plan: a site fires at its rate, unavailable sites never fire", "[sim]") {
  RngStreams s(7);
  FaultPlan p(s, {Fault::kNeedsReset});
  p.set_rate(Fault::kNeedsReset, 100'000);  // 10 %
  uint64_t fired = 0;
  for (int i = 0; i < 100000; ++i) fired += p.fire(Fault::kNeedsReset);
  CHECK(fired > 9000);
  CHECK(fired < 11000);
  CHECK(p.fired(Fault::kNeedsReset) == fired);
  for (int i = 0; i < 1000; ++i) REQUIRE_FALSE(p.fire(Fault::kPeerLoss));
}

TEST_CASE("fault plan: firing one site does not shift another site's firings", "[sim]") {
  RngStreams a(9), b(9);
  FaultPlan pa(a, kAll), pb(b, kAll);
  pa.set_rate(Fault::kIrqDelay, 500'000);
  pb.set_rate(Fault::kIrqDelay, 500'000);
  pa.set_rate(Fault::kNeedsReset, 500'000);
  pb.set_rate(Fault::kNeedsReset, 500'000);
  std::vector<bool> ra, rb;
  for (int i = 0; i < 1000; ++i) {
    ra.push_back(pa.fire(Fault::kIrqDelay));
    pa.fire(Fault::kNeedsReset);  // only run a draws from another site
    rb.push_back(pb.fire(Fault::kIrqDelay));
  }
  CHECK(ra == rb);
}

TEST_CASE("fault plan: off() silences every site", "[sim]") {
  RngStreams s(3);
  FaultPlan p(s, kAll);
  for (Fault f : kAll) p.set_rate(f, FaultPlan::kMaxRatePpm);
  p.off();
  for (int i = 0; i < 1000; ++i) {
    for (Fault f : kAll) REQUIRE_FALSE(p.fire(f));
  }
  CHECK_FALSE(p.enabled(Fault::kIrqDelay));
  CHECK(FaultPlan::none(s).describe() == "none");
}
