#include "model/memory/guest_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "model/memory/copy_bytes.hpp"

namespace aerov::model {

std::string_view to_string(MemError e) {
  switch (e) {
    case MemError::kOk: return "ok";
    case MemError::kUnmapped: return "range not mapped in guest memory";
    case MemError::kOverflow: return "address + length overflows 64 bits";
    case MemError::kBadRegion: return "invalid region (empty, unaligned, wrapping or overlapping)";
    case MemError::kHostNoMemory: return "host could not reserve guest memory";
  }
  return "unknown";
}

namespace {

// The last RAM mappings released on this thread, kept for the next add_ram
// of the same size, which clears them. A simulation sweep builds and drops
// a machine per seed, and faulting its pages in again (a page fault costs
// microseconds in a VM) cost more than clearing the pages it had touched.
//
// Trivially destructible, so a GuestMemory destroyed late in the thread's
// (or the process's) exit still finds it; SpareRamCloser unmaps what it
// keeps when the thread ends, and from then on releases unmap at once.
struct SpareRam {
  struct Mapping {
    uint8_t* host;
    uint64_t size;
  };
  std::array<Mapping, 4> kept;  // oldest first
  size_t count;
  bool closed;

  void drop(size_t i) {
    for (++i; i < count; ++i) kept[i - 1] = kept[i];
    --count;
  }
};
thread_local SpareRam spare_ram{};
// Larger mappings (a sparse 64 GiB guest) are rare, and cheaper to unmap.
constexpr uint64_t kMaxSpareBytes = uint64_t{1} << 30;

struct SpareRamCloser {
  ~SpareRamCloser() {
    for (size_t i = 0; i < spare_ram.count; ++i) munmap(spare_ram.kept[i].host, spare_ram.kept[i].size);
    spare_ram.count = 0;
    spare_ram.closed = true;
  }
};

bool all_zero(const uint8_t* p, size_t n) { return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0; }

// Makes the whole mapping read as zero again: resident pages are cleared in
// place (no fault when touched again), the others, which may be swapped
// out, are dropped. A page that was only read maps the kernel's shared
// zero page: it is checked, not written (a write would copy it).
bool clear_backed(uint8_t* host, uint64_t size) {
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (page == 0 || size % page != 0) return false;
  std::vector<unsigned char> resident(size / page);
  if (mincore(host, size, resident.data()) != 0) return false;
  for (size_t i = 0; i < resident.size();) {
    const bool in = (resident[i] & 1) != 0;
    size_t end = i + 1;
    while (end < resident.size() && ((resident[end] & 1) != 0) == in) ++end;
    uint8_t* at = host + i * page;
    const size_t bytes = (end - i) * page;
    if (in) {
      for (uint8_t* p = at; p != at + bytes; p += page) {
        if (!all_zero(p, page)) std::memset(p, 0, page);
      }
    } else if (madvise(at, bytes, MADV_DONTNEED) != 0) {
      return false;
    }
    i = end;
  }
  return true;
}

// A mapping of `size` bytes kept from an earlier release, zeroed, or null.
uint8_t* take_spare_ram(uint64_t size) {
  SpareRam& s = spare_ram;
  for (size_t i = 0; i < s.count; ++i) {
    if (s.kept[i].size == size) {
      uint8_t* host = s.kept[i].host;
      s.drop(i);
      if (clear_backed(host, size)) return host;
      munmap(host, size);
      return nullptr;
    }
  }
  return nullptr;
}

void release_ram(uint8_t* host, uint64_t size) {
  static thread_local SpareRamCloser closer;  // made on first release, runs at thread end
  SpareRam& s = spare_ram;
  if (s.closed || size > kMaxSpareBytes) {
    munmap(host, size);
    return;
  }
  if (s.count == s.kept.size()) {  // the oldest goes
    munmap(s.kept[0].host, s.kept[0].size);
    s.drop(0);
  }
  s.kept[s.count++] = SpareRam::Mapping{host, size};
}

}  // namespace

GuestMemory::~GuestMemory() {
  for (const Region& r : regions_) {
    if (r.owned) release_ram(r.host, r.size);
  }
}

MemError GuestMemory::add_ram(uint64_t gpa, uint64_t size) {
  if (size == 0 || gpa % kPageSize != 0 || size % kPageSize != 0 || gpa + size < gpa ||
      size > SIZE_MAX) {
    return MemError::kBadRegion;
  }
  uint8_t* host = take_spare_ram(size);
  if (host == nullptr) {
    // Reserve without committing: pages are backed on first touch.
    void* m = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return MemError::kHostNoMemory;
    host = static_cast<uint8_t*>(m);
  }
  const MemError e = add_region(Region{gpa, size, host, true});
  if (e != MemError::kOk) release_ram(host, size);
  return e;
}

MemError GuestMemory::add_external(uint64_t gpa, uint64_t size, uint8_t* host) {
  if (size == 0 || host == nullptr || gpa + size < gpa) return MemError::kBadRegion;
  if ((reinterpret_cast<uintptr_t>(host) - gpa) % kHostAlign != 0) return MemError::kBadRegion;
  return add_region(Region{gpa, size, host, false});
}

MemError GuestMemory::add_region(Region r) {
  // r.gpa + r.size does not wrap (checked by callers); "end" may be 2^64,
  // represented as 0 only when gpa + size == 2^64, which the wrap check
  // rejects, so ends are plain comparisons.
  for (const Region& o : regions_) {
    if (r.gpa < o.gpa + o.size && o.gpa < r.gpa + r.size) return MemError::kBadRegion;
  }
  regions_.push_back(r);
  std::sort(regions_.begin(), regions_.end(),
            [](const Region& a, const Region& b) { return a.gpa < b.gpa; });
  return MemError::kOk;
}

const GuestMemory::Region* GuestMemory::find(uint64_t gpa) const {
  // Few regions (RAM below and above the PCI hole, a handful of vhost-user
  // regions): a linear scan beats anything cleverer.
  // One unsigned compare per region: below r.gpa, gpa - r.gpa wraps to at
  // least 2^64 - r.gpa, which is above r.size as no region wraps.
  for (const Region& r : regions_) {
    if (gpa - r.gpa < r.size) return &r;
  }
  return nullptr;
}

uint8_t* GuestMemory::translate(uint64_t gpa, uint64_t len) const {
  const Region* r = find(gpa);
  if (r == nullptr) return nullptr;
  const uint64_t offset = gpa - r->gpa;
  if (len > r->size - offset) return nullptr;
  return r->host + offset;
}

template <typename Fn>
MemError GuestMemory::for_each_piece(uint64_t gpa, uint64_t len, Fn&& fn) const {
  if (gpa + len < gpa) return MemError::kOverflow;
  // Validate the whole range before touching any byte, so a failed access
  // has no partial effect.
  for (uint64_t at = gpa, left = len; left != 0;) {
    const Region* r = find(at);
    if (r == nullptr) return MemError::kUnmapped;
    const uint64_t n = std::min(left, r->size - (at - r->gpa));
    at += n;
    left -= n;
  }
  if (len == 0 && find(gpa) == nullptr) return MemError::kUnmapped;
  for (uint64_t at = gpa, done = 0; done != len;) {
    const Region* r = find(at);
    const uint64_t n = std::min(len - done, r->size - (at - r->gpa));
    fn(r->host + (at - r->gpa), done, n);
    at += n;
    done += n;
  }
  return MemError::kOk;
}

MemError GuestMemory::check(uint64_t gpa, uint64_t len) const {
  return for_each_piece(gpa, len, [](uint8_t*, uint64_t, uint64_t) {});
}

MemError GuestMemory::read(uint64_t gpa, void* dst, uint64_t len) const {
  // In one region (the usual case) one lookup is the whole check.
  if (const uint8_t* host = translate(gpa, len); host != nullptr) {
    copy_bytes(static_cast<uint8_t*>(dst), host, len);
    if (len != 0) note_read(gpa, dst, len);
    return MemError::kOk;
  }
  auto* out = static_cast<uint8_t*>(dst);
  const MemError e = for_each_piece(gpa, len, [out](uint8_t* host, uint64_t done, uint64_t n) {
    copy_bytes(out + done, host, n);
  });
  if (e == MemError::kOk && len != 0) note_read(gpa, dst, len);
  return e;
}

void GuestMemory::note_read_range(uint64_t gpa, uint64_t len) const {
  (void)for_each_piece(gpa, len, [this, gpa](uint8_t* host, uint64_t done, uint64_t n) {
    if (observer_ != nullptr) observer_->device_read(gpa + done, host, n);  // it may detach itself
  });
}

MemError GuestMemory::write(uint64_t gpa, const void* src, uint64_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  // In one region (the usual case) one lookup is the whole check.
  if (uint8_t* host = translate(gpa, len); host != nullptr) {
    copy_bytes(host, in, len);
    note_write(gpa, len);
    return MemError::kOk;
  }
  const MemError e = for_each_piece(gpa, len, [in](uint8_t* host, uint64_t done, uint64_t n) {
    copy_bytes(host, in + done, n);
  });
  if (e == MemError::kOk) note_write(gpa, len);
  return e;
}

void GuestMemory::log_span(uint64_t gpa, uint64_t len) {
  len = std::min(len, ~uint64_t{0} - gpa);  // a range that would wrap ends at 2^64 - 1
  // A device interleaves a few streams (buffers, used ring, used.idx): the
  // last few ranges are tried, so each stream stays one range.
  const size_t look = std::min<size_t>(dirty_spans_.size(), 4);
  for (size_t i = dirty_spans_.size(); i-- > dirty_spans_.size() - look;) {
    Span& s = dirty_spans_[i];
    if (gpa <= s.gpa + s.len && s.gpa <= gpa + len) {  // touching or overlapping
      const uint64_t end = std::max(s.gpa + s.len, gpa + len);
      s.gpa = std::min(s.gpa, gpa);
      s.len = end - s.gpa;
      return;
    }
  }
  dirty_spans_.push_back(Span{gpa, len});
}

}  // namespace aerov::model
