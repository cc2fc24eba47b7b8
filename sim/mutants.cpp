#include "sim/mutants.hpp"

namespace aerov::sim {

std::string_view to_string(Mutant m) {
  switch (m) {
    case Mutant::kNone: return "none";
    case Mutant::kDiskHidesErrors: return "disk-hides-errors";
    case Mutant::kDeadAfterReset: return "dead-after-reset";
    case Mutant::kAssumesFifoBackend: return "assumes-fifo-backend";
  }
  return "unknown";
}

const std::vector<std::string>& mutant_names() {
  static const std::vector<std::string> names = {"none", "disk-hides-errors", "dead-after-reset",
                                                 "assumes-fifo-backend"};
  return names;
}

bool parse_mutant(std::string_view name, Mutant* out) {
  for (Mutant m : {Mutant::kNone, Mutant::kDiskHidesErrors, Mutant::kDeadAfterReset,
                   Mutant::kAssumesFifoBackend}) {
    if (to_string(m) == name) {
      *out = m;
      return true;
    }
  }
  return false;
}

}  // namespace aerov::sim
