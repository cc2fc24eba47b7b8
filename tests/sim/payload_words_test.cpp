// The scenarios' payload words: a payload filled piece by piece (blk's
// scatter-gather pieces cut at any byte) equals the payload filled whole,
// and the checker names the first byte that differs.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <vector>

#include "sim/payload_words.hpp"

namespace {

using aerov::sim::fill_words;
using aerov::sim::words_mismatch;

}  // namespace

TEST_CASE("payload words: filled in pieces cut anywhere, the same bytes as filled whole") {
  rc::prop("pieces", [] {
    const auto n = *rc::gen::inRange<size_t>(0, 600);
    const auto first = *rc::gen::arbitrary<uint64_t>();
    std::vector<size_t> cuts = *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, n + 1));
    cuts.push_back(0);
    cuts.push_back(n);
    std::sort(cuts.begin(), cuts.end());
    std::vector<uint8_t> whole(n), pieces(n, 0xA5);
    fill_words(whole.data(), n, first);
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      fill_words(pieces.data() + cuts[i], cuts[i + 1] - cuts[i], first, cuts[i]);
    }
    RC_ASSERT(pieces == whole);
    RC_ASSERT(words_mismatch(pieces.data(), n, first) == n);
  });
}

TEST_CASE("payload words: the check names the first wrong byte") {
  rc::prop("flip", [] {
    const auto n = *rc::gen::inRange<size_t>(1, 600);
    const auto first = *rc::gen::arbitrary<uint64_t>();
    const auto at = *rc::gen::inRange<size_t>(0, n);
    std::vector<uint8_t> p(n);
    fill_words(p.data(), n, first);
    p[at] ^= *rc::gen::inRange<int>(1, 256);
    RC_ASSERT(words_mismatch(p.data(), n, first) == at);
  });
}
