#!/usr/bin/env bash
# The MMU alone on two host threads (SmpMmuProbe): for each MMU and rate of guest page-table
# edits, the time per access of one VM's two vCPUs on two threads against two VMs' (the ceiling),
# rounds rotating in one JVM; then the shadow MMU at the kernel build's rate of edits again, in
# the diagnostic mode, for mmu_lock's and the remote flushes' share of an edit. About 15 minutes.
#
#   bench/smp-mmu.sh            (after: mvn -B -q -o -pl benchmarks -am package -DskipTests)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
jar=$root/benchmarks/target/benchmarks.jar
[[ -f $jar ]] || { echo "smp-mmu.sh: $jar is missing; build it: mvn -B -q -o -pl benchmarks -am package -DskipTests" >&2; exit 2; }
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
for spec in "shadow 0" "shadow 1024" "shadow 256" "tdp 0" "tdp 1024"; do
    read -r mmu churn <<<"$spec"
    java -Xmx3g -cp "$jar" org.shadowbox.bench.SmpMmuProbe 3 16 "$mmu" 1024 3 "$churn" | sed -n '/^shadow,\|^tdp,/,$p'
    echo
done
java -Xmx3g -Dshadowbox.lockstat=true -cp "$jar" org.shadowbox.bench.SmpMmuProbe 3 16 shadow 1024 3 1024 | sed -n '/^shadow,/,$p'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
