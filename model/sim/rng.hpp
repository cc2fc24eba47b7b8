// Seeded randomness for the simulation: every random choice comes from a
// named stream derived from one root seed, so adding a stream (or drawing
// more from one) never changes what another stream yields, and a run is
// reproduced from its root seed alone.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace aerov::model::sim {

// xoshiro256** seeded through SplitMix64 (both public-domain algorithms by
// Blackman and Vigna), implemented here for a stable cross-compiler sequence
// (std:: distributions differ between standard libraries).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform in [0, bound); bound 0 yields 0. Unbiased (rejection sampling).
  uint64_t below(uint64_t bound);
  // True with probability numerator / denominator (integer odds, no floats).
  bool chance(uint64_t numerator, uint64_t denominator);

 private:
  uint64_t s_[4];
};

class RngStreams {
 public:
  explicit RngStreams(uint64_t root_seed) : root_seed_(root_seed) {}
  uint64_t root_seed() const { return root_seed_; }
  // The stream called `name`, created on first use from (root seed, name).
  Rng& stream(std::string_view name);

 private:
  uint64_t root_seed_;
  std::map<std::string, Rng, std::less<>> streams_;  // ordered: deterministic
};

}  // namespace aerov::model::sim
