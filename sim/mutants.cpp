#include "sim/mutants.hpp"

namespace aerov::sim {

std::string_view to_string(Mutant m) {
  switch (m) {
    case Mutant::kNone: return "none";
    case Mutant::kDiskHidesErrors: return "disk-hides-errors";
    case Mutant::kDeadAfterReset: return "dead-after-reset";
    case Mutant::kAssumesFifoBackend: return "assumes-fifo-backend";
    case Mutant::kEmptyKickIsError: return "empty-kick-is-error";
    case Mutant::kKeepsRequestsAcrossReset: return "keeps-requests-across-reset";
    case Mutant::kForeignIrqMeansRemoved: return "foreign-irq-means-removed";
    case Mutant::kRxBatchOverflow: return "rx-batch-overflow";
    case Mutant::kCompletionBatchOverflow: return "completion-batch-overflow";
    case Mutant::kPeerRingLeaksOnDrop: return "peer-ring-leaks-on-drop";
    case Mutant::kPeerRingIgnoresOwnership: return "peer-ring-ignores-ownership";
    case Mutant::kReadLeavesAByte: return "read-leaves-a-byte";
  }
  return "unknown";
}

const std::vector<std::string>& mutant_names() {
  static const std::vector<std::string> names = {"none", "disk-hides-errors", "dead-after-reset",
                                                 "assumes-fifo-backend", "empty-kick-is-error",
                                                 "keeps-requests-across-reset",
                                                 "foreign-irq-means-removed", "rx-batch-overflow",
                                                 "completion-batch-overflow",
                                                 "peer-ring-leaks-on-drop",
                                                 "peer-ring-ignores-ownership",
                                                 "read-leaves-a-byte"};
  return names;
}

bool parse_mutant(std::string_view name, Mutant* out) {
  for (Mutant m : {Mutant::kNone, Mutant::kDiskHidesErrors, Mutant::kDeadAfterReset,
                   Mutant::kAssumesFifoBackend, Mutant::kEmptyKickIsError,
                   Mutant::kKeepsRequestsAcrossReset, Mutant::kForeignIrqMeansRemoved,
                   Mutant::kRxBatchOverflow, Mutant::kCompletionBatchOverflow,
                   Mutant::kPeerRingLeaksOnDrop, Mutant::kPeerRingIgnoresOwnership,
                   Mutant::kReadLeavesAByte}) {
    if (to_string(m) == name) {
      *out = m;
      return true;
    }
  }
  return false;
}

transport::VirtioDevice& with_mutant(Mutant m, transport::VirtioDevice& device,
                                     std::unique_ptr<transport::VirtioDevice>& holder) {
  if (m == Mutant::kDeadAfterReset) holder = std::make_unique<DeadAfterResetDevice>(device);
  if (m == Mutant::kEmptyKickIsError) holder = std::make_unique<EmptyKickIsErrorDevice>(device);
  if (m == Mutant::kKeepsRequestsAcrossReset) holder = std::make_unique<ResetIgnoringDevice>(device);
  return holder ? *holder : device;
}

}  // namespace aerov::sim
