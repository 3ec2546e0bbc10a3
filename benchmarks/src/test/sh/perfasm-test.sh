#!/usr/bin/env bash
# bench/perfasm.sh's summaries from a small perfasm output of known shares (--summary: nothing
# is run, no perf or disassembler needed): the hottest instructions with their Java frames, and
# the locked instructions by kind and site, each with the next instruction's share (the clock's
# skid); and its one-line refusals.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/perfasm.txt" <<'OUT'
....[Hottest Region 1]..............................................................................
c2, level 4, org.shadowbox.mmu.internal.shadow.GuestAccess::translate, version 2, compile id 915

            0x00007f0000000100:   movl    $0x1,0x50(%r12,%rdx,8)
   0.02%    0x00007f0000000109:   lock addl $0x0,0xffffffffffffffc0(%rsp);*invokevirtual fullFence {reexecute=0 rethrow=0 return_oop=0}
                                                                      ; - java.lang.invoke.VarHandle::fullFence@3 (line 2215)
                                                                      ; - org.shadowbox.mmu.internal.shadow.VcpuMode::beginLockless@8 (line 66)
                                                                      ; - org.shadowbox.mmu.internal.shadow.GuestAccess::translate@164 (line 141)
   7.20%    0x00007f000000010f:   mov     $0x1,%edi
   1.50%    0x00007f0000000114:   mov     0xc(%r12,%r10,8),%r13d      ;*getfield spt {reexecute=0 rethrow=0 return_oop=0}
                                                                      ; - org.shadowbox.mmu.internal.shadow.GuestAccess::hardwareWalk@28 (line 222)
            0x00007f0000000119:   lock cmpxchg %r9d,(%r8)
   2.00%    0x00007f000000011e:   sete    %bpl
....................................................................................................
  10.72%  <total for region 1>

....[Hottest Region 2]..............................................................................
c2, level 4, org.shadowbox.mmu.internal.shadow.GuestAccess::hardwareWalk, version 2, compile id 866

            0x00007f0000000200:   mov     %rdi,0xfffffffffffffff8(%r10,%r11)
                                                                      ;*aastore {reexecute=0 rethrow=0 return_oop=0}
                                                                      ; - org.shadowbox.mmu.internal.shadow.Tlb::fill@238 (line 102)
            0x00007f0000000205:   lock addl $0x0,0xffffffffffffffc0(%rsp)
   1.80%    0x00007f000000020b:   cmpb    $0x0,(%rdi)
            0x00007f000000020e:   jne     0x7f0000000300              ;*goto {reexecute=0 rethrow=0 return_oop=0}
                                                                      ; - org.shadowbox.mmu.internal.shadow.Tlb::fill@139 (line 84)
....................................................................................................
   1.80%  <total for region 2>

....[Hottest Regions]...............................................................................
OUT
out=$(bash "$root/bench/perfasm.sh" --summary "$dir/perfasm.txt")
test_name=perfasm-test
# shellcheck source=expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
expect "   7.20%  mov     \$0x1,%edi"
expect "mmu.internal.shadow.VcpuMode::beginLockless@8 line 66"
expect "   1.50%  mov     0xc(%r12,%r10,8),%r13d"
expect "   7.22%  fullFence in mmu.internal.shadow.VcpuMode::beginLockless@8 line 66"
expect "   2.00%  CAS in mmu.internal.shadow.GuestAccess::hardwareWalk@28 line 222"
expect "   1.80%  G1 write barrier's fence, near mmu.internal.shadow.Tlb::fill@139 line 84"
expect "  11.02%  in all"
# shellcheck source=refused.sh
source "$(dirname "${BASH_SOURCE[0]}")/refused.sh"
refused perfasm-test "unknown option '--fast': accepted --install, --check, --summary FILE, or a benchmark regex" bash "$root/bench/perfasm.sh" --fast
refused perfasm-test "--summary needs a perfasm output file, got '$dir/none'" bash "$root/bench/perfasm.sh" --summary "$dir/none"
printf 'no regions here\n' > "$dir/empty.txt"
refused perfasm-test "no perfasm regions in $dir/empty.txt" bash "$root/bench/perfasm.sh" --summary "$dir/empty.txt"
if [[ $fail != 0 ]]; then
    printf '%s\n' "$out" >&2
    exit 1
fi
echo "perfasm-test: ok (hottest instructions, locked instructions by site, refusals)"
