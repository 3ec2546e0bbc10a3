#!/usr/bin/env python3
"""Summarizes the [hist] lines of SmpCpuProbe run on the diagnostic build of
bench/smp-access-hist.patch (-Ddiag.hist=true): per kind of run (threads=1, threads=2, the pair of
independent runs) and kind of access (user, kernel; "Both": sampled while the other thread ran),
the mean ns per sampled access below 64 us (longer samples are the host descheduling the thread),
split by range, and the share of samples at 128-256 ns, 256 ns-1 us and above.

    bench/smp-access-hist.py probe-output.txt [runs to skip, default 16: the 4 warm-up rounds]
"""
import collections
import sys

lines = [l for l in open(sys.argv[1]) if l.startswith('[hist]')][int(sys.argv[2]) if len(sys.argv) > 2 else 16:]
agg = {}
for l in lines:
    parts = l.split()
    key = 'pair' if 'pair' in parts[2] else parts[1]
    kind = None
    for p in parts[3:]:
        if not p[0].isdigit():
            kind = p
            continue
        b, n, s = map(int, p.split(':'))
        d = agg.setdefault((key, kind), [collections.Counter(), collections.Counter()])
        d[0][b] += n
        d[1][b] += s
for (key, kind), (n, s) in sorted(agg.items()):
    total = sum(n.values())
    if total == 0:
        continue
    low = lambda b: 1 << (b - 1) if b else 0
    part = lambda lo, hi: sum(v for b, v in s.items() if lo <= low(b) < hi) / total
    cnt = lambda lo, hi: 100 * sum(v for b, v in n.items() if lo <= low(b) < hi) / total
    print(f"{key:10s} {kind:11s} n={total:8d} ns/sample <64us: {part(0, 65536):6.1f} (<64 {part(0, 64):5.1f} "
          f"64-1k {part(64, 1024):5.1f} 1k-64k {part(1024, 65536):5.1f}) | count% 128-256 {cnt(128, 256):.1f} "
          f"256-1k {cnt(256, 1024):.1f} 1k+ {cnt(1024, 1 << 62):.2f}")
