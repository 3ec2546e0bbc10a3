#!/usr/bin/env bash
# Issue 15's target table in one JMH invocation: every benchmark of the table with its baseline,
# measured in the same run, then a markdown table with the machine, the load before and after,
# score +- error, and the ratios the targets use.
#
#   bench/issue15.sh            build the benchmarks jar (mvn, offline if it can), then run
#   SHADOWBOX_NO_BUILD=1 bench/issue15.sh    use benchmarks/target/benchmarks.jar as it is
#
# Benchmarks (their own warm-up, iteration and fork annotations: several forks each, because one
# JVM's score differs from the next one's by more than the error within a JVM; docs/benchmarks.md):
#   KernelBuildBench.oneRun, threads 1 and 2     one kernel-build run end to end, SMP or not (5 forks)
#   KernelBuildTwoRunsBench                      two independent runs at once, the ceiling (5 forks)
#   KernelBuildRoundsBench                       the three of them round by round in one JVM, the order
#                                                rotating: each ratio's arms in the same host phase (4 forks)
#   CompareBench                                 run:compare kernel-build, defaults, end to end (4 forks)
#   TlbHitBench (every method, mmu shadow and tdp)  a TLB hit beside a plain long[] read (8 forks)
#   ShadowFaultBench                             a fault on an existing shadow page (6 forks)
#   NotifierDispatchBench, direct, 0/1/2/4/8 notifiers (5 forks)
# JMH estimates about 29 minutes of iterations and forks on an idle 2-core machine, plus the build.
# SHADOWBOX_JMH_ARGS adds JMH options (e.g. '-f 1' for a quick look; then no ratio has an interval).
# SHADOWBOX_JMH_JSON=file renders the tables of an earlier run's JMH JSON, measuring nothing.
# Writes the table to stdout and, with the JMH JSON and log, to benchmarks/target/issue15-<time>.{md,json,log}.
# The first table gives each benchmark's per-fork means and their spread; the second each ratio with
# a 95% interval over the forks and a verdict (met, not met, or undecided when the interval holds the
# target). Run it on a quiet machine: the table says the load, and a loaded machine's figures are not
# evidence of targets.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar="$root/benchmarks/target/benchmarks.jar"
command -v python3 >/dev/null 2>&1 || { echo "issue15.sh: needs python3 to read JMH's JSON (apt-get install python3)" >&2; exit 2; }

if [[ -n ${SHADOWBOX_JMH_JSON:-} ]]; then
    # render only: the tables of an earlier run's JMH JSON (no build, no measurement; the load
    # and the start time are unknown then)
    [[ -f $SHADOWBOX_JMH_JSON ]] || { echo "issue15.sh: SHADOWBOX_JMH_JSON=$SHADOWBOX_JMH_JSON is not a file" >&2; exit 2; }
    render_only=1
elif [[ ${SHADOWBOX_NO_BUILD:-} != 1 ]]; then
    echo "building the benchmarks jar ..." >&2
    (cd "$root" && { mvn -B -q -o -pl benchmarks -am package -DskipTests 2>/dev/null \
        || mvn -B -q -pl benchmarks -am package -DskipTests; })
fi
[[ -n ${render_only:-} || -f $jar ]] || { echo "issue15.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$root/benchmarks/target/issue15-$stamp"
java_bin=${JAVA:-java}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
[[ -n $cpu ]] || cpu=$(uname -m)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
jdk=$("$java_bin" -version 2>&1 | head -1)

if [[ -n ${render_only:-} ]]; then
    out="${SHADOWBOX_JMH_JSON%.json}"
    cp_json=$SHADOWBOX_JMH_JSON
    load_before="unknown" load_after="unknown" started="unknown (an earlier run's JSON)" jdk="" ncpu="not recorded" cpu="CPU not recorded"
else
ncpu=$(nproc)
regex='^org\.shadowbox\.bench\.(KernelBuildBench\.oneRun|KernelBuildTwoRunsBench\..*|KernelBuildRoundsBench\..*|CompareBench\..*|TlbHitBench\..*|ShadowFaultBench\..*|NotifierDispatchBench\.emulatedWrite)$'
"$java_bin" -jar "$jar" "$regex" -p mode=direct -p notifiers=0,1,2,4,8 -p threads=1,2 \
    ${SHADOWBOX_JMH_ARGS:-} -rf json -rff "$out.json" | tee "$out.log" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cp_json=$out.json
fi

python3 - "$cp_json" "$ncpu" "$cpu" "$load_before" "$load_after" "$started" "$jdk" <<'PY' | if [[ -n ${render_only:-} ]]; then cat; else tee "$out.md"; fi
import json, math, sys
path, nproc, cpu, before, after, started, jdk = sys.argv[1:8]
runs = json.load(open(path))
if not jdk and runs:
    jdk = f"JDK {runs[0].get('jdkVersion', '?')} ({runs[0].get('vmName', '?')}, from the JSON)"

# Student's t, two-sided 95%, by degrees of freedom (the forks less one)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
       12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}
def t95(df):
    return T95.get(df) or T95[max(k for k in T95 if k <= df)] if df >= 1 else float("nan")

def short(r):
    return r["benchmark"].replace("org.shadowbox.bench.", "")

def params(r):
    p = r.get("params") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(p.items()))

def find(name, **want):
    for r in runs:
        p = r.get("params") or {}
        if short(r) == name and all(p.get(k) == str(v) for k, v in want.items()):
            return r
    return None

def metric(r, secondary=None):
    return r["primaryMetric"] if secondary is None else (r.get("secondaryMetrics") or {}).get(secondary)

class Est:
    """A score from the per-fork means: their mean, and a 95% interval's half-width over the forks."""
    def __init__(self, forks):
        self.forks = forks
        n = len(forks)
        self.mean = sum(forks) / n
        if n > 1:
            sd = math.sqrt(sum((x - self.mean) ** 2 for x in forks) / (n - 1))
            self.half = t95(n - 1) * sd / math.sqrt(n)
        else:
            self.half = float("nan")
    def rel(self):
        return self.half / self.mean if self.mean else float("nan")

def est(r, secondary=None, scale=1.0):
    m = None if r is None else metric(r, secondary)
    if m is None:
        return None
    raw = m.get("rawData") or [[m["score"]]]
    return Est([scale * sum(f) / len(f) for f in raw if f])

def fmt(x):
    if x is None or x != x:
        return "n/a"
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"

def spread(e):
    lo, hi = min(e.forks), max(e.forks)
    return f"{fmt(lo)} to {fmt(hi)} ({100 * (hi - lo) / lo:.0f}%)" if len(e.forks) > 1 and lo > 0 else "(1 fork)"

def arm_rate(r, arm):
    """KernelBuildRoundsBench: one arm's million accesses per second in each fork, from its
    auxiliary counters summed over the fork's measured iterations."""
    acc, ns = metric(r, arm + "Accesses"), metric(r, arm + "Nanos")
    if acc is None or ns is None:
        return None
    return Est([sum(a) / sum(t) * 1e3 for a, t in zip(acc["rawData"], ns["rawData"]) if sum(t) > 0])

def arm_ratio(r, num, den):
    """KernelBuildRoundsBench: the ratio of two arms' rates in each fork (both arms measured in the
    same rounds), and its mean and 95% interval over the forks."""
    a, b = arm_rate(r, num), arm_rate(r, den)
    if a is None or b is None:
        return None
    return Est([x / y for x, y in zip(a.forks, b.forks)])

forks = sorted({len((r["primaryMetric"].get("rawData") or [[0]])) for r in runs})
print(f"Issue 15 targets, run started {started}: `nproc` {nproc}, {cpu}; {jdk};")
print(f"load average (1, 5, 15 min) before {before}, after {after}. One JMH run; forks per benchmark: "
      f"{', '.join(map(str, forks))}. Score ± error is JMH's (99.9%, over every measured iteration of every fork);"
      " the per-fork means' range is the fork-to-fork spread; ratios carry a 95% interval from the per-fork means.")
print()
print("| benchmark | parameters | score ± error | unit | error / score | forks | per-fork means (spread) |")
print("|---|---|---|---|---|---|---|")
for r in runs:
    m = r["primaryMetric"]
    s, e, u = m["score"], float(m["scoreError"]), m["scoreUnit"]  # JMH writes "NaN" (a string) without an error
    rel = f"{100 * e / s:.1f}%" if s and e == e else "n/a"
    pe = est(r)
    print(f"| `{short(r)}` | {params(r)} | {fmt(s)} ± {fmt(e)} | {u} | {rel} | {len(pe.forks)} | {spread(pe)} |")
    if short(r).startswith("KernelBuildRoundsBench."):
        for arm, label in (("one", "1 thread"), ("smp", "2 threads"), ("two", "two runs")):
            ae = arm_rate(r, arm)
            if ae is not None:
                print(f"| `{short(r)}` {arm} | {params(r)}, {label}, round by round | {fmt(ae.mean)} ± {fmt(ae.half)} (95%, forks) |"
                      f" million accesses/s | {(f'{100 * ae.rel():.1f}%' if ae.half == ae.half else 'n/a')} | {len(ae.forks)} | {spread(ae)} |")
        continue
    m2 = metric(r, "accesses")
    if m2 is not None and not short(r).startswith("KernelBuildTwoRunsBench."):
        s2, e2 = m2["score"], m2["scoreError"]
        ae = est(r, "accesses", 1e-6)
        print(f"| `{short(r)}` accesses | {params(r)} | {fmt(s2 / 1e6)} ± {fmt(e2 / 1e6)} | million accesses/s | "
              f"{100 * e2 / s2:.1f}% | {len(ae.forks)} | {spread(ae)} |")
print()

rows = []
def verdict(lo, hi, target):
    if not target or lo != lo:
        return ""
    bound = float(target.split()[-1])
    if target.startswith("at least"):
        return "met" if lo >= bound else "not met" if hi < bound else "undecided (the interval holds the target)"
    return "met" if hi <= bound else "not met" if lo > bound else "undecided (the interval holds the target)"

def add(label, value, half, target, lo=None, hi=None):
    if value is None:
        rows.append((label, "n/a (a benchmark is missing)", target, ""))
        return
    if lo is None:
        lo, hi = value - half, value + half
    iv = f" [{lo:.2f}, {hi:.2f}]" if lo == lo else " (1 fork: no interval)"
    rows.append((label, f"{value:.2f}{iv}", target, verdict(lo, hi, target)))

def ratio(label, num, den, target):
    """num / den of two independent estimates (different forks); the interval from their relative
    errors in quadrature, taken on the logarithm so that it stays positive: [q / e^h, q * e^h]."""
    if num is None or den is None or den.mean == 0:
        add(label, None, 0, target)
        return
    q = num.mean / den.mean
    h = math.sqrt(num.rel() ** 2 + den.rel() ** 2)
    add(label, q, None, target, q * math.exp(-h), q * math.exp(h))

kb1, kb2 = find("KernelBuildBench.oneRun", threads=1), find("KernelBuildBench.oneRun", threads=2)
two = next((r for r in runs if short(r).startswith("KernelBuildTwoRunsBench.")), None)
a1, a2 = est(kb1, "accesses"), est(kb2, "accesses")
# The two runs' accesses/s: their runs/s times the accesses of one one-thread run, which every
# one-thread run does alike (KernelBuildTwoRunsBench checks it on every run), taken from
# KernelBuildBench threads 1, whose counter is exact. Never JMH's auxiliary counter of a
# @Threads(2) benchmark (older JSONs have one): it also counts the runs of JMH's synchronised
# ramp-up and ramp-down, which the measured time leaves out (15 to 20% too many here).
per_run = None
if kb1 is not None and metric(kb1, "accesses") is not None:
    pairs = [(a, o) for fa, fo in zip(metric(kb1, "accesses")["rawData"], kb1["primaryMetric"]["rawData"])
             for a, o in zip(fa, fo) if o]
    per_run = sum(a / o for a, o in pairs) / len(pairs) if pairs else None
rt = est(two)
at = None if rt is None or per_run is None else Est([per_run * x for x in rt.forks])
ratio("kernel-build, 2 threads / 1 thread (accesses/s)", a2, a1, "at least 1.7")
ratio("kernel-build, 2 threads / two runs (accesses/s)", a2, at, "at least 0.9")
ratio("two runs / 1 thread (accesses/s), the ceiling", at, a1, "")
rb = next((r for r in runs if short(r).startswith("KernelBuildRoundsBench.")), None)
if rb is not None:
    for num, den, label, target in (("smp", "one", "2 threads / 1 thread", "at least 1.7"),
                                    ("smp", "two", "2 threads / two runs", "at least 0.9"),
                                    ("two", "one", "two runs / 1 thread, the ceiling", "")):
        e = arm_ratio(rb, num, den)
        add(f"kernel-build round by round in one JVM (`KernelBuildRoundsBench`), {label}",
            None if e is None else e.mean, None if e is None else e.half, target)
for r in runs:
    n = short(r)
    if n.startswith("TlbHitBench.") and n != "TlbHitBench.plainLongArrayRead":
        # the floor measured beside it: the same parameters (the mmu, shadow or tdp), else any
        plain = find("TlbHitBench.plainLongArrayRead", **(r.get("params") or {})) or find("TlbHitBench.plainLongArrayRead")
        label = f"`{n}` ({params(r)}) / `plainLongArrayRead`, time per access" if r.get("params") else f"`{n}` / `plainLongArrayRead`, time per access"
        # throughput in ops/s: time per access ratio = plain's rate / this one's rate
        # the target is the read hit's, under either MMU; the store hit's row is for comparison
        ratio(label, est(plain), est(r), "at most 3" if n == "TlbHitBench.guestReadTlbHit" else "")
sf = next((r for r in runs if short(r).startswith("ShadowFaultBench.")), None)
e = est(sf, scale=1e-6)
add("`ShadowFaultBench`, million faults/s", None if e is None else e.mean, None if e is None else e.half, "at least 5")
n1, n8 = find("NotifierDispatchBench.emulatedWrite", notifiers=1, mode="direct"), find("NotifierDispatchBench.emulatedWrite", notifiers=8, mode="direct")
e1, e8 = est(n1), est(n8)
add("one notifier, ns per emulated write", None if e1 is None else e1.mean, None if e1 is None else e1.half, "at most 40")
if e1 and e8:
    add("each further notifier, ns ((8 notifiers - 1) / 7)", (e8.mean - e1.mean) / 7,
        math.sqrt(e8.half ** 2 + e1.half ** 2) / 7, "at most 15")
cb = next((r for r in runs if short(r).startswith("CompareBench.")), None)
e = est(cb)
add("`run:compare kernel-build`, defaults, end to end, s", None if e is None else e.mean, None if e is None else e.half, "")
if at is not None:
    print(f"Two runs' accesses/s: their runs/s x {per_run / 1e6:.2f} million accesses a one-thread run"
          " (`KernelBuildBench` threads 1), not JMH's counter of a 2-thread benchmark, which also counts"
          " the runs of its synchronised ramps.")
    print()
print("| ratio or figure | value [95% interval over forks] | target | verdict |")
print("|---|---|---|---|")
for l, v, t, w in rows:
    print(f"| {l} | {v} | {t} | {w} |")
PY
[[ -n ${render_only:-} ]] || echo "(table: $out.md; JMH JSON: $out.json; log: $out.log)" >&2
