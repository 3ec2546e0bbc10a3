#!/usr/bin/env bash
# Where a benchmark's cycles go, by machine instruction: JMH's perfasm profiler (Linux perf,
# cpu-clock samples: this project's VMs have no hardware counters) with HotSpot's disassembly,
# then two summaries of its output: the hottest instructions with the Java source line they
# belong to, and the locked instructions (full fences, CAS, and the fence inside G1's write
# barrier) with their share of all samples.
#
#   bench/perfasm.sh --install      build bench/hsdis-shim.c into the JDK (<java.home>/lib/server/hsdis-amd64.so)
#   bench/perfasm.sh --check        whether this JVM disassembles: prints one decoded instruction
#   bench/perfasm.sh REGEX [JMH OPTIONS...]     profile REGEX's benchmarks (1 fork, 10 warm-up iterations unless given)
#   bench/perfasm.sh --summary FILE             the two summaries of an earlier run's output
#
# Needs perf (linux-perf), gcc and Debian's libhsdis0-fcml. JDK 17 cannot use that package's
# plugin by itself (it lacks the entry point JDK 17 calls; bench/hsdis-shim.c says more), and the
# JVM looks in <java.home>/lib/server before the package's <java.home>/lib, so --install writes
# the shim there: a diagnostic plugin the JVM loads only when asked to print assembly. Writes the
# whole perfasm output to benchmarks/target/perfasm-<time>.txt. Sample shares of a skidding
# clock: the cost of an instruction lands on it or on the next one; a fence's share below is
# both. A benchmark's @Setup work is sampled too (the score leaves it out).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
java_bin=${JAVA:-java}

java_home() {
    "$java_bin" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p'
}

summary() { # perfasm output file
    python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().split("\n")
end = next((i for i, l in enumerate(lines) if "Hottest Regions]" in l), None)
if end is None:
    sys.exit("perfasm.sh: no perfasm regions in " + sys.argv[1] + " (did the run fail? see its end)")
ins_re = re.compile(r"\s*(?:([\d.]+)%)?\s+[│╭╰↘↗ ]*\s*(0x[0-9a-f]+):\s+([a-z].*)")
frame_re = re.compile(r"; - ((?:org\.shadowbox|java|jdk)\S+@\d+) \(line (\d+)\)")

def site(i):
    for k in range(i, max(i - 40, 0), -1):
        m = frame_re.search(lines[k])
        if m:
            return m.group(1).replace("org.shadowbox.", "") + " line " + m.group(2)
    return "?"

def share(i):
    m = ins_re.match(lines[i])
    return float(m.group(1)) if m and m.group(1) else 0.0

hot, locked = [], {}
for i in range(end):
    m = ins_re.match(lines[i])
    if not m:
        continue
    text = re.sub(r"\s*;.*", "", m.group(3)).strip()
    hot.append((share(i), text, site(i)))
    if text.startswith("lock ") or text.startswith("xchg"):
        j = i + 1
        while j < end and not ins_re.match(lines[j]):
            j += 1
        cost = share(i) + (share(j) if j < end else 0.0)
        fence = any("fullFence" in lines[k] for k in range(i, min(i + 3, end)))
        if fence:
            kind = "fullFence in " + next((site(q) for q in range(i, min(i + 8, end)) if frame_re.search(lines[q]) and "org.shadowbox" in lines[q]), site(i))
        elif "cmpxchg" in text:
            kind = "CAS in " + site(i)
        else:
            # G1's post-write barrier, laid out after the store it guards: named by the first
            # frame of ours that follows, within the same region
            ours = None
            for q in range(i + 1, min(i + 24, end)):
                if lines[q].startswith("...."):
                    break
                m2 = frame_re.search(lines[q])
                if m2 and "org.shadowbox" in lines[q]:
                    ours = m2
                    break
            where = ours.group(1).replace("org.shadowbox.", "") + " line " + ours.group(2) if ours else site(i)
            kind = "G1 write barrier's fence, near " + where
        locked[kind] = locked.get(kind, 0.0) + cost
print("Hottest instructions (share of all samples, the instruction, its innermost Java frame):")
for p, text, s in sorted(hot, reverse=True)[:25]:
    print(f"  {p:5.2f}%  {text[:44]:44}  {s}")
print("Locked instructions (their share plus the next instruction's), by site:")
for k, v in sorted(locked.items(), key=lambda kv: -kv[1]):
    if v >= 0.05:
        print(f"  {v:5.2f}%  {k}")
print(f"  {sum(locked.values()):5.2f}%  in all")
PY
}

case ${1:-} in
--install)
    command -v gcc >/dev/null 2>&1 || { echo "perfasm.sh: needs gcc (apt-get install gcc)" >&2; exit 2; }
    [[ -e /usr/lib/x86_64-linux-gnu/libhsdis.so.0 ]] || { echo "perfasm.sh: needs Debian's libhsdis0-fcml (apt-get install libhsdis0-fcml)" >&2; exit 2; }
    dest="$(java_home)/lib/server/hsdis-amd64.so"
    [[ -w $(dirname "$dest") ]] || { echo "perfasm.sh: cannot write $dest: run --install as the JDK's owner (root)" >&2; exit 2; }
    gcc -O2 -Wall -Werror -shared -fPIC -o "$dest" "$root/bench/hsdis-shim.c" -ldl
    echo "installed $dest"
    exit 0 ;;
--check)
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    printf '%s\n' 'public class Probe { static int f(int x) { return x * 3 + 1; }' \
        '  public static void main(String[] a) { int s = 0; for (int i = 0; i < 300000; i++) s += f(i); System.out.println(s); } }' > "$dir/Probe.java"
    line=$("$java_bin" -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=quiet -XX:CompileCommand=print,Probe::f "$dir/Probe.java" 2>&1 \
        | grep -m1 -E '^ +0x[0-9a-f]+: +[a-z]{2,}[a-z0-9]* ' || true)
    [[ -n $line ]] || { echo "perfasm.sh: this JVM prints machine code undecoded: run bench/perfasm.sh --install (needs libhsdis0-fcml)" >&2; exit 1; }
    echo "disassembles: ${line#"${line%%[![:space:]]*}"}"
    exit 0 ;;
--summary)
    [[ -f ${2:-} ]] || { echo "perfasm.sh: --summary needs a perfasm output file, got '${2:-}'" >&2; exit 2; }
    summary "$2"
    exit 0 ;;
''|-h|--help)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    [[ -n ${1:-} ]] && exit 0 || exit 2 ;;
-*)
    echo "perfasm.sh: unknown option '$1': accepted --install, --check, --summary FILE, or a benchmark regex" >&2
    exit 2 ;;
esac

command -v perf >/dev/null 2>&1 || { echo "perfasm.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
"$0" --check >/dev/null
jar="$root/benchmarks/target/benchmarks.jar"
[[ -f $jar ]] || { echo "perfasm.sh: $jar is missing; build it with mvn -B -pl benchmarks -am package -DskipTests" >&2; exit 2; }
regex=$1
shift
mkdir -p "$root/benchmarks/target"
out="$root/benchmarks/target/perfasm-$(date -u +%Y%m%dT%H%M%SZ).txt"
defaults=(-f 1 -wi 10)
for a in "$@"; do
    case $a in -f|-wi) defaults=() ;; esac
done
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg); $("$java_bin" -version 2>&1 | head -1)"
"$java_bin" -jar "$jar" "$regex" "${defaults[@]}" "$@" \
    -prof 'perfasm:events=cpu-clock;hotThreshold=0.01;top=40;tooBigThreshold=5000' > "$out" 2>&1 \
    || { tail -5 "$out" >&2; echo "perfasm.sh: the JMH run failed; its output is $out" >&2; exit 1; }
grep -E '^(Iteration|# Benchmark:|Benchmark |[A-Za-z]+Bench)' "$out" | grep -v ':asm' || true
summary "$out"
echo "(perfasm output: $out)"
