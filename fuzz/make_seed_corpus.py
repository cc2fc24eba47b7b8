#!/usr/bin/env python3
"""Seed corpus for fuzz/virtqueue_fuzz.cpp (stdlib only).

    python3 fuzz/make_seed_corpus.py [OUT_DIR]          # (re)write the seeds
    python3 fuzz/make_seed_corpus.py --check --replay BIN [DIR]

Each seed is a named scenario encoded in exactly the byte format the fuzz
target decodes (see the comment at the top of virtqueue_fuzz.cpp): le16
split, a device half and a driver half, each a FuzzedDataProvider stream in
which integers are taken from the end (most significant byte first) and raw
bytes from the front. Every op here mirrors one `case` of the target.

--check (CTest fuzz.virtqueue.seed_intent) regenerates the seeds, fails if a
committed seed differs, then replays each one with AEROV_FUZZ_TRACE=1 and
fails unless the trace shows the outcome the seed exists for. Files in DIR
that the generator does not make (e.g. crash reproducers added by hand) are
only replayed by fuzz.virtqueue.corpus.
"""
import argparse
import os
import subprocess
import sys

# Descriptor flags (virtqueue/layout.hpp).
NEXT, WRITE, INDIRECT = 1, 2, 4


class Stream:
    """Encoder for one FuzzedDataProvider stream."""

    def __init__(self):
        self.front = bytearray()  # ConsumeData, in order
        self.back = bytearray()   # integers, in consumption order

    def rng(self, v, lo, hi, bits):
        """ConsumeIntegralInRange<T>(lo, hi) with T of `bits` bits."""
        assert lo <= v <= hi, (v, lo, hi)
        span, n, off = hi - lo, 0, 0
        while off < bits and (span >> off) > 0:
            n, off = n + 1, off + 8
        self.back += (v - lo).to_bytes(n, "big")

    def u8(self, v): self.rng(v, 0, 0xFF, 8)
    def u16(self, v): self.rng(v, 0, 0xFFFF, 16)
    def u32(self, v): self.rng(v, 0, 0xFFFFFFFF, 32)
    def u64(self, v): self.rng(v, 0, 0xFFFFFFFFFFFFFFFF, 64)
    def boolean(self, b): self.u8(1 if b else 0)
    def data(self, bs): self.front += bytes(bs)

    def blob(self):
        return bytes(self.front) + bytes(reversed(self.back))


def log2(n):
    assert n & (n - 1) == 0 and 1 <= n <= 256
    return n.bit_length() - 1


# --- device half -----------------------------------------------------------

# Region bases (kRegionBases); 7 = right after the previous region.
LOW, R64K, BELOW_4G, AT_4G, ABOVE_4G, FAR, TOP, ADJACENT = range(8)
BIG = 9  # "pages" value: sparse 2 GiB + 4 KiB RAM region


def rel(region, off):
    return ("rel", region, off)


def raw(v):
    return ("raw", v)


def top(d):
    return ("top", d)


def end(region, k):
    return ("end", region, k)


class Dev:
    """Hostile driver against DeviceQueue."""

    def __init__(self, size=8, indirect=False, event_idx=False, regions=((R64K, 4),),
                 ring=("contig", 0, 0)):
        self.s, self.size = Stream(), size
        s = self.s
        s.rng(log2(size), 0, 8, 8)
        s.boolean(indirect)
        s.boolean(event_idx)
        s.rng(len(regions), 1, 3, 8)
        for where, pages in regions:
            s.rng(where, 0, 7, 8)
            s.rng(pages, 1, 9, 8)
        if ring[0] == "contig":
            s.boolean(True)
            self._region_offset(ring[1], ring[2])
        else:
            s.boolean(False)
            for a in ring[1:]:
                self._addr(a)

    def _region_offset(self, region, off):
        self.s.rng(region, 0, 2, 8)
        self.s.u16(off)

    def _addr(self, a):
        kind = a[0]
        if kind == "rel":
            self.s.rng(0, 0, 3, 8)
            self._region_offset(a[1], a[2])
        elif kind == "raw":
            self.s.rng(1, 0, 3, 8)
            self.s.u64(a[1])
        elif kind == "top":
            self.s.rng(2, 0, 3, 8)
            self.s.u16(a[1])
        else:  # "end": k bytes before the end of region r
            self.s.rng(3, 0, 3, 8)
            self.s.rng(a[1], 0, 2, 8)
            self.s.u8(a[2])

    def _len(self, n):
        if n <= 0xFF:
            self.s.rng(0, 0, 2, 8); self.s.u8(n)
        elif n <= 0xFFFF:
            self.s.rng(1, 0, 2, 8); self.s.u16(n)
        else:
            self.s.rng(2, 0, 2, 8); self.s.u32(n)

    def _desc(self, addr, length, flags=0, nxt=0):
        self._addr(addr)
        self._len(length)
        self.s.u8(flags)
        self.s.u16(nxt)

    def _op(self, op):
        self.s.rng(op, 0, 8, 8)

    def desc(self, i, addr, length, flags=0, nxt=0):
        self._op(0)
        self.s.rng(i, 0, self.size - 1, 16)
        self._desc(addr, length, flags, nxt)
        return self

    def entry(self, table, j, addr, length, flags=0, nxt=0):
        self._op(1)
        self._addr(table)
        self.s.u8(j)
        self._desc(addr, length, flags, nxt)
        return self

    def avail(self, *heads):
        for h in heads:
            self._op(2)
            self.s.u16(h)
        return self

    def avail_idx(self, v):
        self._op(3)
        self.s.u16(v)
        return self

    def write(self, addr, bs):
        self._op(4)
        self._addr(addr)
        self.s.rng(len(bs), 0, 64, 8)
        self.s.data(bs)
        return self

    def run(self, limit=0):
        self._op(5)
        self.s.u8(limit)
        return self

    def push(self, sel, length=0, outstanding=True):
        self._op(6)
        self.s.boolean(outstanding)
        self.s.u16(sel)
        self.s.u32(length)
        return self

    def reconfigure(self):
        self._op(7)
        return self

    def poll(self, suppressed=True):
        self._op(8)
        self.s.boolean(suppressed)
        return self


# --- driver half -----------------------------------------------------------

DATA_BYTES = 16384  # DriverHalf::kDataBytes


class Drv:
    """DriverQueue against a hostile (or, honest=True, the real) device."""

    def __init__(self, size=8, event_idx=False, indirect_max=0, min_segments=2, honest=False,
                 high=False):
        self.s, self.size, self.honest = Stream(), size, honest
        s = self.s
        s.rng(log2(size), 0, 8, 8)
        s.boolean(event_idx)
        s.rng(indirect_max, 0, 16, 8)
        s.rng(min_segments, 1, 4, 8)
        s.boolean(honest)
        s.boolean(high)

    def _op(self, op):
        self.s.rng(op, 0, 9, 8)

    def add(self, *segs, ordered=False):
        """segs: (writable, addr_or_offset, len); honest mode takes data-area offsets."""
        self._op(0)
        self.s.rng(len(segs), 1, self.size + 1, 16)
        self.s.boolean(ordered)
        for writable, addr, length in segs:
            self.s.boolean(writable)
            if self.honest:
                assert addr < DATA_BYTES and length <= DATA_BYTES - addr
                self.s.u16(addr)
                self.s.u16(length)
            else:
                self.s.u64(addr)
                if length <= 0xFF:
                    self.s.rng(0, 0, 2, 8); self.s.u8(length)
                elif length <= 0xFFFF:
                    self.s.rng(1, 0, 2, 8); self.s.u16(length)
                else:
                    self.s.rng(2, 0, 2, 8); self.s.u32(length)
        return self

    def publish(self):
        self._op(1)
        return self

    def complete(self, sel=0, length=0, in_bounds=False):
        """Hostile: a used entry for the sel-th published request. Honest: serve the ring."""
        self._op(2)
        self.s.u8(sel)
        self.s.u32(length)
        self.s.boolean(in_bounds)
        return self

    def elem(self, slot, id_, length):
        self._op(3)
        self.s.u16(slot)
        self.s.u32(id_)
        self.s.u32(length)
        return self

    def used_delta(self, d):
        self._op(4)
        self.s.u16(d)
        return self

    def get_used(self, limit=0):
        self._op(5)
        self.s.u8(limit)
        return self

    def kick(self): return self._irq(0)
    def disable_irq(self): return self._irq(1)
    def enable_irq(self): return self._irq(2)

    def _irq(self, which):
        self._op(6)
        self.s.rng(which, 0, 2, 8)
        return self

    def scribble(self, off, bs):
        self._op(7)
        self.s.u16(off)
        self.s.rng(len(bs), 0, 16, 8)
        self.s.data(bs)
        return self

    def mark_broken(self):
        self._op(8)
        return self

    def reinit(self):
        self._op(9)
        return self


def seed(dev=None, drv=None):
    d = dev.s.blob() if dev else b""
    v = drv.s.blob() if drv else b""
    assert len(d) <= 0xFFFF
    return len(d).to_bytes(2, "little") + d + v


# --- the seeds ---------------------------------------------------------------
# name -> (bytes, [substrings the AEROV_FUZZ_TRACE log must contain])

BUF = rel(0, 0x2000)      # inside the default 16 KiB region at 0x10000
TABLE = rel(0, 0x3000)


def B(off):
    return rel(0, off)


def pop(status, head, error="none"):
    return f"dev pop: {status} head={head} error={error}"


def device_seeds():
    S = {}
    S["dev_valid_direct_1desc"] = (
        Dev().desc(0, BUF, 64).avail(0).run(),
        [pop("chain", 0) + " segs=1 r=64 w=0", "dev push head=0 len=0: ok"])
    S["dev_valid_direct_blk_shape_3desc"] = (
        Dev().desc(0, B(0x2000), 16, NEXT, 1).desc(1, B(0x2100), 4096, NEXT | WRITE, 2)
             .desc(2, B(0x3800), 1, WRITE).avail(0).run(),
        [pop("chain", 0) + " segs=3 r=16 w=4097", "dev push head=0 len=4097: ok"])
    S["dev_valid_indirect_table"] = (
        Dev(indirect=True).entry(TABLE, 0, B(0x2000), 16, NEXT, 1)
             .entry(TABLE, 1, B(0x2100), 512, NEXT | WRITE, 2).entry(TABLE, 2, B(0x2400), 1, WRITE)
             .desc(0, TABLE, 48, INDIRECT).avail(0).run(),
        [pop("chain", 0) + " segs=3 r=16 w=513"])
    S["dev_valid_ring_and_buffers_above_4g"] = (
        Dev(regions=((AT_4G, 4),)).desc(0, BUF, 100, WRITE).avail(0).run(),
        ["dev region gpa=0x100000000", "desc=0x100000000", pop("chain", 0) + " segs=1 r=0 w=100"])
    S["dev_valid_ring_near_top_of_address_space"] = (
        Dev(regions=((TOP, 8),), indirect=True).desc(0, B(0x7FF0), 16, WRITE)
            .entry(B(0x7FE0), 0, B(0x1000), 8).desc(1, B(0x7FE0), 16, INDIRECT).avail(0, 1).run(),
        ["desc=0xffffffffffff0000", pop("chain", 0), pop("chain", 1)])
    S["dev_valid_spanning_adjacent_regions"] = (
        Dev(indirect=True, regions=((R64K, 2), (ADJACENT, 2)))
            .desc(0, B(0x1F00), 0x200, WRITE)                       # buffer across the seam
            .entry(B(0x1FF0), 0, B(0x100), 8, NEXT, 1).entry(B(0x1FF0), 1, B(0x200), 8, WRITE)
            .desc(1, B(0x1FF0), 32, INDIRECT)                       # table across the seam
            .avail(0, 1).run(),
        ["dev region gpa=0x12000", pop("chain", 0) + " segs=1 r=0 w=512",
         pop("chain", 1) + " segs=2 r=8 w=8"])
    S["dev_valid_event_idx"] = (
        Dev(event_idx=True).poll(True).desc(0, BUF, 8).desc(1, B(0x2100), 8, WRITE).avail(0, 1)
            .run().push(0, 0).poll(False).push(0, 8),
        ["event_idx=1", pop("chain", 1), "dev push head=1 len=8: ok"])
    S["dev_valid_out_of_order_completion"] = (
        Dev().avail(0, 1, 2).run().push(2, 0).push(0, 0).push(0, 0).push(5, 0, outstanding=False)
            .push(300, 0, outstanding=False),
        ["dev push head=2 len=0: ok", "dev push head=0 len=0: ok", "dev push head=1 len=0: ok",
         "dev push head=5 len=0: refused", "dev push head=300 len=0: refused"])
    S["dev_valid_full_window_8_chains"] = (
        Dev().avail(*range(8)).run(),
        [pop("chain", 7) + " segs=1 r=0 w=0"])
    S["dev_valid_queue_size_1_reused"] = (
        Dev(size=1).desc(0, BUF, 4).avail(0).run().push(0, 0).avail(0).run(),
        [pop("chain", 0) + " segs=1 r=4 w=0"])
    S["dev_valid_queue_size_256"] = (
        Dev(size=256).desc(255, BUF, 16, NEXT, 0).desc(0, B(0x2100), 16, WRITE).avail(255).run(),
        ["size=256", pop("chain", 255) + " segs=2 r=16 w=16"])
    S["dev_zero_length_descriptor_anywhere"] = (
        Dev().desc(0, raw(0xDEAD00000000), 0).avail(0).run(),
        [pop("chain", 0) + " segs=1 r=0 w=0"])
    S["dev_chain_loop"] = (
        Dev().desc(0, BUF, 8, NEXT, 1).desc(1, BUF, 8, NEXT, 0).avail(0).run(),
        [pop("chain-error", 0, "descriptor loop"), "dev push head=0 len=0: ok"])
    S["dev_chain_next_out_of_range"] = (
        Dev().desc(0, BUF, 8, NEXT, 8).avail(0).run(),
        [pop("chain-error", 0, "next index out of range")])
    S["dev_chain_nested_indirect"] = (
        Dev(indirect=True).entry(TABLE, 0, B(0x3100), 16, INDIRECT).desc(0, TABLE, 16, INDIRECT)
            .avail(0).run(),
        [pop("chain-error", 0, "nested indirect table")])
    S["dev_chain_indirect_with_next"] = (
        Dev(indirect=True).entry(TABLE, 0, BUF, 16).desc(0, TABLE, 16, INDIRECT | NEXT, 1)
            .avail(0).run(),
        [pop("chain-error", 0, "INDIRECT together with NEXT")])
    S["dev_chain_indirect_bad_len"] = (
        Dev(indirect=True).desc(0, TABLE, 20, INDIRECT).desc(1, TABLE, 0, INDIRECT).avail(0, 1).run(),
        [pop("chain-error", 0, "indirect length zero or not a multiple of 16"),
         pop("chain-error", 1, "indirect length zero or not a multiple of 16")])
    S["dev_chain_indirect_too_large"] = (
        Dev(indirect=True).desc(0, TABLE, 16 * 9, INDIRECT).avail(0).run(),
        [pop("chain-error", 0, "indirect table larger than the queue size")])
    S["dev_chain_indirect_outside_memory"] = (
        Dev(indirect=True).desc(0, raw(0x500000000000), 32, INDIRECT)
            .desc(1, B(0x3FF0), 32, INDIRECT).avail(0, 1).run(),
        [pop("chain-error", 0, "indirect table outside guest memory"),
         pop("chain-error", 1, "indirect table outside guest memory")])
    S["dev_chain_indirect_not_negotiated"] = (
        Dev(indirect=False).entry(TABLE, 0, BUF, 16).desc(0, TABLE, 16, INDIRECT).avail(0).run(),
        [pop("chain-error", 0, "INDIRECT without RING_INDIRECT_DESC")])
    S["dev_chain_indirect_loop"] = (
        Dev(indirect=True).entry(TABLE, 0, BUF, 8, NEXT, 1).entry(TABLE, 1, BUF, 8, NEXT, 0)
            .desc(0, TABLE, 32, INDIRECT).avail(0).run(),
        [pop("chain-error", 0, "descriptor loop")])
    S["dev_chain_indirect_next_out_of_range"] = (
        Dev(indirect=True).entry(TABLE, 0, BUF, 8, NEXT, 2).entry(TABLE, 1, BUF, 8)
            .desc(0, TABLE, 32, INDIRECT).avail(0).run(),
        [pop("chain-error", 0, "next index out of range")])
    # Decision (d): the limit of N counts buffer descriptors, so INDIRECT + N
    # entries is valid and one more buffer descriptor in front of it is not.
    full = Dev(indirect=True)
    for j in range(8):
        full.entry(TABLE, j, BUF, 8, NEXT if j < 7 else 0, j + 1 if j < 7 else 0)
    S["dev_valid_indirect_table_of_n_entries"] = (
        full.desc(0, TABLE, 16 * 8, INDIRECT).avail(0).run(),
        [pop("chain", 0) + " segs=8 r=64 w=0"])
    mixed = Dev(indirect=True).desc(0, BUF, 8, NEXT, 1).desc(1, TABLE, 16 * 8, INDIRECT)
    for j in range(8):
        mixed.entry(TABLE, j, BUF, 8, NEXT if j < 7 else 0, j + 1 if j < 7 else 0)
    S["dev_chain_too_long_direct_then_indirect"] = (
        mixed.avail(0).run(),
        [pop("chain-error", 0, "chain longer than the queue size")])
    S["dev_chain_direct_then_indirect_ok"] = (
        Dev(indirect=True).desc(0, BUF, 8, NEXT, 1).desc(1, TABLE, 32, INDIRECT)
            .entry(TABLE, 0, BUF, 8, NEXT, 1).entry(TABLE, 1, B(0x2100), 8, WRITE).avail(0).run(),
        [pop("chain", 0) + " segs=3 r=16 w=8"])
    S["dev_chain_addr_overflow"] = (
        Dev().desc(0, top(0x10), 0x100).avail(0).run(),
        [pop("chain-error", 0, "address + length overflows")])
    S["dev_chain_outside_memory"] = (
        Dev().desc(0, raw(0x40000000), 16).desc(1, B(0x3FF0), 0x20).desc(2, end(0, 8), 9)
            .desc(3, end(0, 8), 8).avail(0, 1, 2, 3).run(),
        [pop("chain-error", 0, "buffer outside guest memory"),
         pop("chain-error", 1, "buffer outside guest memory"),
         pop("chain-error", 2, "buffer outside guest memory"), pop("chain", 3)])
    S["dev_chain_total_len_over_4g"] = (
        Dev(regions=((R64K, 4), (AT_4G, BIG)))
            .desc(0, rel(1, 0), 0x80000000, NEXT | WRITE, 1).desc(1, rel(1, 0), 0x80000001, WRITE)
            .desc(2, rel(1, 0), 0x80000000, NEXT | WRITE, 3).desc(3, rel(1, 0), 0x80000000, WRITE)
            .avail(0, 2).run(),
        ["bytes=0x80001000: ok", pop("chain-error", 0, "chain total length over 2^32"),
         pop("chain", 2) + " segs=2 r=0 w=4294967296"])
    S["dev_chain_readable_after_writable"] = (
        Dev().desc(0, BUF, 8, NEXT | WRITE, 1).desc(1, B(0x2100), 8).avail(0).run(),
        [pop("chain-error", 0, "device-readable descriptor after a writable one") + " segs=1"])
    S["dev_chain_error_then_valid_chain"] = (
        Dev().desc(0, BUF, 8, NEXT, 0).desc(1, BUF, 8).avail(0, 1).run(),
        [pop("chain-error", 0, "descriptor loop"), pop("chain", 1), "dev push head=0 len=0: ok"])
    S["dev_chain_rewritten_after_pop"] = (
        Dev().desc(0, BUF, 8).avail(0).run(1).desc(0, raw(0x40000000), 8).push(0, 0)
            .avail(0).run(),
        [pop("chain", 0), pop("chain-error", 0, "buffer outside guest memory")])
    S["dev_ring_avail_idx_ahead"] = (
        Dev().avail_idx(9).run().avail_idx(1).run(),
        ["dev pop: ring-error avail.idx more than queue size ahead"])
    S["dev_ring_head_out_of_range"] = (
        Dev().avail(8).run(),
        ["dev pop: ring-error avail ring head out of range"])
    S["dev_ring_head_in_flight"] = (
        Dev().avail(0).run().avail(0).run().push(0, 0),
        [pop("chain", 0), "dev pop: ring-error avail ring head already in flight",
         "dev push head=0 len=0: refused"])
    S["dev_ring_outside_memory"] = (
        Dev(ring=("sep", B(0), B(0x200), raw(0x70000000))).avail(0).run(),
        [": ring part outside guest memory", "dev pop: ring-error ring part outside guest memory"])
    S["dev_ring_misaligned"] = (
        Dev(ring=("sep", B(8), B(0x200), B(0x400))),
        [": ring part misaligned"])
    S["dev_ring_error_sticky_until_reset"] = (
        Dev().desc(0, BUF, 8).avail_idx(100).run().avail_idx(0).run().reconfigure()
            .avail(0).run(),
        ["dev pop: ring-error avail.idx more than queue size ahead", pop("chain", 0)])
    return S


def driver_seeds():
    S = {}
    R, W = False, True
    S["drv_valid_roundtrip_direct"] = (
        Drv().add((R, 0x1000, 16), (W, 0x2000, 512), (W, 0x3000, 1)).publish().complete(0, 513)
            .get_used(),
        ["drv add count=3 indirect=0 writable=513: ok", "drv get_used: ok", "drv detached all"])
    S["drv_valid_roundtrip_indirect"] = (
        Drv(indirect_max=4).add((R, 0x1000, 16), (W, 0x2000, 512), (W, 0x3000, 1)).publish()
            .complete(0, 1).get_used(),
        ["drv add count=3 indirect=1 writable=513: ok", "drv get_used: ok"])
    S["drv_valid_out_of_order_completion"] = (
        Drv().add((W, 0x1000, 8)).add((W, 0x2000, 8)).add((W, 0x3000, 8)).publish()
            .complete(2, 8).complete(0, 8).complete(1, 8).get_used(),
        ["drv get_used: ok", "drv get_used: empty"])
    S["drv_honest_device_direct_and_indirect"] = (
        Drv(indirect_max=4, min_segments=3, honest=True)
            .add((R, 0, 16)).add((R, 0x100, 16), (W, 0x200, 4096), (W, 0x1300, 1))
            .add((R, 0x2000, 16), (W, 0x3000, 64)).publish().complete(0, 100000).get_used(),
        ["honest=1", "drv honest device pop: chain", "drv get_used: ok"])
    S["drv_honest_event_idx_above_4g"] = (
        Drv(event_idx=True, honest=True, high=True).disable_irq().add((W, 0, 512)).publish().kick()
            .enable_irq().complete(0, 512).enable_irq().get_used(),
        ["event_idx=1", "drv honest device pop: chain", "drv get_used: ok"])
    S["drv_honest_indirect_table_of_n_entries"] = (
        # Driver and device must agree on N segments through one table.
        Drv(size=2, indirect_max=2, min_segments=2, honest=True)
            .add((R, 0, 16), (W, 0x100, 16)).publish().complete(0, 16).get_used(),
        ["drv add count=2 indirect=1 writable=16: ok", "drv honest device pop: chain head=0",
         "drv get_used: ok"])
    S["drv_used_id_out_of_range"] = (
        Drv().add((W, 0x1000, 8)).publish().elem(0, 8, 0).used_delta(1).get_used(),
        ["drv get_used: queue broken: used.id out of range"])
    S["drv_used_id_not_outstanding_freed"] = (
        Drv().add((W, 0x1000, 8)).publish().complete(0, 8).get_used(1).elem(1, 0, 0)
            .used_delta(1).get_used(),
        ["drv get_used: ok", "drv get_used: queue broken: used.id not an outstanding head"])
    S["drv_used_id_not_outstanding_unpublished"] = (
        Drv().add((W, 0x1000, 8)).elem(0, 0, 0).used_delta(1).get_used(),
        ["drv get_used: queue broken: used.id not an outstanding head"])
    S["drv_used_id_non_head_descriptor"] = (
        Drv().add((R, 0x1000, 8), (W, 0x2000, 8), (W, 0x3000, 8)).publish().elem(0, 1, 0)
            .used_delta(1).get_used(),
        ["drv get_used: queue broken: used.id not an outstanding head"])
    S["drv_used_id_completed_twice"] = (
        Drv().add((W, 0x1000, 8)).publish().complete(0, 8).complete(0, 8).get_used(),
        ["drv get_used: ok", "drv get_used: queue broken: used.id not an outstanding head"])
    S["drv_used_len_too_large"] = (
        Drv().add((R, 0x1000, 8), (W, 0x2000, 100)).publish().complete(0, 101).get_used(),
        ["drv get_used: queue broken: used.len larger than the chain's writable bytes"])
    S["drv_used_len_on_readonly_chain"] = (
        Drv().add((R, 0x1000, 8)).publish().complete(0, 1).get_used(),
        ["drv get_used: queue broken: used.len larger than the chain's writable bytes"])
    S["drv_used_idx_ahead"] = (
        Drv().add((W, 0x1000, 8)).publish().used_delta(9).get_used(),
        ["drv get_used: queue broken: used.idx more than queue size ahead"])
    S["drv_broken_stays_broken_then_reinit"] = (
        Drv().add((W, 0x1000, 8)).publish().used_delta(9).get_used().add((W, 0x1000, 8))
            .publish().kick().get_used().reinit().add((W, 0x1000, 8)).publish().complete(0, 8)
            .get_used(),
        ["drv get_used: queue broken: used.idx more than queue size ahead",
         "drv add count=1 indirect=0 writable=8: queue broken", "drv detached all",
         "drv get_used: ok"])
    S["drv_mark_broken_then_detach"] = (
        Drv(indirect_max=4).add((W, 0x1000, 8)).add((R, 0x1000, 8), (W, 0x2000, 8))
            .publish().add((W, 0x3000, 8)).mark_broken().get_used(),
        ["drv get_used: queue broken: marked broken by the transport", "drv detached all"])
    S["drv_no_space_and_invalid_arguments"] = (
        Drv(size=4).add((R, 0x1000, 8), (W, 0x2000, 8), (W, 0x3000, 8))
            .add((R, 0x1000, 8), (W, 0x2000, 8))
            .add((W, 0x1000, 8), (R, 0x2000, 8))
            .add(*[(R, 0x1000, 8)] * 5)
            .add((W, 0x1000, 0xFFFFFFFF), (W, 0x2000, 2)),
        ["drv add count=3 indirect=0 writable=16: ok",
         "drv add count=2 indirect=0 writable=8: no free descriptors",
         "drv add count=2 indirect=0 writable=8: invalid argument",
         "drv add count=5 indirect=0 writable=0: invalid argument",
         "writable=4294967297: invalid argument"])
    S["drv_hostile_scribble_over_ring"] = (
        Drv().add((R, 0x1000, 8), (W, 0x2000, 8)).publish()
            .scribble(0, b"\xff" * 16).scribble(128, b"\xee" * 16)   # desc[0], avail ring
            .complete(0, 8).get_used()
            .scribble(148 + 2, b"\x40\x00").get_used(),            # used.idx far ahead
        ["drv get_used: ok", "drv get_used: queue broken: used.idx more than queue size ahead"])
    S["drv_event_idx_interrupt_suppression"] = (
        Drv(event_idx=True).disable_irq().add((W, 0x1000, 8)).publish().kick().complete(0, 8)
            .enable_irq().get_used().enable_irq(),
        ["event_idx=1", "drv get_used: ok"])
    S["drv_reinit_with_outstanding_requests"] = (
        Drv(indirect_max=2).add((W, 0x1000, 8)).add((R, 0x1000, 8), (W, 0x2000, 8)).publish()
            .add((W, 0x3000, 8)).reinit().add((W, 0x1000, 8)).publish().complete(0, 8).get_used(),
        ["drv detached all", "drv get_used: ok"])
    return S


def mixed_seeds():
    S = {}
    R, W = False, True
    S["mix_blk_request_both_halves"] = (
        (Dev(indirect=True).desc(0, B(0x2000), 16, NEXT, 1).desc(1, B(0x2100), 4096, NEXT | WRITE, 2)
            .desc(2, B(0x3800), 1, WRITE).avail(0).run(),
         Drv(size=128, indirect_max=4, honest=True)
            .add((R, 0, 16), (W, 0x100, 4096), (W, 0x2000, 1)).publish().complete(0, 4097)
            .get_used()),
        [pop("chain", 0) + " segs=3", "drv get_used: ok"])
    S["mix_hostile_both_halves"] = (
        (Dev().desc(0, BUF, 8, NEXT, 0).avail(0).avail_idx(42).run(),
         Drv().add((W, 0x1000, 8)).publish().elem(0, 0, 9).used_delta(1).get_used()),
        ["dev pop: ring-error avail.idx more than queue size ahead",
         "drv get_used: queue broken: used.len larger"])
    return S


def all_seeds():
    out = {}
    for name, (dev, expect) in device_seeds().items():
        out[name] = (seed(dev=dev), expect)
    for name, (drv, expect) in driver_seeds().items():
        out[name] = (seed(drv=drv), expect)
    for name, ((dev, drv), expect) in mixed_seeds().items():
        out[name] = (seed(dev=dev, drv=drv), expect)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default=os.path.join(here, "corpus", "virtqueue"))
    ap.add_argument("--check", action="store_true", help="verify instead of writing")
    ap.add_argument("--replay", help="virtqueue_fuzz_replay binary (with --check)")
    args = ap.parse_args()
    seeds = all_seeds()

    if not args.check:
        os.makedirs(args.dir, exist_ok=True)
        for name, (data, _) in sorted(seeds.items()):
            with open(os.path.join(args.dir, name), "wb") as f:
                f.write(data)
        print(f"wrote {len(seeds)} seeds to {args.dir}")
        return 0

    if not args.replay:
        ap.error("--check needs --replay BIN")
    failures = 0
    for name, (data, expect) in sorted(seeds.items()):
        path = os.path.join(args.dir, name)
        try:
            with open(path, "rb") as f:
                on_disk = f.read()
        except OSError:
            on_disk = None
        if on_disk != data:
            print(f"FAIL {name}: committed seed differs from the generator "
                  f"(rerun python3 fuzz/make_seed_corpus.py)")
            failures += 1
            continue
        env = dict(os.environ, AEROV_FUZZ_TRACE="1")
        p = subprocess.run([args.replay, path], env=env, capture_output=True, text=True)
        missing = [e for e in expect if e not in p.stderr]
        if p.returncode != 0 or missing:
            print(f"FAIL {name}: exit {p.returncode}; missing from trace: {missing}")
            print("\n".join("    " + l for l in p.stderr.splitlines()[-40:]))
            failures += 1
        else:
            print(f"ok   {name}")
    print(f"{len(seeds) - failures}/{len(seeds)} seeds reach their intended outcome")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
