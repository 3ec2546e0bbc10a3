#!/usr/bin/env bash
# HostPhaseProbe, run briefly from the benchmarks jar (it checks the program, not the host): a
# header and one line a second of the faults' rate, the three probes' ns and the JIT's and the
# collector's milliseconds; a bad argument refused with one line.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
jar="$root/benchmarks/target/benchmarks.jar"
[[ -f $jar ]] || { echo "host-phase-probe-test: $jar is missing (the package phase builds it)" >&2; exit 1; }
fail=0
out=$(java -cp "$jar" org.shadowbox.bench.HostPhaseProbe 2)
lines=$(grep -cE '^ +[0-9]+ +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+ +[0-9]+$' <<<"$out" || true)
if [[ $(head -1 <<<"$out") != *"faults M/s"*"ALU ns/step"*"GC ms"* || $lines -lt 2 || $lines -gt 3 ]]; then
    echo "host-phase-probe-test: HostPhaseProbe 2 printed, not a header and a line a second:" >&2
    printf '%s\n' "$out" >&2
    fail=1
fi
for bad in 0 x "1 2"; do
    # shellcheck disable=SC2086
    if err=$(java -cp "$jar" org.shadowbox.bench.HostPhaseProbe $bad 2>&1); then
        echo "host-phase-probe-test: HostPhaseProbe '$bad' was accepted" >&2
        fail=1
    elif [[ $err != "usage: HostPhaseProbe [SECONDS]: seconds to run, a whole number from 1 (default 30)" ]]; then
        echo "host-phase-probe-test: HostPhaseProbe '$bad' gave '$err'" >&2
        fail=1
    fi
done
if [[ $fail != 0 ]]; then
    exit 1
fi
echo "host-phase-probe-test: ok (HostPhaseProbe's lines and refusals)"
