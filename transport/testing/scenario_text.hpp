// What the device scenarios (model/devices/*/testing) and the transport
// checks share besides the rig: the list of failures a scenario returns
// (empty: passed) and how numbers are worded in them.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace aerov::transport::testing {

using Failures = std::vector<std::string>;

inline void expect(Failures& f, bool ok, const std::string& what) {
  if (!ok) f.push_back(what);
}

inline std::string hex(uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

}  // namespace aerov::transport::testing
