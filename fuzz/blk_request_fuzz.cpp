// libFuzzer target for the virtio-blk device model (contract BLK-4..BLK-8,
// VQ-7, VQ-8, STAT-4): a hostile driver builds guest memory and a requestq
// ring from the input and drives BlkDevice through a DeviceTransport
// stand-in (RingTransport), over a RAM disk or a FaultyDisk that delays,
// fails, reorders and crashes.
//
// Invariants, checked after every step:
//   * the device never writes memory the driver offered only for reading:
//     descriptor table, avail ring, indirect tables, request headers and
//     read-only data areas keep exactly the bytes the driver put there;
//   * every byte of the status area (where the driver points its 1-byte
//     status descriptors) is 0xFF (unwritten) or a valid status 0, 1, 2;
//   * every used entry names a head below N and has used.len 0 (BLK-7), and
//     used.idx never runs ahead of what was made available;
//   * after a device reset nothing is in flight in the device or backend;
//   * at the end, once in-flight requests drain (or after a reset if the
//     ring was corrupted), a valid FLUSH and IN complete with status OK:
//     the device keeps serving after anything the input did.
//
// Input (read front to back; past the end every byte reads 0):
//   header, 8 bytes: flags (bit 0: INDIRECT negotiated; bits 1-2: backend
//     0 RAM, 1 delays, 2 delays + random errors, 3 delays + write cache +
//     crash ops), seg_max (0: 126), max delay (% 8), le16 sectors - 1,
//     PRNG seed byte, 2 reserved;
//   then ops, one opcode byte (% 10) and fixed operands each:
//     0 SET_DESC    idx, cls, le16 off, len_sel, flags, next
//     1 SET_ENTRY   table, entry, cls, le16 off, len_sel, flags, next
//     2 HEADER      slot (% 128), type_sel, sector_sel, le64 raw, ioprio
//     3 AVAIL       head
//     4 NOTIFY
//     5 RESET       (driver resets and re-initialises the ring)
//     6 REQUEST     head, kind, nsegs, sectors, le16 sector  (a valid chain)
//     7 AVAIL_IDX   le16 delta
//     8 POWER       what, arg   (backend 3 only: crash, restart, tear)
//     9 AVAIL_FLAGS le16 flags
// fuzz/make_blk_seed_corpus.py writes seeds in this format; keep the two in
// step. AEROV_FUZZ_TRACE=1 logs every op to stderr.
//
// Built as fuzz target "blk" (aerov_add_fuzz_target): blk_fuzz_replay in
// every build replays corpus/blk; blk_fuzz is the libFuzzer binary.
#include "fuzz/fuzz_check.hpp"
#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "model/backends/disk/faulty_disk.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "model/devices/blk/testing/ring_transport.hpp"
#include "model/memory/guest_memory.hpp"
#include "virtqueue/layout.hpp"

namespace {

namespace vq = aerov::virtqueue;
namespace blk = aerov::model::devices::blk;
namespace backends = aerov::model::backends;
using aerov::model::GuestMemory;
using aerov::model::devices::BlkDevice;
using aerov::model::devices::BlkDeviceOptions;
using aerov::model::devices::testing::RingTransport;

using aerov::fuzz::trace;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i);
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Guest-physical layout. Low RAM: 1 MiB at 0; high RAM: 256 KiB at 4 GiB.
constexpr uint64_t kLowBytes = 0x100000;
constexpr uint64_t kHighBase = 1ull << 32;
constexpr uint64_t kHighBytes = 0x40000;
constexpr uint16_t kN = 128;  // contract requestq size (checked at start)
constexpr uint64_t kDesc = 0x0000;
constexpr uint64_t kAvail = 0x0800;
constexpr uint64_t kUsed = 0x1000;
constexpr uint64_t kTables = 0x2000;  // 8 tables of up to 128 entries
constexpr uint64_t kTableBytes = 2048;
constexpr uint64_t kHeaders = 0x8000;  // 128 slots of 32 bytes, one per head
constexpr uint64_t kStatus = 0x9000;   // 256 status bytes
constexpr uint64_t kStatusBytes = 256;
constexpr uint64_t kRoLow = 0x10000, kRoBytes = 0x4000;
constexpr uint64_t kRwLow = 0x20000, kRwLowBytes = kLowBytes - kRwLow;
constexpr uint64_t kRoHigh = kHighBase;
constexpr uint64_t kRwHigh = kHighBase + 0x10000, kRwHighBytes = kHighBytes - 0x10000;

// Ranges the device may only read.
struct Protected {
  uint64_t gpa, len;
};
constexpr Protected kProtected[] = {
    {kDesc, kUsed - kDesc},  // descriptor table and avail ring
    {kTables, 8 * kTableBytes},
    {kHeaders, 128 * 32},
    {kRoLow, kRoBytes},
    {kRoHigh, kRoBytes},
};

class Harness {
 public:
  explicit Harness(Reader& in) : in_(in) {}
  void run();

 private:
  uint64_t addr_for(uint8_t cls, uint16_t off, uint16_t& flags, uint32_t& len);
  uint32_t len_for(uint8_t sel, uint16_t off);
  vq::VirtqDesc pick_desc();
  void write(uint64_t gpa, const void* src, size_t n);  // driver write, shadowed
  void set_avail_idx(uint16_t idx);
  void notify();
  void reset();
  void check();
  void drain_and_canary();

  Reader& in_;
  GuestMemory mem_;
  std::unique_ptr<backends::RamDisk> ram_;
  std::unique_ptr<backends::FaultyDisk> faulty_;
  backends::DiskBackend* disk_ = nullptr;
  std::unique_ptr<BlkDevice> dev_;
  std::unique_ptr<RingTransport> t_;
  vq::DeviceQueueConfig cfg_{};
  uint8_t mode_ = 0;
  uint64_t sectors_ = 1;
  uint16_t avail_idx_ = 0;
  uint16_t used_seen_ = 0;
  uint64_t exposed_ = 0;  // avail entries made visible since the last reset
  uint64_t used_ = 0;     // used entries seen since the last reset
  uint32_t ring_errors_ = 0;  // times the ring stopped (STAT-4)
  std::vector<std::vector<uint8_t>> shadow_;  // per kProtected range
};

void Harness::write(uint64_t gpa, const void* src, size_t n) {
  FUZZ_CHECK(mem_.write(gpa, src, n) == aerov::model::MemError::kOk);
  // Mirror the part that lands in each read-only range (one overlap each).
  for (size_t r = 0; r < std::size(kProtected); ++r) {
    const Protected& p = kProtected[r];
    const uint64_t lo = std::max(gpa, p.gpa), hi = std::min(gpa + n, p.gpa + p.len);
    if (lo < hi) std::memcpy(&shadow_[r][lo - p.gpa], static_cast<const uint8_t*>(src) + (lo - gpa), hi - lo);
  }
}

uint32_t Harness::len_for(uint8_t sel, uint16_t off) {
  static constexpr uint32_t kLens[] = {0, 1, 8, 16, 511, 512, 513, 1024, 4096, 0, 0xFFFFFFFFu, 2048};
  const uint8_t i = sel % 12;
  return i == 9 ? off % 8192u : kLens[i];
}

// Address classes keep the invariants checkable without weakening the
// attack: only RW areas, status bytes and wild addresses may be
// device-writable; INDIRECT only points into the table area (whose entries
// obey the same classes); and a writable status-area descriptor is at most
// one byte and never has NEXT, so it always ends its chain and the device
// can only ever put a status there, never data.
uint64_t Harness::addr_for(uint8_t cls, uint16_t off, uint16_t& flags, uint32_t& len) {
  const auto read_only = [&] { flags = static_cast<uint16_t>(flags & ~vq::kDescFWrite); };
  if (cls % 8 != 6) flags = static_cast<uint16_t>(flags & ~vq::kDescFIndirect);
  switch (cls % 8) {
    case 0: read_only(); return kHeaders + (off % kN) * 32ull;
    case 1:
      if ((flags & vq::kDescFWrite) != 0) {
        if (len > 1) len = 1;
        flags = static_cast<uint16_t>(flags & ~vq::kDescFNext);
      }
      return kStatus + off % kStatusBytes;
    case 2: read_only(); return kRoLow + off % kRoBytes;
    case 3: return kRwLow + (off * 8ull) % kRwLowBytes;
    case 4: read_only(); return kRoHigh + off % kRoBytes;
    case 5: return kRwHigh + (off * 4ull) % kRwHighBytes;
    case 6: read_only(); return kTables + (off % 8) * kTableBytes;
    default: {
      static constexpr uint64_t kWild[] = {0x40000000ull, 0x7FFFFFFFF000ull, 0xFFFFFFFFFFFFFF00ull,
                                           kLowBytes - 64, kHighBase + kHighBytes - 64,
                                           kHighBase - 16};
      const uint64_t w = kWild[off % 6] + (off >> 8) % 64;
      // The near-end addresses sit in RW areas and the others are unmapped,
      // except that kHighBase - 16 plus up to 63 may start inside the
      // read-only high area: there the driver offers the bytes read-only.
      if (w >= kRoHigh && w < kRoHigh + kRoBytes) read_only();
      return w;
    }
  }
}

vq::VirtqDesc Harness::pick_desc() {
  const uint8_t cls = in_.u8();
  const uint16_t off = in_.u16();
  const uint8_t len_sel = in_.u8();
  auto flags = static_cast<uint16_t>(in_.u8() & 7);
  const uint8_t next = in_.u8();
  uint32_t len = len_for(len_sel, off);
  const uint64_t addr = addr_for(cls, off, flags, len);
  return vq::VirtqDesc{addr, len, flags, next};
}

void Harness::set_avail_idx(uint16_t idx) {
  const uint16_t delta = static_cast<uint16_t>(idx - avail_idx_);
  exposed_ += delta;
  avail_idx_ = idx;
  write(kAvail + 2, &idx, 2);
}

void Harness::check() {
  for (size_t r = 0; r < std::size(kProtected); ++r) {
    // Each range lies in one region, so it can be compared in place.
    const uint8_t* now = mem_.translate(kProtected[r].gpa, kProtected[r].len);
    FUZZ_CHECK(now != nullptr);
    FUZZ_CHECK(std::memcmp(now, shadow_[r].data(), kProtected[r].len) == 0);  // device wrote read-only memory
  }
  uint8_t status[kStatusBytes];
  mem_.read(kStatus, status, sizeof status);
  for (uint8_t s : status) FUZZ_CHECK(s == 0xFF || s <= blk::kStatusUnsupp);
  uint16_t used_idx = 0;
  mem_.read(kUsed + 2, &used_idx, 2);
  const uint16_t fresh = static_cast<uint16_t>(used_idx - used_seen_);
  FUZZ_CHECK(fresh <= kN);
  for (uint16_t i = 0; i < fresh; ++i) {
    vq::VirtqUsedElem e{};
    mem_.read(kUsed + 4 + 8ull * ((used_seen_ + i) % kN), &e, sizeof e);
    trace("  used id=%u len=%u", e.id, e.len);
    FUZZ_CHECK(e.id < kN);
    FUZZ_CHECK(e.len == 0);  // BLK-7
  }
  used_seen_ = used_idx;
  used_ += fresh;
  FUZZ_CHECK(used_ <= exposed_);
  FUZZ_CHECK(dev_->in_flight() <= kN);
}

void Harness::notify() {
  const bool was_stopped = t_->needs_reset();
  t_->notify(*dev_);
  if (!was_stopped && t_->needs_reset()) ++ring_errors_;
  const auto& st = dev_->stats();
  trace("  in_flight=%u needs_reset=%d ok=%llu ioerr=%llu unsupp=%llu no_status=%llu chain_errors=%llu",
        dev_->in_flight(), t_->needs_reset(), static_cast<unsigned long long>(st.ok),
        static_cast<unsigned long long>(st.ioerr), static_cast<unsigned long long>(st.unsupp),
        static_cast<unsigned long long>(st.no_status),
        static_cast<unsigned long long>(st.chain_errors));
  check();
}

void Harness::reset() {
  t_->reset(*dev_);
  FUZZ_CHECK(dev_->in_flight() == 0);
  FUZZ_CHECK(disk_->in_flight() == 0);
  // The driver re-initialises its ring: zeroed avail and used rings.
  const std::vector<uint8_t> zeros(kUsed + vq::used_ring_bytes(kN, false) - kAvail, 0);
  write(kAvail, zeros.data(), zeros.size());
  avail_idx_ = used_seen_ = 0;
  exposed_ = used_ = 0;
  t_->configure(cfg_);
  FUZZ_CHECK(!t_->needs_reset());
  dev_->activate(*t_);
  check();
}

void Harness::drain_and_canary() {
  // Take whatever the input left in the avail ring, then let it finish.
  notify();
  for (int i = 0; i < 64 && dev_->in_flight() != 0 && !t_->needs_reset(); ++i) notify();
  const auto& st = dev_->stats();
  // make_blk_seed_corpus.py --check reads this line to confirm each seed
  // still reaches the outcome its name promises.
  trace("drained: ok=%llu ioerr=%llu unsupp=%llu no_status=%llu chain_errors=%llu ring_errors=%u",
        static_cast<unsigned long long>(st.ok), static_cast<unsigned long long>(st.ioerr),
        static_cast<unsigned long long>(st.unsupp), static_cast<unsigned long long>(st.no_status),
        static_cast<unsigned long long>(st.chain_errors), ring_errors_);
  if (t_->needs_reset()) reset();
  FUZZ_CHECK(dev_->in_flight() == 0);  // a healthy ring drains: nothing is stuck
  if (faulty_) {
    faulty_->restart();
    faulty_->set_error_rate(0, 0);
  }
  // The device keeps serving: a FLUSH (head 0) and a one-sector IN (head 2).
  const uint8_t unwritten = 0xFF;
  const blk::RequestHeader flush{blk::kTypeFlush, 0, 0}, read{blk::kTypeIn, 0, 0};
  write(kHeaders + 126 * 32, &flush, sizeof flush);
  write(kHeaders + 127 * 32, &read, sizeof read);
  write(kStatus + 254, &unwritten, 1);
  write(kStatus + 255, &unwritten, 1);
  const vq::VirtqDesc d[] = {
      {kHeaders + 126 * 32, 16, vq::kDescFNext, 1},
      {kStatus + 254, 1, vq::kDescFWrite, 0},
      {kHeaders + 127 * 32, 16, vq::kDescFNext, 3},
      {kRwLow, 512, vq::kDescFNext | vq::kDescFWrite, 4},
      {kStatus + 255, 1, vq::kDescFWrite, 0},
  };
  write(kDesc, d, sizeof d);
  for (uint16_t head : {uint16_t{0}, uint16_t{2}}) {
    write(kAvail + 4 + 2ull * (avail_idx_ % kN), &head, 2);
    set_avail_idx(static_cast<uint16_t>(avail_idx_ + 1));
  }
  for (int i = 0; i < 64 && (i == 0 || dev_->in_flight() != 0); ++i) notify();
  FUZZ_CHECK(!t_->needs_reset());
  uint8_t s[2] = {};
  mem_.read(kStatus + 254, s, 2);
  trace("canary: flush=%u in=%u", s[0], s[1]);
  FUZZ_CHECK(s[0] == blk::kStatusOk);
  FUZZ_CHECK(s[1] == blk::kStatusOk);
}

void Harness::run() {
  // ---- machine ---------------------------------------------------------------
  const uint8_t flags = in_.u8();
  const uint8_t seg_max = in_.u8();
  const uint8_t max_delay = in_.u8() % 8;
  sectors_ = uint64_t{in_.u16()} + 1;
  const uint8_t seed = in_.u8();
  in_.u16();
  mode_ = (flags >> 1) & 3;
  FUZZ_CHECK(mem_.add_ram(0, kLowBytes) == aerov::model::MemError::kOk);
  FUZZ_CHECK(mem_.add_ram(kHighBase, kHighBytes) == aerov::model::MemError::kOk);
  ram_ = std::make_unique<backends::RamDisk>(sectors_);
  disk_ = ram_.get();
  if (mode_ != 0) {
    backends::FaultyDiskOptions o;
    o.seed = seed;
    o.write_cache = mode_ == 3;
    o.min_delay = 0;
    o.max_delay = max_delay;
    o.error_per_million = mode_ == 2 ? 100000 : 0;
    o.error_ops = backends::kFaultRead | backends::kFaultWrite | backends::kFaultFlush;
    faulty_ = std::make_unique<backends::FaultyDisk>(*ram_, o);
    disk_ = faulty_.get();
  }
  BlkDeviceOptions dopt;
  dopt.seg_max = seg_max == 0 ? 126 : seg_max;
  dev_ = std::make_unique<BlkDevice>(*disk_, dopt);
  FUZZ_CHECK(dev_->queue_size(0) == kN);
  const uint64_t features = dev_->device_features() &
                            ~((flags & 1) ? 0 : (1ull << vq::kFRingIndirectDesc));
  t_ = std::make_unique<RingTransport>(mem_, features);
  cfg_ = vq::DeviceQueueConfig{kN, kDesc, kAvail, kUsed, (flags & 1) != 0, false};

  // Patterns, so a stray write shows up; the indirect tables start as zero
  // descriptors (a table is only ever filled through SET_ENTRY's classes).
  for (const Protected& p : kProtected) {
    std::vector<uint8_t> fill(p.len);
    if (p.gpa != kTables) {
      for (size_t i = 0; i < fill.size(); ++i) fill[i] = static_cast<uint8_t>(i * 37 + p.gpa);
    }
    shadow_.emplace_back(p.len);
    write(p.gpa, fill.data(), fill.size());
  }
  const std::vector<uint8_t> unwritten(kStatusBytes, 0xFF);
  write(kStatus, unwritten.data(), unwritten.size());
  // A ring the driver set up: zero descriptors and rings, then DRIVER_OK.
  const std::vector<uint8_t> zeros(kUsed + vq::used_ring_bytes(kN, false), 0);
  write(kDesc, zeros.data(), zeros.size());
  FUZZ_CHECK(t_->configure(cfg_) == vq::RingError::kNone);
  dev_->activate(*t_);
  trace("blk fuzz: indirect=%d backend=%u seg_max=%u delay<=%u sectors=%llu", flags & 1, mode_,
        dev_->seg_max(), max_delay, static_cast<unsigned long long>(sectors_));

  // ---- ops -------------------------------------------------------------------
  for (int ops = 0; ops < 512 && !in_.empty(); ++ops) {
    switch (in_.u8() % 10) {
      case 0: {
        const uint8_t idx = in_.u8();
        const vq::VirtqDesc d = pick_desc();
        trace("desc[%u] = {0x%llx, %u, %u, %u}", idx % kN, static_cast<unsigned long long>(d.addr),
              d.len, d.flags, d.next);
        write(kDesc + 16ull * (idx % kN), &d, sizeof d);
        break;
      }
      case 1: {
        const uint8_t table = in_.u8() % 8, entry = in_.u8() % kN;
        const vq::VirtqDesc d = pick_desc();
        trace("table[%u][%u] = {0x%llx, %u, %u, %u}", table, entry,
              static_cast<unsigned long long>(d.addr), d.len, d.flags, d.next);
        write(kTables + table * kTableBytes + 16ull * entry, &d, sizeof d);
        break;
      }
      case 2: {
        const uint8_t slot = in_.u8() % kN, type_sel = in_.u8() % 8, sector_sel = in_.u8() % 6;
        const uint64_t raw = in_.u64();
        const uint8_t ioprio = in_.u8();
        static constexpr uint32_t kTypes[] = {blk::kTypeIn, blk::kTypeOut, blk::kTypeFlush,
                                              blk::kTypeGetId, blk::kTypeDiscard,
                                              blk::kTypeWriteZeroes, 0, 0x80000000u};
        const uint32_t type = type_sel == 6 ? static_cast<uint32_t>(raw) : kTypes[type_sel];
        const uint64_t sector = sector_sel == 0   ? raw % sectors_
                                : sector_sel == 1 ? sectors_ - 1
                                : sector_sel == 2 ? sectors_
                                : sector_sel == 3 ? raw
                                : sector_sel == 4 ? 1ull << 55
                                                  : UINT64_MAX - raw % 4;
        const blk::RequestHeader h{type, ioprio, sector};
        trace("header[%u] = {type %u, sector 0x%llx}", slot, type, static_cast<unsigned long long>(sector));
        write(kHeaders + slot * 32ull, &h, sizeof h);
        break;
      }
      case 3: {
        const uint16_t head = in_.u8();  // 128..255: out of range on purpose
        trace("avail[%u] = %u", avail_idx_, head);
        write(kAvail + 4 + 2ull * (avail_idx_ % kN), &head, 2);
        set_avail_idx(static_cast<uint16_t>(avail_idx_ + 1));
        break;
      }
      case 4:
        trace("notify");
        notify();
        break;
      case 5:
        trace("reset");
        reset();
        break;
      case 6: {
        const uint16_t head = in_.u8() % kN;
        const uint8_t kind = in_.u8() % 3, nsegs_raw = in_.u8(), count_raw = in_.u8();
        const uint16_t sector = in_.u16();
        const uint32_t type = kind == 0 ? blk::kTypeIn : kind == 1 ? blk::kTypeOut : blk::kTypeFlush;
        const uint32_t nsegs = type == blk::kTypeFlush ? 0 : 1 + nsegs_raw % 4;
        const uint32_t bytes = (1 + count_raw % 8) * 512;
        const blk::RequestHeader h{type, 0, sector % (sectors_ + 2)};
        write(kHeaders + head * 32ull, &h, sizeof h);
        std::vector<vq::VirtqDesc> d;
        d.push_back({kHeaders + head * 32ull, 16, 0, 0});
        uint32_t done = 0;
        for (uint32_t s = 0; s < nsegs; ++s) {
          const uint32_t len = s + 1 == nsegs ? bytes - done : bytes / nsegs;
          const uint64_t at = type == blk::kTypeIn ? kRwLow + head * 0x1000ull + done
                                                   : kRoLow + (head * 64ull) % 0x2000 + done;
          d.push_back({at, len, static_cast<uint16_t>(type == blk::kTypeIn ? vq::kDescFWrite : 0), 0});
          done += len;
        }
        d.push_back({kStatus + head, 1, vq::kDescFWrite, 0});
        for (size_t i = 0; i < d.size(); ++i) {
          const auto index = static_cast<uint16_t>((head + i) % kN);
          if (i + 1 < d.size()) {
            d[i].flags = static_cast<uint16_t>(d[i].flags | vq::kDescFNext);
            d[i].next = static_cast<uint16_t>((index + 1) % kN);
          }
          write(kDesc + 16ull * index, &d[i], sizeof d[i]);
        }
        trace("request head %u type %u sector %u bytes %u segs %u", head, type,
              static_cast<unsigned>(h.sector), bytes, nsegs);
        write(kAvail + 4 + 2ull * (avail_idx_ % kN), &head, 2);
        set_avail_idx(static_cast<uint16_t>(avail_idx_ + 1));
        break;
      }
      case 7: {
        const uint16_t delta = in_.u16();
        trace("avail.idx += %u", delta);
        set_avail_idx(static_cast<uint16_t>(avail_idx_ + delta));
        break;
      }
      case 8: {
        const uint8_t what = in_.u8(), arg = in_.u8();
        if (mode_ != 3) break;
        trace("power %u", what % 3);
        if (what % 3 == 0) faulty_->crash();
        if (what % 3 == 1) faulty_->restart();
        if (what % 3 == 2) faulty_->arm_torn_write(arg % 8);
        break;
      }
      default: {
        const uint16_t f = in_.u16();
        write(kAvail, &f, 2);
        break;
      }
    }
  }
  drain_and_canary();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  Harness h(in);
  h.run();
  return 0;
}
