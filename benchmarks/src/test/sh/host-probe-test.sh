#!/usr/bin/env bash
# The host probes, run briefly from the benchmarks jar (it checks the programs, not the host):
# HostPhaseProbe prints a header and one line of four positive figures a second and refuses a
# bad argument with one line; JMH's -prof org.shadowbox.bench.HostProbe adds host.mem and
# host.alu, in ns, to a benchmark's results.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
jar="$root/benchmarks/target/benchmarks.jar"
[[ -f $jar ]] || { echo "host-probe-test: $jar is missing (the package phase builds it)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
out=$(java -cp "$jar" org.shadowbox.bench.HostPhaseProbe 2)
lines=$(grep -cE '^ +[0-9]+ +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}$' <<<"$out" || true)
if [[ $(head -1 <<<"$out") != *"faults M/s"*"ALU ns/step"* || $lines -lt 2 || $lines -gt 3 ]]; then
    echo "host-probe-test: HostPhaseProbe 2 printed, not a header and a line a second:" >&2
    printf '%s\n' "$out" >&2
    fail=1
fi
for bad in 0 x "1 2"; do
    # shellcheck disable=SC2086
    if err=$(java -cp "$jar" org.shadowbox.bench.HostPhaseProbe $bad 2>&1); then
        echo "host-probe-test: HostPhaseProbe '$bad' was accepted" >&2
        fail=1
    elif [[ $err != "usage: HostPhaseProbe [SECONDS]: seconds to run, a whole number from 1 (default 30)" ]]; then
        echo "host-probe-test: HostPhaseProbe '$bad' gave '$err'" >&2
        fail=1
    fi
done
java -jar "$jar" 'PageTrackBench.isActiveTracked' -f 1 -wi 0 -i 2 -r 200ms -prof org.shadowbox.bench.HostProbe \
    -rf json -rff "$dir/r.json" > "$dir/log" 2>&1 || { tail -5 "$dir/log" >&2; echo "host-probe-test: the JMH run failed" >&2; exit 1; }
python3 - "$dir/r.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))[0]["secondaryMetrics"]
for key, unit in (("host.mem", "ns/read"), ("host.alu", "ns/step")):
    m = r.get(key)
    raw = [x for f in (m or {}).get("rawData", []) for x in f]
    if m is None or m["scoreUnit"] != unit or len(raw) != 2 or not all(0 < x < 1000 for x in raw):
        sys.exit(f"host-probe-test: {key} is {m}, not two iterations' positive ns in {unit}")
PY
if [[ $fail != 0 ]]; then
    exit 1
fi
echo "host-probe-test: ok (HostPhaseProbe's lines and refusals, HostProbe's results in JMH)"
