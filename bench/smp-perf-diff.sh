#!/usr/bin/env bash
# Where one SMP run's extra CPU goes, against two independent runs: a perf profile of one JVM
# that alternates the two (SmpPerfProbe: one run on 2 host threads, then two 1-thread runs at
# once, round after round, same compiled code, same host phases), split by mode and cut to the
# measured runs; per compiled method (with what the JIT inlined into it) the vCPU threads'
# samples per million guest accesses in each mode and their difference. The kernel's part
# (syscalls of waits that yield or sleep, context switches) shows under its own symbols. Also:
# the JVM's other threads (the JIT's compilers, the collector), which take a core from a vCPU
# thread on a 2-core machine.
#
#   bench/smp-perf-diff.sh [WARMUP] [ROUNDS] [shadow|tdp]      (defaults 12 10 shadow)
#   bench/smp-perf-diff.sh --summary DIR                        the table of an earlier run's files
#   SHADOWBOX_JAVA_OPTS='-XX:ObjectAlignmentInBytes=128' bench/smp-perf-diff.sh   extra JVM options for the probe's JVM
#
# Needs perf (linux-perf; cpu-clock samples at 2000 Hz: this project's VMs have no hardware
# counters) and python3; uses benchmarks/target/benchmarks.jar as it is (build it with mvn -B -pl
# benchmarks -am package -DskipTests). Writes its files to benchmarks/target/smp-perf-<time>/.
set -euo pipefail
summary() { # DIR
python3 - "$1" <<'PY'
import bisect, collections, re, sys
out = sys.argv[1]
line_re = re.compile(r"\s*(.+?)\s+(\d+)\s+([\d.]+):\s*[0-9a-f]+\s*(.*)")
text = open(f"{out}/probe.out").read()
spans = sorted((int(a) / 1e9, int(b) / 1e9, mode) for mode, a, b in re.findall(r"^(smp|two) (\d+) (\d+)$", text, re.M))
m = re.search(r"accesses smp (\d+) two (\d+)", text)
if not spans or not m:
    sys.exit("smp-perf-diff.sh: the probe did not finish (see " + out + "/probe.out)")
accesses = {"smp": int(m.group(1)) / 1e6, "two": int(m.group(2)) / 1e6}
starts = [s[0] for s in spans]
vcpu = {"smp": collections.Counter(), "two": collections.Counter()}
other = {"smp": collections.Counter(), "two": collections.Counter()}
for line in open(f"{out}/perf.txt", errors="replace"):
    m = line_re.match(line)
    if not m:
        continue
    t = float(m.group(3))
    i = bisect.bisect_right(starts, t) - 1
    if i < 0 or t > spans[i][1]:
        continue
    mode = spans[i][2]
    comm, sym = m.group(1), re.sub(r"\(.*", "", m.group(4).strip()).split(" ")[-1] or "[unknown]"
    if comm == "java" or comm.startswith("shadowbox-guest") or comm.startswith("second-run"):
        vcpu[mode][sym] += 1
    else:
        other[mode][comm.rstrip("0123456789#")] += 1
s, w = vcpu["smp"], vcpu["two"]
ns, nw = sum(s.values()) / accesses["smp"], sum(w.values()) / accesses["two"]
print(f"vCPU threads' samples per million accesses (2000 Hz): one run on 2 threads {ns:.1f}, two runs at once {nw:.1f}: {ns / nw:.3f} x")
fmt = lambda c, a: ", ".join(f"{k} {v / a:.2f}" for k, v in c.most_common(4)) or "none"
print(f"other threads' samples per million accesses: smp {fmt(other['smp'], accesses['smp'])}; two {fmt(other['two'], accesses['two'])}")
rows = sorted(((s[k] / accesses["smp"] - w[k] / accesses["two"], k) for k in set(s) | set(w)), reverse=True)
print(f"{'smp':>7} {'two':>7} {'diff':>7}  method (the 25 that grow most, then the 8 that shrink most)")
for d, k in rows[:25] + [(None, None)] + rows[-8:]:
    if k is None:
        print(f"{'...':>7}")
        continue
    print(f"{s[k] / accesses['smp']:7.2f} {w[k] / accesses['two']:7.2f} {d:+7.2f}  {k[:120]}")
PY
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar="$root/benchmarks/target/benchmarks.jar"
if [[ ${1:-} == --summary ]]; then
    [[ -f ${2:-}/probe.out && -f ${2:-}/perf.txt ]] || { echo "smp-perf-diff.sh: --summary needs a directory with probe.out and perf.txt (an earlier run's), not '${2:-}'" >&2; exit 2; }
    summary "$2"
    exit
fi
warmup=${1:-12} rounds=${2:-10} mmu=${3:-shadow}
[[ $warmup =~ ^[0-9]+$ && $rounds =~ ^[1-9][0-9]*$ ]] || { echo "smp-perf-diff.sh: WARMUP and ROUNDS are counts of rounds (got '$warmup' '$rounds')" >&2; exit 2; }
[[ $mmu == shadow || $mmu == tdp ]] || { echo "smp-perf-diff.sh: the MMU is shadow or tdp (got '$mmu')" >&2; exit 2; }
command -v perf >/dev/null || { echo "smp-perf-diff.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
[[ -f $jar ]] || { echo "smp-perf-diff.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }
out="$root/benchmarks/target/smp-perf-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
perf record -q -k mono -e cpu-clock -F 2000 -o "$out/perf.data" \
    java ${SHADOWBOX_JAVA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -cp "$jar" \
    org.shadowbox.bench.SmpPerfProbe "$warmup" "$rounds" "$mmu" > "$out/probe.out"
perf script -i "$out/perf.data" -F comm,tid,time,ip,sym 2>/dev/null > "$out/perf.txt"
summary "$out"
echo "files: $out"
