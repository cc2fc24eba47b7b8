// Sparse 64-bit guest-physical address space (contract DMA-1, DMA-2).
//
// Guest RAM is a short list of regions anywhere in the 64-bit space. A RAM
// region is reserved address space that the host backs page by page on
// first touch, so a guest with RAM above 4 GiB costs only what it uses. Every
// access is bounds-checked with overflow-safe arithmetic and reports a typed
// error; nothing here trusts an address or a length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace aerov::model {

// Watches the device side of one GuestMemory, as a trace recorder does:
// the bytes every device read saw and the ranges every device write
// touched. Reads arrive through read() and note_read(); writes through
// write() and note_write(), after the bytes are in place.
class MemoryObserver {
 public:
  virtual void device_read(uint64_t gpa, const uint8_t* bytes, uint64_t len) = 0;
  virtual void device_wrote(uint64_t gpa, uint64_t len) = 0;

 protected:
  ~MemoryObserver() = default;
};

enum class MemError : uint8_t {
  kOk = 0,
  kUnmapped,     // some byte of the range lies in no region
  kOverflow,     // gpa + len wraps past 2^64
  kBadRegion,    // add_*: zero size, unaligned, wrapping or overlapping
  kHostNoMemory, // add_ram: the host refused the reservation
};

std::string_view to_string(MemError e);

class GuestMemory {
 public:
  static constexpr uint64_t kPageSize = 4096;

  GuestMemory() = default;
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Adds zero-filled RAM at [gpa, gpa + size); both page-aligned. The host
  // memory is reserved, backed on first touch; RAM a GuestMemory of this
  // thread released is reused (cleared), so machine after machine does not
  // fault the same pages in again.
  MemError add_ram(uint64_t gpa, uint64_t size);
  // Maps host memory the caller owns and keeps alive (e.g. a vhost-user
  // memfd region) at [gpa, gpa + size). host and gpa must agree modulo
  // kHostAlign (kBadRegion otherwise): an aligned ring address must give an
  // aligned host pointer, which the device models dereference.
  static constexpr uint64_t kHostAlign = 16;
  MemError add_external(uint64_t gpa, uint64_t size, uint8_t* host);

  // Host address of [gpa, gpa + len) when the whole range lies in one
  // region, else nullptr. len 0 is valid inside a region. Regions are never
  // removed, so a returned pointer stays valid for the object's lifetime.
  uint8_t* translate(uint64_t gpa, uint64_t len) const;

  // Classifies [gpa, gpa + len): kOk when every byte is mapped (possibly
  // across adjacent regions).
  MemError check(uint64_t gpa, uint64_t len) const;

  MemError read(uint64_t gpa, void* dst, uint64_t len) const;
  MemError write(uint64_t gpa, const void* src, uint64_t len);

  template <typename T>
  MemError read_obj(uint64_t gpa, T* out) const { return read(gpa, out, sizeof(T)); }
  template <typename T>
  MemError write_obj(uint64_t gpa, const T& v) { return write(gpa, &v, sizeof(T)); }

  // Dirty log, as a VMM keeps one for live migration, but by byte range:
  // while enabled, every range written through write() or reported by
  // note_write() is logged. Device models that write guest RAM through
  // translate() pointers call note_write() once the bytes are in place.
  // take_dirty_spans() hands the log over (ranges in the order written; a
  // range that touches or overlaps one of the last few is merged into it,
  // so the spans may overlap and are not sorted) and clears it; `out`'s old
  // storage is reused for the next log.
  struct Span {
    uint64_t gpa;
    uint64_t len;
  };
  void set_dirty_logging(bool on) { dirty_logging_ = on; }
  void note_write(uint64_t gpa, uint64_t len) {
    if (dirty_logging_ && len != 0) log_span(gpa, len);
    if (observer_ != nullptr && len != 0) observer_->device_wrote(gpa, len);
  }
  void take_dirty_spans(std::vector<Span>& out) {
    out.clear();
    out.swap(dirty_spans_);
  }

  // The observer (nullptr: none) sees every device access from now on.
  // Device code that reads guest RAM through translate() pointers reports
  // it: with the value it loaded (atomics, where memory may change under
  // it), or by range for buffers the driver may not touch meanwhile.
  void set_observer(MemoryObserver* observer) { observer_ = observer; }
  void note_read(uint64_t gpa, const void* value, uint64_t len) const {
    if (observer_ != nullptr) observer_->device_read(gpa, static_cast<const uint8_t*>(value), len);
  }
  void note_read(uint64_t gpa, uint64_t len) const {
    if (observer_ != nullptr) note_read_range(gpa, len);
  }

  struct Region {
    uint64_t gpa;
    uint64_t size;
    uint8_t* host;
    bool owned;
  };
  const std::vector<Region>& regions() const { return regions_; }

 private:
  MemError add_region(Region r);
  const Region* find(uint64_t gpa) const;
  template <typename Fn>
  MemError for_each_piece(uint64_t gpa, uint64_t len, Fn&& fn) const;

  void log_span(uint64_t gpa, uint64_t len);
  void note_read_range(uint64_t gpa, uint64_t len) const;

  std::vector<Region> regions_;  // sorted by gpa, non-overlapping
  bool dirty_logging_ = false;
  std::vector<Span> dirty_spans_;
  MemoryObserver* observer_ = nullptr;
};

}  // namespace aerov::model
