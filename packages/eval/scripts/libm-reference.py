"""Reference values from this machine's C library, for scripts/check-glibc-libm.mjs.

usage: python3 libm-reference.py OUT.bin N SEED
Writes, for each suite, a header line-free binary block: uint32 suite id, uint32 count, then count records of
(x, y, result) float64 little-endian. Suites named by BLEU use Python's own `**` and `math.exp` (what
pycocoevalcap runs); the full-range suites call libm's pow/exp/fma through ctypes (Python's `**` raises or
goes complex on some of those inputs).
"""
import ctypes
import math
import random
import struct
import sys
from array import array

libm = ctypes.CDLL("libm.so.6")
for name, n in (("pow", 2), ("exp", 1), ("fma", 3)):
    f = getattr(libm, name)
    f.restype = ctypes.c_double
    f.argtypes = [ctypes.c_double] * n
cpow, cexp, cfma = libm.pow, libm.exp, libm.fma


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    suites = []

    # 1. BLEU pow: x in (0, 1], uniform and log-uniform down to 1e-30, exponents 1, 1/2, 1/3, 1/4 (Python **)
    recs = array("d")
    for i in range(n):
        x = 1.0 - rnd.random() if i % 2 else 10.0 ** (-30.0 * rnd.random())
        y = 1.0 / (i % 4 + 1)
        recs.extend((x, y, x ** y))
    suites.append((1, recs))

    # 2. BLEU as computed: cumulative products of clipped precisions from random counts (Python **)
    recs = array("d")
    tiny, small = 1e-15, 1e-9
    while len(recs) < 3 * n:
        testlen = rnd.randint(1, 40)
        b = 1.0
        for k in range(4):
            guess = max(0, testlen - k)
            correct = rnd.randint(0, guess)
            b *= (float(correct) + tiny) / (float(guess) + small)
            e = 1.0 / (k + 1)
            recs.extend((b, e, b ** e))
    del recs[3 * n:]
    suites.append((2, recs))

    # 3. BLEU brevity penalty: exp over (-inf, 0] (Python math.exp): 1 - 1/ratio from lengths, uniform, log-uniform
    recs = array("d")
    for i in range(n):
        m = i % 3
        if m == 0:
            reflen = rnd.randint(1, 200000)
            testlen = rnd.randint(0, reflen)
            ratio = (float(testlen) + tiny) / (float(reflen) + small)
            x = 1.0 - 1.0 / ratio
        elif m == 1:
            x = -rnd.random()
        else:
            x = -(10.0 ** (rnd.uniform(-20.0, math.log10(800.0))))
        recs.extend((x, 0.0, math.exp(x)))
    suites.append((3, recs))

    # 4. pow on uniformly random bit patterns (libm)
    recs = array("d")
    for _ in range(n):
        x, y = from_bits(rnd.getrandbits(64)), from_bits(rnd.getrandbits(64))
        recs.extend((x, y, cpow(x, y)))
    suites.append((4, recs))

    # 5. pow with x any positive double (random bits) and y giving a result across the whole double range (libm)
    recs = array("d")
    for _ in range(n):
        x = abs(from_bits(rnd.getrandbits(64)))
        if not (0.0 < x < math.inf) or x == 1.0:
            x = 0.5
        lx = math.log(x)
        y = rnd.uniform(-1080.0, 1030.0) / lx
        if rnd.random() < 0.25:
            y = float(round(y))  # integers, incl. negative x with odd/even powers
            if rnd.random() < 0.5:
                x = -x
        recs.extend((x, y, cpow(x, y)))
    suites.append((5, recs))

    # 6. exp on uniformly random bit patterns and across its whole range (libm)
    recs = array("d")
    for i in range(n):
        x = from_bits(rnd.getrandbits(64)) if i % 2 else rnd.uniform(-760.0, 720.0)
        recs.extend((x, 0.0, cexp(x)))
    suites.append((6, recs))

    # 7. fma on random operands of moderate magnitude (libm fma), as the emulation's own check; records (a, b, c,
    #    fma) — 4 doubles
    recs = array("d")
    for _ in range(n):
        a = math.ldexp(rnd.random() + 0.5, rnd.randint(-60, 60)) * rnd.choice((1, -1))
        b = math.ldexp(rnd.random() + 0.5, rnd.randint(-60, 60)) * rnd.choice((1, -1))
        c = a * b * math.ldexp(rnd.random() + 0.5, rnd.randint(-60, 5)) * rnd.choice((1, -1))
        if rnd.random() < 0.3:
            c = -(a * b) * (1 + math.ldexp(rnd.random(), -rnd.randint(40, 60)))
        recs.extend((a, b, c, cfma(a, b, c)))
    suites.append((7, recs))

    with open(out, "wb") as f:
        for sid, recs in suites:
            f.write(struct.pack("<II", sid, len(recs)))
            if sys.byteorder != "little":
                recs.byteswap()
            recs.tofile(f)


if __name__ == "__main__":
    main()
