#include "model/devices/blk/testing/hostile_cases.hpp"

#include <algorithm>
#include <cstring>

#include "transport/testing/scenario_text.hpp"

namespace aerov::model::devices::testing {

namespace {

namespace vq = virtqueue;
using transport::testing::hex;
using namespace blk;

constexpr uint64_t kC = kHostileDiskSectors;
constexpr uint64_t kSectorBytes = backends::kSectorSize;
constexpr uint64_t kUnmapped = 0x2000'0000'0000ull;
constexpr uint64_t kBogus = 0xFFFF'FFFF'FFFF'0000ull;  // never dereferenced when len is 0

RawDesc R(uint64_t addr, uint32_t len) { return RawDesc{addr, len, 0}; }
RawDesc W(uint64_t addr, uint32_t len) { return RawDesc{addr, len, vq::kDescFWrite}; }
RawDesc I(uint64_t table, uint32_t len) { return RawDesc{table, len, vq::kDescFIndirect}; }

uint8_t disk_pattern(uint64_t offset) {
  return static_cast<uint8_t>((offset / kSectorBytes * 7 + offset % kSectorBytes) ^ 0x5A);
}

// Descriptor `index` written by hand, for chains raw_chain() cannot link.
void set_desc(HostileEnv& e, uint16_t index, RawDesc d, uint16_t extra_flags, uint16_t next) {
  e.rig().raw->set_desc(index, d.addr, d.len, static_cast<uint16_t>(d.flags | extra_flags), next);
}

void post_head0(HostileEnv& e) {
  e.rig().raw->make_available(0);
  e.rig().notify();
}

// An IN (kTypeIn: the buffer is device-writable) or OUT (kTypeOut) of
// `bytes` at `sector` through one low buffer.
HostileCase transfer_case(uint32_t type, std::string name, std::vector<std::string> rules,
                          Expect expect, uint64_t sector, uint32_t bytes) {
  return {std::move(name), std::move(rules), expect, [type, sector, bytes](HostileEnv& e) {
            const uint64_t h = e.header(type, sector), b = e.buffer(bytes), s = e.status();
            e.expect_transfer(type, sector);
            e.send({R(h, 16), type == kTypeIn ? W(b, bytes) : R(b, bytes), W(s, 1)});
          }};
}

// A request of `type` with one data descriptor of `bytes` (0: none).
HostileCase typed_case(std::string name, Expect expect, uint32_t type, uint32_t bytes,
                       bool data_writable) {
  return {std::move(name), {"BLK-5"}, expect, [=](HostileEnv& e) {
            const uint64_t h = e.header(type, 0);
            if (bytes == 0) {
              e.send({R(h, 16), W(e.status(), 1)});
              return;
            }
            const uint64_t b = e.buffer(bytes);
            const uint64_t s = e.status();
            e.send({R(h, 16), data_writable ? W(b, bytes) : R(b, bytes), W(s, 1)});
          }};
}

// `n` data descriptors of 512 bytes each, IN or OUT, on a device with seg_max.
HostileCase segments_case(std::string name, Expect expect, uint32_t type, uint32_t n,
                          uint32_t seg_max) {
  HostileCase c{std::move(name), {"BLK-6", "BLK-3"}, expect, [=](HostileEnv& e) {
                  std::vector<RawDesc> d{R(e.header(type, 3), 16)};
                  for (uint32_t i = 0; i < n; ++i) {
                    const uint64_t b = e.buffer(512);
                    d.push_back(type == kTypeIn ? W(b, 512) : R(b, 512));
                  }
                  d.push_back(W(e.status(), 1));
                  e.expect_transfer(type, 3);
                  e.rig().raw_chain(d);
                }};
  c.seg_max = seg_max;
  return c;
}

}  // namespace

uint64_t HostileEnv::alloc(uint64_t len, bool high) {
  if (!high) return rig_.raw->alloc(len + 16, 16) + 3;  // deliberately unaligned (DMA-1)
  const uint64_t at = next_high_ + 5;
  next_high_ = vq::align_up(at + len, 16);
  return at;
}

uint64_t HostileEnv::header(uint32_t type, uint64_t sector, uint32_t len, bool high,
                            uint32_t ioprio) {
  const uint64_t at = alloc(len, high);
  std::vector<uint8_t> bytes(len, 0);
  const RequestHeader h{type, ioprio, sector};
  std::memcpy(bytes.data(), &h, std::min<size_t>(len, sizeof h));
  rig_.poke(at, bytes);
  return at;
}

uint64_t HostileEnv::status(uint32_t len, bool high) {
  const uint64_t at = alloc(len == 0 ? 1 : len, high);
  rig_.fill(at, BlkRig::kStatusUnwritten, len == 0 ? 1 : len);
  status_gpa_ = at;
  return at;
}

uint64_t HostileEnv::buffer(uint32_t len, bool high) {
  const uint64_t at = alloc(len, high);
  rig_.fill(at, kGuestPattern, len);
  buffers_.push_back(Buffer{at, len});
  return at;
}

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  const auto add = [&](HostileCase c) { cases.push_back(std::move(c)); };

  // ---- well-formed requests, some of them unusual (BLK-4, BLK-5) ---------
  add(transfer_case(kTypeIn, "in-one-sector", {"BLK-4", "BLK-5"}, Expect::kOk, 5, 512));
  add(transfer_case(kTypeOut, "out-one-sector", {"BLK-4", "BLK-5"}, Expect::kOk, 5, 512));
  add(transfer_case(kTypeIn, "in-last-sector", {"BLK-6"}, Expect::kOk, kC - 1, 512));
  add(transfer_case(kTypeOut, "out-eight-sectors", {"BLK-5"}, Expect::kOk, 100, 4096));
  add(typed_case("flush", Expect::kOk, kTypeFlush, 0, false));
  add({"flush-ignores-sector-and-ioprio", {"BLK-5"}, Expect::kOk, [](HostileEnv& e) {
         e.send({R(e.header(kTypeFlush, 0xDEADBEEF, 16, false, 7), 16), W(e.status(), 1)});
       }});
  add({"in-unaligned-split-segments", {"BLK-4", "DMA-1"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 17);
         const uint64_t a = e.buffer(1000), b = e.buffer(24), c = e.buffer(1), d = e.buffer(511);
         e.expect_transfer(kTypeIn, 17);
         e.send({R(h, 16), W(a, 1000), W(b, 24), W(c, 1), W(d, 511), W(e.status(), 1)});
       }});
  add({"out-unaligned-split-segments", {"BLK-4", "DMA-1"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 40);
         const uint64_t a = e.buffer(7), b = e.buffer(1017);
         e.expect_transfer(kTypeOut, 40);
         e.send({R(h, 16), R(a, 7), R(b, 1017), W(e.status(), 1)});
       }});
  add({"everything-above-4g", {"BLK-4", "DMA-2"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 64, 16, true);
         const uint64_t b = e.buffer(1536, true);
         e.expect_transfer(kTypeOut, 64);
         e.send({R(h, 16), R(b, 1536), W(e.status(1, true), 1)});
       }});
  add({"in-through-indirect-table", {"BLK-4", "VQ-4"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 2);
         const uint64_t a = e.buffer(512), b = e.buffer(512);
         const uint64_t s = e.status();
         e.expect_transfer(kTypeIn, 2);
         const RawDesc entries[] = {R(h, 16), W(a, 512), W(b, 512), W(s, 1)};
         const uint64_t table = e.rig().raw_table(entries);
         e.send({I(table, sizeof entries / sizeof entries[0] * 16)});
       }});
  add({"out-direct-header-then-indirect", {"BLK-4", "VQ-4"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 9);
         const uint64_t a = e.buffer(512);
         const uint64_t s = e.status();
         e.expect_transfer(kTypeOut, 9);
         const RawDesc entries[] = {R(a, 512), W(s, 1)};
         e.send({R(h, 16), I(e.rig().raw_table(entries), 32)});
       }});
  add({"zero-length-data-descriptor-is-skipped", {"BLK-4", "VQ-7"}, Expect::kOk, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 30), b = e.buffer(512);
         e.expect_transfer(kTypeIn, 30);
         e.send({R(h, 16), W(kBogus, 0), W(b, 512), W(e.status(), 1)});
       }});
  add(segments_case("in-exactly-seg-max", Expect::kOk, kTypeIn, 4, 4));
  add(segments_case("out-exactly-seg-max-126", Expect::kOk, kTypeOut, 126, 126));

  // ---- BLK-6: invalid reads and writes -----------------------------------
  add(typed_case("in-no-data", Expect::kIoErr, kTypeIn, 0, true));
  add(typed_case("out-no-data", Expect::kIoErr, kTypeOut, 0, false));
  add(segments_case("in-more-than-seg-max", Expect::kIoErr, kTypeIn, 5, 4));
  add(segments_case("out-more-than-seg-max", Expect::kIoErr, kTypeOut, 5, 4));
  add(segments_case("out-seg-max-1-two-segments", Expect::kIoErr, kTypeOut, 2, 1));
  add(transfer_case(kTypeIn, "in-length-511", {"BLK-6"}, Expect::kIoErr, 0, 511));
  add(transfer_case(kTypeOut, "out-length-513", {"BLK-6"}, Expect::kIoErr, 0, 513));
  add(transfer_case(kTypeIn, "in-length-1", {"BLK-6"}, Expect::kIoErr, 0, 1));
  add({"in-split-total-not-multiple-of-512", {"BLK-6"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), a = e.buffer(300), b = e.buffer(300);
         e.send({R(h, 16), W(a, 300), W(b, 300), W(e.status(), 1)});
       }});
  add({"in-only-zero-length-data", {"BLK-6", "VQ-7"}, Expect::kIoErr, [](HostileEnv& e) {
         e.send({R(e.header(kTypeIn, 0), 16), W(kBogus, 0), W(e.status(), 1)});
       }});
  add({"zero-length-descriptor-counts-toward-seg-max", {"BLK-6", "VQ-7"}, Expect::kIoErr,
       [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 0), a = e.buffer(512), b = e.buffer(512);
         e.send({R(h, 16), R(a, 512), R(b, 512), R(kBogus, 0), W(e.status(), 1)});
       },
       2});
  add(transfer_case(kTypeIn, "in-past-capacity", {"BLK-6"}, Expect::kIoErr, kC - 1, 1024));
  add(transfer_case(kTypeOut, "out-past-capacity", {"BLK-6"}, Expect::kIoErr, kC - 1, 1024));
  add(transfer_case(kTypeOut, "out-at-capacity", {"BLK-6"}, Expect::kIoErr, kC, 512));
  add(transfer_case(kTypeIn, "in-sector-max", {"BLK-6"}, Expect::kIoErr, UINT64_MAX, 512));
  add(transfer_case(kTypeOut, "out-sector-times-512-overflows", {"BLK-6"}, Expect::kIoErr,
                    1ull << 55, 512));
  add(transfer_case(kTypeOut, "out-sector-plus-count-overflows", {"BLK-6"}, Expect::kIoErr,
                    UINT64_MAX - 1, 1024));
  add({"in-readable-data", {"BLK-6"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), b = e.buffer(512);
         e.send({R(h, 16), R(b, 512), W(e.status(), 1)});
       }});
  add({"out-writable-data", {"BLK-6"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 0), b = e.buffer(512);
         e.send({R(h, 16), W(b, 512), W(e.status(), 1)});
       }});
  add({"in-mixed-directions", {"BLK-6"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), a = e.buffer(512), b = e.buffer(512);
         e.send({R(h, 16), R(a, 512), W(b, 512), W(e.status(), 1)});
       }});
  add({"out-mixed-directions", {"BLK-6"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 0), a = e.buffer(512), b = e.buffer(512);
         e.send({R(h, 16), R(a, 512), W(b, 512), W(e.status(), 1)});
       }});

  // ---- BLK-5: types --------------------------------------------------------
  add(typed_case("flush-with-writable-data", Expect::kIoErr, kTypeFlush, 512, true));
  add(typed_case("flush-with-readable-data", Expect::kIoErr, kTypeFlush, 512, false));
  add(typed_case("get-id-not-offered", Expect::kUnsupp, kTypeGetId, 20, true));
  add(typed_case("get-id-without-data", Expect::kUnsupp, kTypeGetId, 0, true));
  add(typed_case("discard-not-offered", Expect::kUnsupp, kTypeDiscard, 16, false));
  add(typed_case("write-zeroes-not-offered", Expect::kUnsupp, kTypeWriteZeroes, 16, false));
  add(typed_case("legacy-scsi-command", Expect::kUnsupp, 2, 512, true));
  add(typed_case("legacy-barrier-flag-on-out", Expect::kUnsupp, 0x80000001u, 512, false));
  add(typed_case("type-all-ones", Expect::kUnsupp, 0xFFFFFFFFu, 512, true));

  // ---- BLK-4: header and status shape ----------------------------------------
  add({"header-8-bytes", {"BLK-4"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0, 8), b = e.buffer(512);
         e.send({R(h, 8), W(b, 512), W(e.status(), 1)});
       }});
  add({"header-merged-with-data", {"BLK-4"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 0, 16 + 512);
         e.send({R(h, 16 + 512), W(e.status(), 1)});
       }});
  add({"header-split-8-and-8", {"BLK-4"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), b = e.buffer(512);
         e.send({R(h, 8), R(h + 8, 8), W(b, 512), W(e.status(), 1)});
       }});
  add({"header-writable", {"BLK-4"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), b = e.buffer(512);
         e.send({W(h, 16), W(b, 512), W(e.status(), 1)});
       }});
  add({"header-zero-length", {"BLK-4", "VQ-7"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t b = e.buffer(512);
         e.send({R(kBogus, 0), W(b, 512), W(e.status(), 1)});
       }});
  add({"status-only", {"BLK-4"}, Expect::kIoErr, [](HostileEnv& e) { e.send({W(e.status(), 1)}); }});
  add({"no-status-descriptor", {"BLK-4", "BLK-7"}, Expect::kNoStatus, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), b = e.buffer(512);
         e.send({R(h, 16), W(b, 512)});
       }});
  add({"status-readable", {"BLK-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeFlush, 0), 16), R(e.status(), 1)});
       }});
  add({"status-zero-length", {"BLK-4", "VQ-7"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeFlush, 0), 16), W(e.status(0), 0)});
       }});
  add({"status-two-bytes", {"BLK-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeFlush, 0), 16), W(e.status(2), 2)});
       }});
  add({"status-merged-into-data", {"BLK-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), b = e.buffer(513);
         e.send({R(h, 16), W(b, 513)});
       }});
  add({"header-only", {"BLK-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeFlush, 0), 16)});
       }});

  // ---- VQ-7: chain errors from the ring walker ---------------------------
  add({"loop-back-to-head-after-status", {"VQ-7", "BLK-7"}, Expect::kIoErr, [](HostileEnv& e) {
         set_desc(e, 0, R(e.header(kTypeFlush, 0), 16), vq::kDescFNext, 1);
         set_desc(e, 1, W(e.status(), 1), vq::kDescFNext, 0);
         post_head0(e);
       }});
  add({"next-out-of-range-after-status", {"VQ-7"}, Expect::kIoErr, [](HostileEnv& e) {
         set_desc(e, 0, R(e.header(kTypeFlush, 0), 16), vq::kDescFNext, 1);
         set_desc(e, 1, W(e.status(), 1), vq::kDescFNext, 200);
         post_head0(e);
       }});
  add({"readable-after-status", {"VQ-7"}, Expect::kIoErr, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeIn, 0), s = e.status(), b = e.buffer(512);
         e.send({R(h, 16), W(s, 1), R(b, 512)});
       }});
  add({"self-loop-before-status", {"VQ-7"}, Expect::kNoStatus, [](HostileEnv& e) {
         set_desc(e, 0, R(e.header(kTypeIn, 0), 16), vq::kDescFNext, 1);
         set_desc(e, 1, W(e.buffer(512), 512), vq::kDescFNext, 1);
         e.status();
         post_head0(e);
       }});
  add({"data-outside-guest-memory", {"VQ-7", "DMA-1"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeIn, 0), 16), W(kUnmapped, 512), W(e.status(), 1)});
       }});
  add({"status-outside-guest-memory", {"VQ-7", "DMA-1"}, Expect::kNoStatus, [](HostileEnv& e) {
         const uint64_t h = e.header(kTypeOut, 0), b = e.buffer(512);
         e.send({R(h, 16), R(b, 512), W(kUnmapped, 1)});
       }});
  add({"data-address-overflows", {"VQ-7"}, Expect::kNoStatus, [](HostileEnv& e) {
         e.send({R(e.header(kTypeIn, 0), 16), W(0xFFFF'FFFF'FFFF'FF00ull, 512), W(e.status(), 1)});
       }});
  add({"chain-longer-than-queue", {"VQ-7", "BLK-6"}, Expect::kNoStatus, [](HostileEnv& e) {
         // Header direct, then 127 data + status in a table: 129 buffers > N.
         std::vector<RawDesc> entries;
         const uint64_t b = e.buffer(512);
         for (int i = 0; i < 127; ++i) entries.push_back(W(b, 512));
         entries.push_back(W(e.status(), 1));
         const uint64_t table = e.rig().raw_table(entries);
         e.send({R(e.header(kTypeIn, 0), 16), I(table, 128 * 16)});
       }});
  add({"indirect-with-next", {"VQ-7", "VQ-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         const uint64_t b = e.buffer(512);
         const RawDesc entries[] = {W(b, 512)};
         const uint64_t table = e.rig().raw_table(entries);
         e.send({R(e.header(kTypeIn, 0), 16), I(table, 16), W(e.status(), 1)});
       }});
  add({"nested-indirect", {"VQ-7", "VQ-4"}, Expect::kNoStatus, [](HostileEnv& e) {
         const RawDesc inner[] = {W(e.status(), 1)};
         const uint64_t inner_table = e.rig().raw_table(inner);
         const RawDesc outer[] = {R(e.header(kTypeFlush, 0), 16), I(inner_table, 16)};
         e.send({I(e.rig().raw_table(outer), 32)});
       }});
  add({"indirect-length-not-multiple-of-16", {"VQ-7", "VQ-4"}, Expect::kNoStatus,
       [](HostileEnv& e) {
         const RawDesc entries[] = {R(e.header(kTypeFlush, 0), 16), W(e.status(), 1)};
         e.send({I(e.rig().raw_table(entries), 24)});
       }});
  {
    HostileCase c{"indirect-not-negotiated", {"VQ-7", "VQ-4"}, Expect::kNoStatus,
                  [](HostileEnv& e) {
                    const RawDesc entries[] = {R(e.header(kTypeFlush, 0), 16), W(e.status(), 1)};
                    e.send({I(e.rig().raw_table(entries), 32)});
                  }};
    c.negotiate_indirect = false;
    add(std::move(c));
  }
  return cases;
}

std::string run_hostile_case(const HostileCase& c) {
  BlkRigOptions o;
  o.raw_ring = true;
  o.disk_sectors = kHostileDiskSectors;
  o.device.seg_max = c.seg_max;
  o.negotiate_indirect = c.negotiate_indirect;
  BlkRig rig(o);

  std::vector<uint8_t> disk(kHostileDiskSectors * kSectorBytes);
  for (size_t i = 0; i < disk.size(); ++i) disk[i] = disk_pattern(i);
  rig.set_disk_bytes(0, disk);

  HostileEnv env(rig);
  c.build(env);

  if (rig.needs_reset()) return "the device asked for a reset (a chain error is not a ring error)";
  if (rig.raw_used_idx() != 1) {
    return "expected exactly one used entry, used.idx = " + std::to_string(rig.raw_used_idx());
  }
  const vq::VirtqUsedElem used = *rig.raw_used(0);
  if (used.id != 0) return "used.id " + std::to_string(used.id) + ", expected head 0";
  if (used.len != 0) return "used.len " + std::to_string(used.len) + ", expected 0 (BLK-7)";

  const bool has_status = env.status_gpa() != 0;
  const uint8_t status = has_status ? rig.peek(env.status_gpa(), 1)[0] : BlkRig::kStatusUnwritten;
  const char* const names[] = {"OK (0)", "IOERR (1)", "UNSUPP (2)", "no status written"};
  const uint8_t wanted[] = {kStatusOk, kStatusIoErr, kStatusUnsupp, BlkRig::kStatusUnwritten};
  const auto e = static_cast<size_t>(c.expect);
  if (status != wanted[e]) {
    return std::string("status byte ") + hex(status) + ", expected " + names[e];
  }

  if (c.expect != Expect::kOk) {
    // BLK-6: nothing read into the guest, nothing written to the disk.
    for (const HostileEnv::Buffer& b : env.buffers()) {
      for (uint8_t byte : rig.peek(b.gpa, b.len)) {
        if (byte != HostileEnv::kGuestPattern) return "a guest buffer at " + hex(b.gpa) + " was written";
      }
    }
    if (rig.disk_bytes(0, kHostileDiskSectors) != disk) return "the disk was written";
  } else if (env.transfer_type() == kTypeIn || env.transfer_type() == kTypeOut) {
    std::vector<uint8_t> guest;
    for (const HostileEnv::Buffer& b : env.buffers()) {
      const auto bytes = rig.peek(b.gpa, b.len);
      guest.insert(guest.end(), bytes.begin(), bytes.end());
    }
    const uint64_t sector = env.transfer_sector();
    const std::vector<uint8_t> expected(disk.begin() + static_cast<std::ptrdiff_t>(sector * kSectorBytes),
                                        disk.begin() + static_cast<std::ptrdiff_t>(sector * kSectorBytes + guest.size()));
    if (env.transfer_type() == kTypeIn && guest != expected) return "IN returned the wrong bytes";
    if (env.transfer_type() == kTypeOut &&
        rig.disk_bytes(sector, guest.size() / kSectorBytes) != guest) {
      return "OUT wrote the wrong bytes";
    }
  }

  // The device keeps serving: a valid OUT then IN of one sector.
  const uint64_t out_buf = env.buffer(512), in_buf = env.buffer(512);
  std::vector<uint8_t> fresh(512);
  for (size_t i = 0; i < fresh.size(); ++i) fresh[i] = static_cast<uint8_t>(i * 13 + 1);
  rig.poke(out_buf, fresh);
  const uint64_t s1 = env.status(), h1 = env.header(kTypeOut, 11);
  const RawDesc out_chain[] = {R(h1, 16), R(out_buf, 512), W(s1, 1)};
  rig.raw_chain(out_chain, 64);
  const uint64_t s2 = env.status(), h2 = env.header(kTypeIn, 11);
  const RawDesc in_chain[] = {R(h2, 16), W(in_buf, 512), W(s2, 1)};
  rig.raw_chain(in_chain, 80);
  if (rig.raw_used_idx() != 3 || rig.peek(s1, 1)[0] != kStatusOk || rig.peek(s2, 1)[0] != kStatusOk ||
      rig.peek(in_buf, 512) != fresh) {
    return "the next valid OUT/IN after this request did not work";
  }
  return "";
}

}  // namespace aerov::model::devices::testing
