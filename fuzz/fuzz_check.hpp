// Shared by the fuzz targets: an invariant check that names the broken
// expression and aborts (so libFuzzer saves the input), and a step trace
// switched on with AEROV_FUZZ_TRACE=1 when replaying one input.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace aerov::fuzz {

inline bool trace_enabled() {
  static const bool enabled = std::getenv("AEROV_FUZZ_TRACE") != nullptr;
  return enabled;
}

__attribute__((format(printf, 1, 2))) inline void trace(const char* fmt, ...) {
  if (!trace_enabled()) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

[[noreturn]] inline void violated(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace aerov::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::aerov::fuzz::violated(__FILE__, __LINE__, #cond))
