#!/usr/bin/env bash
# What bounds a 2-thread kernel-build run: the run beside the ceilings it is measured against,
# round after round, so that the host's drift (it changes from minute to minute here) falls on
# all of them alike.
#
#   bench/smp-ceiling.sh [ROUNDS]          (default 3; about 3 minutes a round on 2 cores)
#   SHADOWBOX_CEILING_DIR=dir bench/smp-ceiling.sh    render the JSON of an earlier run, measure nothing
#
# Each round runs, one after the other, one JMH fork each (-wi 3 -i 3, 5 s iterations; more with
# SHADOWBOX_JMH_ARGS, e.g. '-wi 4 -i 5'):
#   one      KernelBuildBench, threads 1: one run on one host thread, the unit of every ratio
#   smp      KernelBuildBench, threads 2: one SMP run on two host threads (the issue's 2-thread run)
#   tworuns  KernelBuildTwoRunsBench: two independent one-thread runs in one JVM (one heap, one JIT)
#   twojvms  two JVMs at once, each KernelBuildBench threads 1: nothing shared but the machine
# and, at the end, the ratios of each round and their median. Accesses/s: KernelBuildBench's own
# counter (exact for a one-thread benchmark); KernelBuildTwoRunsBench's runs/s times the round's
# accesses per one-thread run (its JMH counter over-counts, see KernelBuildTwoRunsBench).
# Needs benchmarks/target/benchmarks.jar (mvn -B -pl benchmarks -am package -DskipTests) and python3.
# Writes the JSON and logs to benchmarks/target/smp-ceiling-<time>/ and the table to stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar=${SHADOWBOX_JAR:-$root/benchmarks/target/benchmarks.jar}
command -v python3 >/dev/null 2>&1 || { echo "smp-ceiling.sh: needs python3 to read JMH's JSON (apt-get install python3)" >&2; exit 2; }

if [[ -n ${SHADOWBOX_CEILING_DIR:-} ]]; then
    dir=$SHADOWBOX_CEILING_DIR
    [[ -d $dir ]] || { echo "smp-ceiling.sh: SHADOWBOX_CEILING_DIR=$dir is not a directory" >&2; exit 2; }
    header="rendered from $dir (an earlier run; machine and load as its header.txt says)"
    [[ -f $dir/header.txt ]] && header=$(cat "$dir/header.txt")
else
    rounds=${1:-3}
    [[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "smp-ceiling.sh: ROUNDS must be a positive whole number, not '$rounds'" >&2; exit 2; }
    [[ -f $jar ]] || { echo "smp-ceiling.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }
    dir="$root/benchmarks/target/smp-ceiling-$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$dir"
    java_bin=${JAVA:-java}
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
    header="Started $(date -u '+%Y-%m-%d %H:%M UTC'): \`nproc\` $(nproc), ${cpu:-$(uname -m)}; $("$java_bin" -version 2>&1 | head -1); load before $(cut -d' ' -f1-3 /proc/loadavg)"
    # one fork of one benchmark; the lock lets two JMH instances run at once (twojvms)
    jmh() { # name regex [jmh args...]
        local name=$1 regex=$2
        shift 2
        "$java_bin" -Djmh.ignoreLock=true -jar "$jar" "$regex" -f 1 -wi 3 -i 3 ${SHADOWBOX_JMH_ARGS:-} "$@" \
            -rf json -rff "$dir/$name.json" > "$dir/$name.log" 2>&1 \
            || { echo "smp-ceiling.sh: $name failed; see $dir/$name.log" >&2; return 1; }
    }
    for r in $(seq 1 "$rounds"); do
        echo "round $r of $rounds: one, smp, tworuns, twojvms ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
        jmh "r$r-one" '^org\.shadowbox\.bench\.KernelBuildBench\.oneRun$' -p threads=1
        jmh "r$r-smp" '^org\.shadowbox\.bench\.KernelBuildBench\.oneRun$' -p threads=2
        jmh "r$r-tworuns" '^org\.shadowbox\.bench\.KernelBuildTwoRunsBench\.'
        jmh "r$r-twojvms-a" '^org\.shadowbox\.bench\.KernelBuildBench\.oneRun$' -p threads=1 &
        a=$!
        jmh "r$r-twojvms-b" '^org\.shadowbox\.bench\.KernelBuildBench\.oneRun$' -p threads=1 || { wait "$a"; exit 1; }
        wait "$a"
    done
    header="$header, after $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$header" > "$dir/header.txt"
fi

python3 - "$dir" "$header" <<'PY'
import glob, json, os, re, statistics, sys
d, header = sys.argv[1:3]

def load(name):
    path = os.path.join(d, name + ".json")
    if not os.path.exists(path):
        sys.exit(f"smp-ceiling.sh: {path} is missing: every round needs one, smp, tworuns, twojvms-a and twojvms-b")
    runs = json.load(open(path))
    if len(runs) != 1:
        sys.exit(f"smp-ceiling.sh: {path} holds {len(runs)} results, expected one benchmark of one fork")
    r = runs[0]
    ops = r["primaryMetric"]["score"]
    acc = (r.get("secondaryMetrics") or {}).get("accesses")
    return ops, (acc["score"] if acc else None)

rounds = sorted({int(m.group(1)) for f in glob.glob(os.path.join(d, "r*-one.json"))
                 for m in [re.search(r"r(\d+)-one\.json$", f)] if m})
if not rounds:
    sys.exit(f"smp-ceiling.sh: no r<N>-one.json in {d}")
M = 1e6
rows, ratios = [], {k: [] for k in ("smp", "tworuns", "twojvms", "smp/tworuns", "smp/twojvms")}
for n in rounds:
    one_ops, one_acc = load(f"r{n}-one")
    smp_ops, smp_acc = load(f"r{n}-smp")
    two_ops, _ = load(f"r{n}-tworuns")
    a_ops, a_acc = load(f"r{n}-twojvms-a")
    b_ops, b_acc = load(f"r{n}-twojvms-b")
    per_run = one_acc / one_ops  # accesses of one one-thread run: the same in every run
    two_acc = two_ops * per_run
    jvms_acc = a_acc + b_acc
    rows.append((n, one_acc, smp_acc, two_acc, jvms_acc, a_ops, b_ops))
    for k, v in (("smp", smp_acc / one_acc), ("tworuns", two_acc / one_acc), ("twojvms", jvms_acc / one_acc),
                 ("smp/tworuns", smp_acc / two_acc), ("smp/twojvms", smp_acc / jvms_acc)):
        ratios[k].append(v)

print(header)
print()
print("Million guest accesses per host second, one JMH fork each (kernel-build, 4 vCPUs, 1 GiB):")
print()
print("| round | one run, 1 thread | SMP run, 2 threads | two runs, one JVM | two JVMs (runs/s each) | SMP / 1 thread | two runs / 1 thread | two JVMs / 1 thread | SMP / two runs | SMP / two JVMs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for i, (n, one, smp, two, jvms, a, b) in enumerate(rows):
    r = [ratios[k][i] for k in ("smp", "tworuns", "twojvms", "smp/tworuns", "smp/twojvms")]
    print(f"| {n} | {one / M:.2f} | {smp / M:.2f} | {two / M:.2f} | {jvms / M:.2f} ({a:.2f}, {b:.2f}) | "
          + " | ".join(f"{x:.2f}" for x in r) + " |")
med = {k: statistics.median(v) for k, v in ratios.items()}
rng = {k: (min(v), max(v)) for k, v in ratios.items()}
print("| median | | | | | " + " | ".join(f"{med[k]:.2f}" for k in ("smp", "tworuns", "twojvms", "smp/tworuns", "smp/twojvms")) + " |")
print()
print("Ranges over the rounds: " + "; ".join(f"{k} {rng[k][0]:.2f} to {rng[k][1]:.2f}" for k in ratios) + ".")
PY
