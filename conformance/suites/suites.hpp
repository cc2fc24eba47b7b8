// Every suite's check list; all_checks() (check.cpp) concatenates them.
#pragma once

#include <vector>

#include "conformance/check.hpp"

namespace aerov::conformance {

std::vector<Check> virtqueue_checks();
std::vector<Check> virtqueue_hostile_guest_checks();
std::vector<Check> transport_checks();
std::vector<Check> transport_capability_checks();
std::vector<Check> blk_checks();
std::vector<Check> net_checks();

}  // namespace aerov::conformance
