// Fallback for <fuzzer/FuzzedDataProvider.h> on hosts without clang's copy.
//
// fuzz/CMakeLists.txt uses LLVM's header whenever one is installed; this
// stand-in is only picked when none is. It implements the subset the fuzz
// targets use with exactly LLVM's byte semantics (integers are taken from the
// end of the input, most significant byte first; raw bytes from the front),
// so a corpus file decodes to the same scenario under either header.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

class FuzzedDataProvider {
 public:
  FuzzedDataProvider(const uint8_t* data, size_t size) : data_ptr_(data), remaining_bytes_(size) {}
  FuzzedDataProvider(const FuzzedDataProvider&) = delete;
  FuzzedDataProvider& operator=(const FuzzedDataProvider&) = delete;

  template <typename T>
  T ConsumeIntegral() {
    return ConsumeIntegralInRange(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  }

  template <typename T>
  T ConsumeIntegralInRange(T min, T max) {
    static_assert(std::is_integral<T>::value && sizeof(T) <= sizeof(uint64_t));
    if (min > max) abort();
    const uint64_t range = static_cast<uint64_t>(max) - static_cast<uint64_t>(min);
    uint64_t result = 0;
    size_t offset = 0;
    while (offset < sizeof(T) * CHAR_BIT && (range >> offset) > 0 && remaining_bytes_ != 0) {
      --remaining_bytes_;
      result = (result << CHAR_BIT) | data_ptr_[remaining_bytes_];
      offset += CHAR_BIT;
    }
    if (range != std::numeric_limits<uint64_t>::max()) result = result % (range + 1);
    return static_cast<T>(static_cast<uint64_t>(min) + result);
  }

  bool ConsumeBool() { return 1 & ConsumeIntegral<uint8_t>(); }

  size_t ConsumeData(void* destination, size_t num_bytes) {
    num_bytes = std::min(num_bytes, remaining_bytes_);
    if (num_bytes != 0) std::memcpy(destination, data_ptr_, num_bytes);
    data_ptr_ += num_bytes;
    remaining_bytes_ -= num_bytes;
    return num_bytes;
  }

  size_t remaining_bytes() { return remaining_bytes_; }

 private:
  const uint8_t* data_ptr_;
  size_t remaining_bytes_;
};
