// Runs a shared device scenario (model/devices/*/testing/*_scenarios.hpp)
// and reports every failure it found as its own Catch2 failure.
#pragma once

#include <catch2/catch.hpp>

#include "transport/testing/scenario_text.hpp"

#define AEROV_CHECK_SCENARIO(expr)                                        \
  do {                                                                    \
    const ::aerov::transport::testing::Failures aerov_failures_ = expr;   \
    for (const auto& aerov_f_ : aerov_failures_) FAIL_CHECK(aerov_f_);    \
    CHECK(aerov_failures_.empty());                                       \
  } while (0)
