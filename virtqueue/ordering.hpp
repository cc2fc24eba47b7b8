// Memory ordering for rings shared with another agent (a device, or a
// driver on another CPU). Freestanding: compiler builtins on GCC/clang,
// intrinsics on MSVC/WDK. Every caller comments what must be visible
// before what.
#pragma once

#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace aerov::virtqueue {

inline uint16_t load_acquire(const uint16_t* p) {
#if defined(_MSC_VER) && !defined(__clang__)
  const uint16_t v = *static_cast<const volatile uint16_t*>(p);
  _ReadWriteBarrier();
  return v;
#else
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
#endif
}

inline void store_release(uint16_t* p, uint16_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  _ReadWriteBarrier();
  *static_cast<volatile uint16_t*>(p) = v;
#else
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
#endif
}

// A field the other side may change at any time, read once.
inline uint16_t load_relaxed(const uint16_t* p) {
#if defined(_MSC_VER) && !defined(__clang__)
  return *static_cast<const volatile uint16_t*>(p);
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}

inline void store_relaxed(uint16_t* p, uint16_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  *static_cast<volatile uint16_t*>(p) = v;
#else
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
#endif
}

// Orders our earlier stores before our later loads (store-load), which
// acquire/release alone do not: needed before reading the other side's
// suppression flag or event index after publishing an index.
inline void full_fence() {
#if defined(_MSC_VER) && !defined(__clang__)
  _mm_mfence();
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

}  // namespace aerov::virtqueue
