#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/blk_request_fuzz.cpp into fuzz/corpus/blk/.

One named scenario per file: valid requests on every backend mode, the
hostile request shapes of the contract (BLK-4..BLK-6), chain errors (VQ-7),
ring corruption and resets (VQ-8, STAT-4), crashes and torn writes (BLK-8).
The encoder below mirrors the input format documented at the top of
blk_request_fuzz.cpp; keep them in step.

    python3 fuzz/make_blk_seed_corpus.py            # (re)write fuzz/corpus/blk/
    python3 fuzz/make_blk_seed_corpus.py --check [--replay BIN] DIR

--check fails when a committed seed differs from what this script makes;
with --replay (the blk_fuzz_replay binary) it also runs every seed
with AEROV_FUZZ_TRACE=1 and fails when a seed no longer reaches the outcome
recorded in EXPECT (the device's counters once the input's requests have
drained), e.g. after the input format changed.
"""
import os
import struct
import sys

import seed_corpus

# Address classes, length selectors, flags, type and sector selectors.
HDR, STATUS, ROL, RWL, ROH, RWH, TABLE, WILD = range(8)
L0, L1, L8, L16, L511, L512, L513, L1024, L4096, LOFF, LMAX, L2048 = range(12)
NEXT, WRITE, INDIRECT = 1, 2, 4
IN, OUT, FLUSH, GETID, DISCARD, WZ, RAWTYPE, BARRIER = range(8)
SMALL, LAST, CAP, RAWSECTOR, S55, SMAX = range(6)
RAM, DELAY, ERRORS, CRASHY = range(4)


def machine(indirect=True, mode=RAM, seg_max=0, max_delay=0, sectors=2048, seed=1):
    return bytes([(1 if indirect else 0) | mode << 1, seg_max, max_delay]) + \
        struct.pack("<H", sectors - 1) + bytes([seed, 0, 0])


def desc(idx, cls, off, len_sel, flags, nxt=0):
    return bytes([0, idx, cls]) + struct.pack("<H", off) + bytes([len_sel, flags, nxt])


def entry(table, idx, cls, off, len_sel, flags, nxt=0):
    return bytes([1, table, idx, cls]) + struct.pack("<H", off) + bytes([len_sel, flags, nxt])


def header(slot, type_sel, sector_sel=SMALL, raw=0, ioprio=0):
    return bytes([2, slot, type_sel, sector_sel]) + struct.pack("<Q", raw) + bytes([ioprio])


def avail(head):
    return bytes([3, head])


NOTIFY = bytes([4])
RESET = bytes([5])


def request(head, kind, nsegs=1, sectors=1, sector=0):
    # kind: 0 IN, 1 OUT, 2 FLUSH; nsegs 1..4 and sectors 1..8 as encoded + 1.
    return bytes([6, head, kind, nsegs - 1, sectors - 1]) + struct.pack("<H", sector)


def avail_idx(delta):
    return bytes([7]) + struct.pack("<H", delta & 0xFFFF)


def power(what, arg=0):  # 0 crash, 1 restart, 2 tear the next write keeping arg sectors
    return bytes([8, what, arg])


def avail_flags(flags):
    return bytes([9]) + struct.pack("<H", flags)


def chain(head, parts):
    """Direct chain at descriptors head, head+1, ...: parts are
    (cls, off, len_sel, flags); NEXT links are added."""
    out = b""
    for i, (cls, off, len_sel, flags) in enumerate(parts):
        last = i + 1 == len(parts)
        out += desc((head + i) % 128, cls, off, len_sel, flags | (0 if last else NEXT),
                    0 if last else (head + i + 1) % 128)
    return out + avail(head)


def simple(type_sel, data, sector_sel=SMALL, raw=3, head=0):
    """Header in slot `head`, `data` parts, status byte `head`; made available."""
    return header(head, type_sel, sector_sel, raw) + \
        chain(head, [(HDR, head, L16, 0)] + data + [(STATUS, head, L1, WRITE)])


def scenarios():
    s = {}
    m = machine()
    # ---- valid traffic ------------------------------------------------------
    s["valid_in_out_flush"] = m + request(0, 1, 2, 4, 10) + request(8, 0, 3, 4, 10) + \
        request(16, 2) + NOTIFY
    s["valid_batch_out_of_order"] = machine(mode=DELAY, max_delay=7, seed=5) + b"".join(
        request(h * 6, h % 3, 1 + h % 4, 1 + h % 8, h * 9) for h in range(20)) + NOTIFY * 12
    s["valid_flush_waits_for_slow_out"] = machine(mode=DELAY, max_delay=7, seed=9) + \
        request(0, 1, 4, 8, 100) + NOTIFY + request(10, 2) + request(12, 1, 1, 1, 7) + NOTIFY * 10
    s["valid_random_errors"] = machine(mode=ERRORS, max_delay=3, seed=77) + b"".join(
        request(h * 6, h % 3, 2, 2, h) for h in range(16)) + NOTIFY * 8
    s["valid_indirect_table"] = m + header(1, OUT, SMALL, 40) + \
        entry(0, 0, HDR, 1, L16, NEXT, 1) + entry(0, 1, ROL, 0, L1024, NEXT, 2) + \
        entry(0, 2, STATUS, 1, L1, WRITE) + desc(0, TABLE, 48, LOFF, INDIRECT) + avail(0) + NOTIFY
    s["valid_high_memory"] = m + simple(IN, [(RWH, 0, L1024, WRITE)]) + NOTIFY + \
        simple(OUT, [(ROH, 0, L512, 0)], head=4) + NOTIFY
    s["valid_unaligned_segments"] = m + simple(IN, [(RWL, 3, L511, WRITE), (RWL, 901, L1, WRITE)]) + NOTIFY
    s["valid_full_ring"] = m + b"".join(request(h * 2, 2) for h in range(64)) + NOTIFY
    s["valid_no_interrupt_flag"] = m + avail_flags(1) + request(0, 0) + NOTIFY + avail_flags(0) + \
        request(4, 1) + NOTIFY
    # ---- BLK-4/5/6 hostile shapes ------------------------------------------
    s["hostile_in_no_data"] = m + simple(IN, []) + NOTIFY
    s["hostile_out_writable_data"] = m + simple(OUT, [(RWL, 0, L512, WRITE)]) + NOTIFY
    s["hostile_in_readable_data"] = m + simple(IN, [(ROL, 0, L512, 0)]) + NOTIFY
    s["hostile_length_511"] = m + simple(IN, [(RWL, 0, L511, WRITE)]) + NOTIFY
    s["hostile_length_513"] = m + simple(OUT, [(ROL, 0, L513, 0)]) + NOTIFY
    s["hostile_past_capacity"] = machine(sectors=16) + simple(IN, [(RWL, 0, L1024, WRITE)], LAST) + NOTIFY + \
        simple(OUT, [(ROL, 0, L512, 0)], CAP, head=4) + NOTIFY
    s["hostile_sector_overflow"] = m + simple(OUT, [(ROL, 0, L512, 0)], S55) + NOTIFY + \
        simple(IN, [(RWL, 0, L1024, WRITE)], SMAX, raw=1, head=4) + NOTIFY
    s["hostile_too_many_segments"] = machine(seg_max=2) + simple(
        OUT, [(ROL, 0, L512, 0), (ROL, 512, L512, 0), (ROL, 1024, L512, 0)]) + NOTIFY
    s["hostile_zero_length_data"] = m + simple(IN, [(WILD, 2, L0, WRITE)]) + NOTIFY + \
        simple(IN, [(WILD, 2, L0, WRITE), (RWL, 0, L512, WRITE)], head=5) + NOTIFY
    s["hostile_unknown_types"] = m + simple(GETID, [(RWL, 0, L16, WRITE)]) + \
        simple(DISCARD, [(ROL, 0, L16, 0)], head=4) + simple(BARRIER, [], head=8) + \
        simple(RAWTYPE, [], raw=0xDEADBEEF, head=12) + NOTIFY
    s["hostile_flush_with_data"] = m + simple(FLUSH, [(RWL, 0, L512, WRITE)]) + NOTIFY
    s["hostile_header_split"] = m + header(0, IN) + \
        chain(0, [(HDR, 0, L8, 0), (HDR, 0, L8, 0), (RWL, 0, L512, WRITE), (STATUS, 0, L1, WRITE)]) + NOTIFY
    s["hostile_header_short_and_long"] = m + header(0, FLUSH) + \
        chain(0, [(HDR, 0, L8, 0), (STATUS, 0, L1, WRITE)]) + \
        chain(4, [(HDR, 0, L1024, 0), (STATUS, 1, L1, WRITE)]) + NOTIFY
    s["hostile_no_status"] = m + header(0, IN) + chain(0, [(HDR, 0, L16, 0), (RWL, 0, L512, WRITE)]) + NOTIFY
    s["hostile_status_readable_or_empty"] = m + header(0, FLUSH) + \
        chain(0, [(HDR, 0, L16, 0), (STATUS, 0, L1, 0)]) + \
        chain(4, [(HDR, 0, L16, 0), (STATUS, 1, L0, WRITE)]) + NOTIFY
    s["hostile_status_only"] = m + chain(0, [(STATUS, 0, L1, WRITE)]) + NOTIFY
    # ---- VQ-7 chain errors -------------------------------------------------
    s["chain_loop"] = m + header(0, FLUSH) + desc(0, HDR, 0, L16, NEXT, 1) + \
        desc(1, RWL, 0, L512, NEXT | WRITE, 1) + avail(0) + NOTIFY
    s["chain_next_out_of_range"] = m + header(0, IN) + desc(0, HDR, 0, L16, NEXT, 200) + avail(0) + NOTIFY
    s["chain_readable_after_writable"] = m + header(0, IN) + \
        chain(0, [(HDR, 0, L16, 0), (RWL, 0, L512, WRITE), (ROL, 0, L512, 0), (STATUS, 0, L1, WRITE)]) + NOTIFY
    s["chain_outside_memory"] = m + simple(IN, [(WILD, 0, L512, WRITE)]) + NOTIFY + \
        simple(IN, [(WILD, 2, L512, WRITE)], head=4) + NOTIFY + \
        simple(IN, [(WILD, 3, L1024, WRITE)], head=8) + NOTIFY
    s["chain_indirect_not_negotiated"] = machine(indirect=False) + header(0, FLUSH) + \
        entry(0, 0, HDR, 0, L16, NEXT, 1) + entry(0, 1, STATUS, 0, L1, WRITE) + \
        desc(0, TABLE, 32, LOFF, INDIRECT) + avail(0) + NOTIFY
    s["chain_indirect_bad_length_and_next"] = m + header(0, FLUSH) + \
        entry(0, 0, HDR, 0, L16, NEXT, 1) + entry(0, 1, STATUS, 0, L1, WRITE) + \
        desc(0, TABLE, 0, L8, INDIRECT) + avail(0) + \
        desc(4, HDR, 0, L16, NEXT, 5) + desc(5, TABLE, 0, L2048, INDIRECT | NEXT, 6) + \
        desc(6, STATUS, 1, L1, WRITE) + avail(4) + NOTIFY
    s["chain_nested_indirect"] = m + header(0, FLUSH) + entry(1, 0, STATUS, 0, L1, WRITE) + \
        entry(0, 0, HDR, 0, L16, NEXT, 1) + entry(0, 1, TABLE, 1, L16, INDIRECT) + \
        desc(0, TABLE, 0, L2048, INDIRECT) + avail(0) + NOTIFY
    # ---- VQ-8 / STAT-4 ring corruption and resets ----------------------------
    s["ring_head_out_of_range"] = m + request(0, 2) + avail(200) + NOTIFY + request(0, 0) + NOTIFY
    s["ring_avail_idx_ahead"] = m + request(0, 2) + avail_idx(300) + NOTIFY + RESET + request(0, 1) + NOTIFY
    s["ring_head_in_flight"] = machine(mode=DELAY, max_delay=7, seed=2) + request(0, 1) + NOTIFY + \
        avail(0) + NOTIFY + RESET + request(0, 0) + NOTIFY * 4
    s["reset_mid_flight"] = machine(mode=DELAY, max_delay=7, seed=3) + b"".join(
        request(h * 6, h % 3, 2, 3, h) for h in range(8)) + NOTIFY + RESET + request(0, 0) + NOTIFY * 3
    # ---- BLK-8 crashes and torn writes -------------------------------------
    s["power_torn_write"] = machine(mode=CRASHY, max_delay=2, seed=4) + request(0, 1, 2, 8, 0) + \
        NOTIFY * 3 + request(10, 2) + NOTIFY * 3 + power(2, 3) + request(20, 1, 1, 8, 0) + NOTIFY * 4 + \
        power(1) + request(30, 0, 1, 8, 0) + NOTIFY * 3
    s["power_crash_with_requests_in_flight"] = machine(mode=CRASHY, max_delay=7, seed=8) + b"".join(
        request(h * 6, h % 3, 1, 2, h * 2) for h in range(10)) + NOTIFY + power(0) + NOTIFY * 3 + \
        request(70, 2) + NOTIFY + power(1) + request(80, 1) + NOTIFY * 4
    s["empty_input"] = b""
    return s


# What the device did with each seed's requests (the fuzz target's
# "drained:" trace line). Counters include every request of the seed.
EXPECT = {
    "chain_indirect_bad_length_and_next": "ok=0 ioerr=0 unsupp=0 no_status=2 chain_errors=2 ring_errors=0",
    "chain_indirect_not_negotiated": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=1 ring_errors=0",
    "chain_loop": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=1 ring_errors=0",
    "chain_nested_indirect": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=1 ring_errors=0",
    "chain_next_out_of_range": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=1 ring_errors=0",
    "chain_outside_memory": "ok=0 ioerr=0 unsupp=0 no_status=3 chain_errors=3 ring_errors=0",
    "chain_readable_after_writable": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=1 ring_errors=0",
    "empty_input": "ok=0 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_flush_with_data": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_header_short_and_long": "ok=0 ioerr=2 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_header_split": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_in_no_data": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_in_readable_data": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_length_511": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_length_513": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_no_status": "ok=0 ioerr=0 unsupp=0 no_status=1 chain_errors=0 ring_errors=0",
    "hostile_out_writable_data": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_past_capacity": "ok=0 ioerr=2 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_sector_overflow": "ok=0 ioerr=2 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_status_only": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_status_readable_or_empty": "ok=0 ioerr=0 unsupp=0 no_status=2 chain_errors=0 ring_errors=0",
    "hostile_too_many_segments": "ok=0 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_unknown_types": "ok=0 ioerr=0 unsupp=4 no_status=0 chain_errors=0 ring_errors=0",
    "hostile_zero_length_data": "ok=1 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "power_crash_with_requests_in_flight": "ok=1 ioerr=11 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "power_torn_write": "ok=3 ioerr=1 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "reset_mid_flight": "ok=6 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "ring_avail_idx_ahead": "ok=1 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=1",
    "ring_head_in_flight": "ok=1 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=1",
    "ring_head_out_of_range": "ok=1 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=1",
    "valid_batch_out_of_order": "ok=20 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_flush_waits_for_slow_out": "ok=3 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_full_ring": "ok=64 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_high_memory": "ok=2 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_in_out_flush": "ok=3 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_indirect_table": "ok=1 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_no_interrupt_flag": "ok=2 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_random_errors": "ok=13 ioerr=3 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
    "valid_unaligned_segments": "ok=1 ioerr=0 unsupp=0 no_status=0 chain_errors=0 ring_errors=0",
}


def main():
    return seed_corpus.run("make_blk_seed_corpus", __doc__.splitlines()[0], scenarios(), EXPECT,
                           os.path.join(os.path.dirname(__file__), "corpus", "blk"), "drained: ")


if __name__ == "__main__":
    sys.exit(main())
