#!/usr/bin/env bash
# bench/smp-perf-diff.sh's table from a small profile of known samples (--summary: nothing is run,
# no perf needed): samples are split by the probe's spans (smp, two) and cut to them, the vCPU
# threads' (the main thread, shadowbox-guest-*, second-run) counted per method per million
# accesses, the JVM's other threads apart; and its one-line refusals.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/probe.out" <<'OUT'
smp 10000000000 11000000000
two 11000000000 12000000000
rounds 1 accesses smp 2000000 two 4000000
OUT
{
    printf '            java 100  9.500000:  7f01 org.shadowbox.Before::warmup\n' # before the spans: not counted
    for i in 1 2 3 4 5 6; do printf '            java 100 10.%d00000:  7f01 org.shadowbox.A::hot\n' "$i"; done
    for i in 1 2 3 4; do printf 'shadowbox-guest 101 10.%d50000:  7f02 org.shadowbox.B::lock\n' "$i"; done
    printf ' C2 CompilerThre 102 10.700000:  7f03 Compile::Compile\n'
    for i in 1 2; do printf '            java 100 11.%d00000:  7f01 org.shadowbox.A::hot\n' "$i"; done
    for i in 1 2; do printf '      second-run 103 11.%d50000:  7f04 org.shadowbox.C::cold\n' "$i"; done
    printf '            java 100 12.500000:  7f01 org.shadowbox.After::tail\n' # after the spans
} > "$dir/perf.txt"
out=$("$root/bench/smp-perf-diff.sh" --summary "$dir")
fail=0
expect() { # text
    grep -qF -- "$1" <<<"$out" || { echo "smp-perf-diff-test: no line with '$1' in:" >&2; echo "$out" >&2; fail=1; }
}
# smp: 10 vCPU samples over 2 M accesses = 5.0; two: 4 over 4 M = 1.0
expect "one run on 2 threads 5.0, two runs at once 1.0: 5.000 x"
expect "smp C2 CompilerThre 0.50; two none"
expect "   3.00    0.50   +2.50  org.shadowbox.A::hot"
expect "   2.00    0.00   +2.00  org.shadowbox.B::lock"
expect "   0.00    0.50   -0.50  org.shadowbox.C::cold"
if grep -qE "Before::warmup|After::tail" <<<"$out"; then
    echo "smp-perf-diff-test: samples outside the measured spans were counted:" >&2
    echo "$out" >&2
    fail=1
fi
# shellcheck source=refused.sh
source "$(dirname "${BASH_SOURCE[0]}")/refused.sh"
refused smp-perf-diff-test "--summary needs a directory with probe.out and perf.txt" "$root/bench/smp-perf-diff.sh" --summary "$dir/none"
refused smp-perf-diff-test "WARMUP and ROUNDS are counts of rounds (got 'x' '10')" "$root/bench/smp-perf-diff.sh" x 10
refused smp-perf-diff-test "the MMU is shadow or tdp (got 'ept')" "$root/bench/smp-perf-diff.sh" 1 1 ept
[[ $fail == 0 ]] || exit 1
echo "smp-perf-diff-test: ok (spans, per-million counts, other threads, refusals)"
