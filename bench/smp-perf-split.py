#!/usr/bin/env python3
"""Where two vCPU threads of one SMP run cost each other: a perf profile split by concurrency.

A perf sample of one vCPU thread is "together" when the other vCPU thread has a sample within
W seconds of it (it was on a core at the same moment), else "alone". Both kinds come from the
same JVM and the same compiled code, so a method whose share of the samples is larger together
than alone is one that costs more while the other thread runs: cache lines both threads write,
waits that spin. (A uniform slowdown of everything shows in SmpCpuProbe's CPU per access, not
here.) Works on a machine shared with other work, which only makes "together" rarer.

  perf record -e cpu-clock -F 4000 -o smp.data java -XX:+UnlockDiagnosticVMOptions \\
      -XX:+DumpPerfMapAtExit -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.SmpCpuProbe 6 8
  perf script -i smp.data -F comm,tid,time,ip,sym > smp.txt
  bench/smp-perf-split.py smp.txt [W, default 0.0003]

The vCPU threads are the JVM's main thread ("java", which drives vCPU 0) and
shadowbox-guest-vcpu-thread-1 (one per run); only samples while a run's second thread lives,
in the later half of the runs (after the JIT's warm-up), are counted.
"""
import bisect
import collections
import re
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: smp-perf-split.py PERF_SCRIPT_OUTPUT [WINDOW_SECONDS]")
    window = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0003
    rows = []
    line_re = re.compile(r"\s*(\S+)\s+(\d+)\s+([\d.]+):\s*[0-9a-f]+\s*(.*)")
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            m = line_re.match(line)
            if m:
                comm, tid, t, sym = m.groups()
                sym = re.sub(r"\(.*", "", sym.strip()).split(" ")[-1] or "[unknown]"
                rows.append((comm, int(tid), float(t), sym))
    java = collections.Counter(r[1] for r in rows if r[0] == "java")
    if not java:
        sys.exit("smp-perf-split.py: no samples of the java main thread in " + sys.argv[1])
    main_tid = java.most_common(1)[0][0]
    guest = collections.defaultdict(list)
    for r in rows:
        if r[0].startswith("shadowbox-guest"):
            guest[r[1]].append(r[2])
    if not guest:
        sys.exit("smp-perf-split.py: no samples of a second vCPU thread: was it a 2-thread run?")
    lives = sorted((min(v), max(v), tid) for tid, v in guest.items())
    lives = lives[len(lives) // 2:]
    vcpu = [r for r in rows if r[1] == main_tid or r[0].startswith("shadowbox-guest")]
    times = collections.defaultdict(list)
    for r in vcpu:
        times[r[1]].append(r[2])
    for k in times:
        times[k].sort()
    together, alone = collections.Counter(), collections.Counter()
    for start, end, other_tid in lives:
        for comm, tid, t, sym in vcpu:
            if not start <= t <= end:
                continue
            other = times[other_tid if tid == main_tid else main_tid]
            i = bisect.bisect_left(other, t - window)
            (together if i < len(other) and other[i] <= t + window else alone)[sym] += 1
    nt, na = sum(together.values()), sum(alone.values())
    print(f"vCPU-thread samples: {nt} with the other thread on a core, {na} without")
    if not nt or not na:
        return
    print(f"{'together':>9} {'alone':>7} {'ratio':>6}  method (compiled, with what it inlined)")
    for sym in sorted(set(together) | set(alone), key=lambda s: -(together[s] + alone[s]))[:40]:
        t, a = together[sym] / nt, alone[sym] / na
        print(f"{100 * t:8.2f}% {100 * a:6.2f}% {t / a if a else float('inf'):6.2f}  {sym}")


if __name__ == "__main__":
    main()
