// The virtqueue suite is split by who is hostile: the guest (device-side
// walker) or the device (driver-side ring).
#pragma once

#include <vector>

#include "conformance/check.hpp"

namespace aerov::conformance {

std::vector<Check> virtqueue_hostile_guest_checks();

}  // namespace aerov::conformance
