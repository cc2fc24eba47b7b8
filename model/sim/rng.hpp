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
  // Inline: the scenarios draw per event and per 8 bytes of data.
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, bound); bound 0 yields 0. Unbiased (rejection sampling).
  uint64_t below(uint64_t bound) {
    if (bound == 0) return 0;
    // Reject the top sliver that would bias small values.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
      const uint64_t v = next();
      if (v < limit) return v % bound;
    }
  }
  // True with probability numerator / denominator (integer odds, no floats).
  bool chance(uint64_t numerator, uint64_t denominator) {
    return denominator != 0 && below(denominator) < numerator;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
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
