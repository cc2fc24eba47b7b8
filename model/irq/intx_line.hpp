// A level-triggered, wired-OR INTx line (contract IRQ-1).
//
// Several functions may share one INTx pin; real hardware ORs their open-drain
// outputs. Each source keeps its own asserted state so that one function
// deasserting cannot drop a level another function still holds, and repeating
// an assert or deassert never counts twice. The sink (the interrupt
// controller side) hears only level changes, which is all a level-triggered
// input can observe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace aerov::model::irq {

using IntxSourceId = uint8_t;

enum class IntxError : uint8_t {
  kOk = 0,
  kUnknownSource,  // the id was never returned by add_source
};

class IntxLine {
 public:
  // Told the new level on every change. It may call back into the line: the
  // state is final before the sink runs.
  using LevelSink = std::function<void(bool level)>;

  // Bounds the fan-in. A PC folds all slots onto a handful of PIRQ lines, so
  // 32 sharers of one line is already far more than a machine builds.
  static constexpr size_t kMaxSources = 32;

  explicit IntxLine(LevelSink sink = {}) : sink_(std::move(sink)) {}

  void set_sink(LevelSink sink) { sink_ = std::move(sink); }

  // A new, deasserted source; nullopt once kMaxSources exist.
  std::optional<IntxSourceId> add_source();
  size_t source_count() const { return asserted_.size(); }

  IntxError set(IntxSourceId source, bool asserted);
  IntxError assert_line(IntxSourceId source) { return set(source, true); }
  IntxError deassert_line(IntxSourceId source) { return set(source, false); }

  bool level() const { return asserted_count_ > 0; }
  bool asserted(IntxSourceId source) const;

 private:
  LevelSink sink_;
  std::vector<bool> asserted_;  // indexed by IntxSourceId
  size_t asserted_count_ = 0;
};

}  // namespace aerov::model::irq
