#include "model/irq/intx_line.hpp"

#include <cassert>

namespace aerov::model::irq {

std::optional<IntxSourceId> IntxLine::add_source() {
  if (asserted_.size() >= kMaxSources) return std::nullopt;
  asserted_.push_back(false);
  return static_cast<IntxSourceId>(asserted_.size() - 1);
}

IntxError IntxLine::set(IntxSourceId source, bool asserted) {
  if (source >= asserted_.size()) return IntxError::kUnknownSource;
  // Idempotence: only a real change of this source's state moves the count.
  if (asserted_[source] == asserted) return IntxError::kOk;
  const bool old_level = level();
  asserted_[source] = asserted;
  if (asserted) {
    ++asserted_count_;
  } else {
    assert(asserted_count_ > 0);
    --asserted_count_;
  }
  assert(asserted_count_ <= asserted_.size());
  if (level() != old_level && sink_) sink_(level());
  return IntxError::kOk;
}

bool IntxLine::asserted(IntxSourceId source) const {
  return source < asserted_.size() && asserted_[source];
}

}  // namespace aerov::model::irq
