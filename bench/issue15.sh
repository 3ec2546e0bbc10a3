#!/usr/bin/env bash
# Issue 15's target table in one JMH invocation: every benchmark of the table with its baseline,
# measured in the same run, then a markdown table with the machine, the load before and after,
# score +- error, and the ratios the targets use.
#
#   bench/issue15.sh            build the benchmarks jar (mvn, offline if it can), then run
#   SHADOWBOX_NO_BUILD=1 bench/issue15.sh    use benchmarks/target/benchmarks.jar as it is
#
# Benchmarks (their own warm-up and iteration annotations, one fork each):
#   KernelBuildBench.oneRun, threads 1 and 2     one kernel-build run end to end, SMP or not
#   KernelBuildTwoRunsBench                      two independent runs at once (the ceiling)
#   CompareBench                                 run:compare kernel-build, defaults, end to end
#   TlbHitBench (every method, mmu shadow and tdp)  a TLB hit beside a plain long[] read
#   ShadowFaultBench                             a fault on an existing shadow page
#   NotifierDispatchBench, direct, 0/1/2/4/8 notifiers
# JMH estimates 6 minutes of iterations (an idle 2-core machine; 21 min at load 18), plus the build. Writes the table to stdout
# and, with the JMH JSON, to benchmarks/target/issue15-<time>.{md,json}. Run it on a quiet
# machine: the table says the load, and a loaded machine's figures are not evidence of targets.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar="$root/benchmarks/target/benchmarks.jar"
command -v python3 >/dev/null 2>&1 || { echo "issue15.sh: needs python3 to read JMH's JSON (apt-get install python3)" >&2; exit 2; }

if [[ ${SHADOWBOX_NO_BUILD:-} != 1 ]]; then
    echo "building the benchmarks jar ..." >&2
    (cd "$root" && { mvn -B -q -o -pl benchmarks -am package -DskipTests 2>/dev/null \
        || mvn -B -q -pl benchmarks -am package -DskipTests; })
fi
[[ -f $jar ]] || { echo "issue15.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$root/benchmarks/target/issue15-$stamp"
java_bin=${JAVA:-java}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
[[ -n $cpu ]] || cpu=$(uname -m)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
jdk=$("$java_bin" -version 2>&1 | head -1)

regex='^org\.shadowbox\.bench\.(KernelBuildBench\.oneRun|KernelBuildTwoRunsBench\..*|CompareBench\..*|TlbHitBench\..*|ShadowFaultBench\..*|NotifierDispatchBench\.emulatedWrite)$'
"$java_bin" -jar "$jar" "$regex" -p mode=direct -p notifiers=0,1,2,4,8 -p threads=1,2 \
    -rf json -rff "$out.json" | tee "$out.log" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$out.json" "$(nproc)" "$cpu" "$load_before" "$load_after" "$started" "$jdk" <<'PY' | tee "$out.md"
import json, sys
path, nproc, cpu, before, after, started, jdk = sys.argv[1:8]
runs = json.load(open(path))

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

def score(r, secondary=None):
    m = r["primaryMetric"] if secondary is None else r["secondaryMetrics"].get(secondary)
    return None if m is None else (m["score"], m["scoreError"], m["scoreUnit"])

def fmt(x):
    return "n/a" if x is None else f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"

print(f"Issue 15 targets, run started {started}: `nproc` {nproc}, {cpu}; {jdk};")
print(f"load average (1, 5, 15 min) before {before}, after {after}. One JMH run, one fork per benchmark.")
print()
print("| benchmark | parameters | score ± error | unit | error / score |")
print("|---|---|---|---|---|")
for r in runs:
    s, e, u = score(r)
    rel = f"{100 * e / s:.1f}%" if s and e == e else "n/a"
    print(f"| `{short(r)}` | {params(r)} | {fmt(s)} ± {fmt(e)} | {u} | {rel} |")
    if "accesses" in (r.get("secondaryMetrics") or {}):
        s2, e2, u2 = score(r, "accesses")
        print(f"| `{short(r)}` accesses | {params(r)} | {fmt(s2 / 1e6)} ± {fmt(e2 / 1e6)} | million accesses/s | {100 * e2 / s2:.1f}% |")
print()

rows = []
def ratio(label, num, den, target):
    if num is None or den is None or den == 0:
        rows.append((label, "n/a (a benchmark is missing)", target))
    else:
        rows.append((label, f"{num / den:.2f}", target))

def acc(r):
    return None if r is None or "accesses" not in r["secondaryMetrics"] else r["secondaryMetrics"]["accesses"]["score"]

kb1, kb2 = find("KernelBuildBench.oneRun", threads=1), find("KernelBuildBench.oneRun", threads=2)
two = next((r for r in runs if short(r).startswith("KernelBuildTwoRunsBench.")), None)
ratio("kernel-build, 2 threads / 1 thread (accesses/s)", acc(kb2), acc(kb1), "at least 1.7")
ratio("kernel-build, 2 threads / two runs (accesses/s)", acc(kb2), acc(two), "at least 0.9")
ratio("two runs / 1 thread (accesses/s), the ceiling", acc(two), acc(kb1), "")
for r in runs:
    n = short(r)
    if n.startswith("TlbHitBench.") and n != "TlbHitBench.plainLongArrayRead":
        # the floor measured beside it: the same parameters (the mmu, shadow or tdp), else any
        plain = find("TlbHitBench.plainLongArrayRead", **(r.get("params") or {})) or find("TlbHitBench.plainLongArrayRead")
        label = f"`{n}` ({params(r)}) / `plainLongArrayRead`, time per access" if r.get("params") else f"`{n}` / `plainLongArrayRead`, time per access"
        # throughput in ops/s: time per access ratio = plain's rate / this one's rate
        ratio(label, None if plain is None else plain["primaryMetric"]["score"], r["primaryMetric"]["score"], "at most 3")
sf = next((r for r in runs if short(r).startswith("ShadowFaultBench.")), None)
rows.append(("`ShadowFaultBench`, million faults/s", fmt(sf["primaryMetric"]["score"] / 1e6) if sf else "n/a", "at least 5"))
n1, n8 = find("NotifierDispatchBench.emulatedWrite", notifiers=1, mode="direct"), find("NotifierDispatchBench.emulatedWrite", notifiers=8, mode="direct")
rows.append(("one notifier, ns per emulated write", fmt(n1["primaryMetric"]["score"]) if n1 else "n/a", "at most 40"))
if n1 and n8:
    rows.append(("each further notifier, ns ((8 notifiers - 1) / 7)", fmt((n8["primaryMetric"]["score"] - n1["primaryMetric"]["score"]) / 7), "at most 15"))
cb = next((r for r in runs if short(r).startswith("CompareBench.")), None)
rows.append(("`run:compare kernel-build`, defaults, end to end, s", fmt(cb["primaryMetric"]["score"]) if cb else "n/a", ""))
print("| ratio or figure | value | target |")
print("|---|---|---|")
for l, v, t in rows:
    print(f"| {l} | {v} | {t} |")
PY
echo "(table: $out.md; JMH JSON: $out.json; log: $out.log)" >&2
