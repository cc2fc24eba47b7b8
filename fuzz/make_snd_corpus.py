#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/snd_fuzz.cpp into fuzz/corpus/snd/.

Each seed is a short op script in the target's input format (see the comment
at the top of snd_fuzz.cpp): the whole control state machine, playback and
capture paced by ADVANCE, and the hostile shapes the unit tests cover (short,
oversized and unknown control requests, wrong stream ids, a writable header,
no status place, payloads over the 262144-byte cap, eventq abuse, avail.idx
jumps, reset with buffers held). Deterministic: running it twice gives the
same bytes.

  make_snd_corpus.py [OUT_DIR]      (default: corpus/snd next to this file)
  make_snd_corpus.py --check [OUT_DIR]   (fails if a committed seed differs)
"""
import os
import struct
import sys

CTL, EVT, TX, RX = 0, 1, 2, 3
WRITE, NEXT = 2, 1
INFO, SET_PARAMS, PREPARE, RELEASE, START, STOP = 0x100, 0x101, 0x102, 0x103, 0x104, 0x105


def desc(q, index, addr, length, flags=0, nxt=0, sel=0):
    return struct.pack("<BBHBQIHH", 0, q, index, sel, addr, length, flags, nxt)


def avail(q, head):
    return struct.pack("<BBH", 1, q, head)


def avail_idx(q, idx):
    return struct.pack("<BBH", 2, q, idx)


def notify(q):
    return struct.pack("<BB", 3, q)


def advance(frames):
    return struct.pack("<BH", 4, frames)


def control(slot, request, resp=4):
    return struct.pack("<BBBB", 6, slot, resp, len(request)) + bytes(request)


def pcm(q, slot, stream, payload, status=8):
    return struct.pack("<BBBIHB", 7, 1 if q == RX else 0, slot, stream, payload, status)


def reset():
    return struct.pack("<B", 8)


def req(code, stream):
    return struct.pack("<II", code, stream)


def params(stream, channels, buffer_bytes=0x4000, period=0x1000, fmt=5, rate=7, features=0):
    return struct.pack("<IIIIIBBBB", SET_PARAMS, stream, buffer_bytes, period, features, channels, fmt, rate, 0)


def info(start, count, size=32):
    return struct.pack("<IIII", INFO, start, count, size)


def open_stream(stream):
    ch = 2 if stream == 0 else 1
    return control(0, params(stream, ch)) + control(1, req(PREPARE, stream)) + control(2, req(START, stream))


SEEDS = {
    "pcm-info": control(0, info(0, 2), 68) + control(1, info(1, 1), 36),
    "pcm-info-bad": control(0, info(1, 2), 68) + control(1, info(0, 1, 16), 36) + control(2, info(0, 2), 8),
    "state-machine": b"".join(control(i % 8, req(c, s)) for i, (c, s) in enumerate(
        [(START, 0), (PREPARE, 0), (SET_PARAMS, 0), (STOP, 1), (RELEASE, 0), (0x200, 0)]))
    + open_stream(0) + control(3, req(STOP, 0)) + control(4, req(START, 0)) + control(5, req(STOP, 0))
    + control(6, req(RELEASE, 0)) + control(7, req(PREPARE, 0)),
    "set-params-rejected": control(0, params(0, 1)) + control(1, params(0, 2, fmt=6)) + control(2, params(1, 1, rate=6))
    + control(3, params(0, 2, period=0)) + control(4, params(0, 2, buffer_bytes=0x4800)) + control(5, params(2, 2)),
    "control-malformed": control(0, b"\x01\x01") + control(1, req(PREPARE, 0) + b"\0" * 40)
    + control(2, req(PREPARE, 7)) + control(3, req(START, 0), resp=0) + control(4, b""),
    "playback": open_stream(0) + pcm(TX, 0, 0, 1920) + pcm(TX, 1, 0, 1920) + advance(480) + advance(600),
    "playback-pause": control(0, params(0, 2)) + control(1, req(PREPARE, 0)) + pcm(TX, 0, 0, 400)
    + control(2, req(START, 0)) + advance(50) + control(3, req(STOP, 0)) + advance(500)
    + control(4, req(RELEASE, 0)),
    "capture": open_stream(1) + pcm(RX, 0, 1, 960) + pcm(RX, 1, 1, 960) + advance(700) + control(5, req(STOP, 1)),
    "capture-not-running": pcm(RX, 0, 1, 96) + open_stream(0) + pcm(RX, 1, 1, 96),
    "pcm-hostile": open_stream(0) + open_stream(1) + pcm(TX, 0, 1, 64) + pcm(RX, 0, 0, 64) + pcm(TX, 1, 0, 6)
    + pcm(TX, 2, 0, 64, status=4) + pcm(RX, 1, 1, 3) + advance(100),
    "payload-cap": open_stream(0) + desc(TX, 0, 0x10000, 8, NEXT, 1) + desc(TX, 1, 0x20000, 262148, NEXT, 2)
    + desc(TX, 2, 0x70000, 8, WRITE) + avail(TX, 0) + notify(TX),
    "eventq-abuse": desc(EVT, 0, 0x1000, 8) + avail(EVT, 0) + desc(EVT, 1, 0x1100, 8, WRITE) + avail(EVT, 1)
    + desc(EVT, 2, 0xF0000000000, 8, WRITE, sel=1) + avail(EVT, 2) + notify(EVT) + reset() + notify(EVT),
    "avail-jump": open_stream(0) + pcm(TX, 0, 0, 64) + avail_idx(TX, 400) + notify(TX) + advance(20) + reset()
    + open_stream(0) + pcm(TX, 0, 0, 64) + advance(16),
    "params-while-queued": control(0, params(0, 2)) + control(1, req(PREPARE, 0)) + pcm(TX, 0, 0, 400)
    + control(2, params(0, 2)) + control(3, req(PREPARE, 0)) + control(4, req(START, 0)) + advance(200),
    "reset-held": open_stream(0) + open_stream(1) + pcm(TX, 0, 0, 4000) + pcm(RX, 0, 1, 400) + advance(10) + reset()
    + advance(1000),
}


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    out = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "snd")
    os.makedirs(out, exist_ok=True)
    bad = []
    for name, data in sorted(SEEDS.items()):
        path = os.path.join(out, name)
        if check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        bad.append(name)
            except OSError:
                bad.append(name)
        else:
            with open(path, "wb") as f:
                f.write(data)
    if bad:
        print("seeds differ from the generator:", ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
