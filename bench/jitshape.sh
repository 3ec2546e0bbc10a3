#!/usr/bin/env bash
# Where the JIT put the call on the guest's hottest path, JVM by JVM, beside that JVM's speed.
#
#   bench/jitshape.sh [JVMS] [THREADS] [WARMUP] [RUNS]     (default 6 1 10 10)
#
# Runs ForkSpreadProbe (kernel-build, 4 vCPUs) in JVMS fresh JVMs with -XX:+LogCompilation and,
# for each, prints its figures (accesses per wall second, CPU ns per access) and the shape C2 gave
# the chain a user access goes through on a TLB hit:
#   Faults.access -> ResultCpu.read/write/fetch -> GuestVcpu.read/write/fetch -> VcpuMmu.access
#   -> GuestAccess.access -> GuestAccess.tlbHit -> TlbHitPath.tlbHit -> GuestAccess.hit ...
# (main at 97caca1; since the TLB-hit rework a read hit goes ResultCpu.read -> ShadowGuestCpu.readHit
# -> VcpuMmu.readHit -> TlbHitPath.readHit -> VcpuMmu.hit; since s15j it is ShadowGuestCpu.read/write/fetch
# -> VcpuMmu.loadHit/storeHit -> hitEntry, else ResultCpu.miss -> GuestAccess.miss, a method C2 never
# inlines (over FreqInlineSize), so "(the hit path inlined whole)" is the shape to expect)
# Every link is called once per access, so the tiered compiler queues several of them for C2 at
# the same moment; whichever it compiles first inlines the rest of the chain, becomes a big
# method, and is then a call from its callers ("already compiled into a big method"): the shape
# is the list of such refusals, from the last C2 compile of Faults.access and of the method it
# calls. Needs benchmarks/target/benchmarks.jar (mvn -B -pl benchmarks -am package -DskipTests).
# docs/benchmarks.md, "Forks", says what was found with it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar=${SHADOWBOX_JAR:-$root/benchmarks/target/benchmarks.jar}
jvms=${1:-6} threads=${2:-1} warmup=${3:-10} runs=${4:-10}
[[ -f $jar ]] || { echo "jitshape.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "jitshape.sh: needs python3" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/shadowbox-jitshape.XXXXXX")
echo "kernel-build on $threads thread(s), $warmup warm-up runs then $runs; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg); logs in $dir"
for i in $(seq 1 "$jvms"); do
    line=$("${JAVA:-java}" -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile="$dir/jvm$i.xml" \
        -cp "$jar" org.shadowbox.bench.ForkSpreadProbe "$threads" "$warmup" "$runs" 2>&1 >/dev/null | grep '^threads' || true)
    shape=$(python3 - "$dir/jvm$i.xml" <<'PY'
import html, re, sys
attr = re.compile(r"(\w+)='([^']*)'")
def attrs(l):
    return {k: html.unescape(v) for k, v in attr.findall(l)}
lines = open(sys.argv[1], errors="replace").read().split("\n")
# the links of the access chain, before and after the TLB-hit path's rework (ResultCpu.readHit,
# VcpuMmu.readHit, TlbHitPath.readHit/storeHit): any method of these classes refused as big
CHAIN = ("ResultCpu::", "GuestCpu::", "GuestVcpu::", "VcpuMmu::", "GuestAccess::", "TlbHitPath::")
def last_tree(meth):
    """The refusals on the access chain in the last C2 compile of meth (a substring of 'holder name')."""
    found = None
    i = 0
    while i < len(lines):
        l = lines[i]
        if l.startswith("<task ") and "level=" not in l and meth in html.unescape(l) and "compile_kind='osr'" not in l:
            meths, pending, refusals = {}, None, []
            j = i + 1
            while j < len(lines) and not lines[j].startswith("</task>"):
                x = lines[j]
                if x.startswith("<method "):
                    b = attrs(x); meths[b["id"]] = b
                elif x.startswith("<klass "):
                    b = attrs(x); meths["k" + b["id"]] = b
                elif x.startswith("<call "):
                    m = meths.get(attrs(x)["method"], {})
                    pending = meths.get("k" + m.get("holder", ""), {}).get("name", "?").replace("/", ".") + "::" + m.get("name", "?")
                elif x.startswith("<inline_fail") and pending:
                    reason = attrs(x).get("reason", "")
                    if any(c in pending for c in CHAIN) and "big method" in reason and pending not in refusals:
                        refusals.append(pending)
                    pending = None
                elif x.startswith("<inline_success"):
                    pending = None
                j += 1
            found = refusals
            i = j
        i += 1
    return found
faults = last_tree("kernel.Faults access")
if faults is None:
    print("Faults.access: no C2 compile"); sys.exit()
def short(m):
    return m.split("::")[0].split(".")[-1] + "." + m.split("::")[1]
out = ["Faults.access calls " + (", ".join(map(short, faults)) if faults else "(the hit path inlined whole)")]
for callee in faults[:1]:
    holder, name = callee.split("::")
    inner = last_tree(holder + " " + name)
    if inner:
        out.append(short(callee) + " calls " + ", ".join(map(short, inner)))
print("; ".join(out))
PY
)
    line=${line#threads }
    echo "jvm $i: ${line%%; per run*} | $shape"
done
