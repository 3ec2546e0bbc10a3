package org.shadowbox.writeflood.internal;

import java.util.Arrays;

import org.shadowbox.mmu.spi.PteWriteContext;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.vm.Vm;

/**
 * {@code kvm_mmu_pte_write} (arch/x86/kvm/mmu.c, 2016, with the 2018 fix), step by step, and
 * the policies around it. Called by the MMU with the VM's MMU lock held (see package
 * {@code org.shadowbox.mmu.spi}); allocates nothing per write once the VM's state exists.
 * <ol>
 * <li>Return at once if the VM has no indirect shadow page.
 * <li>A 4-byte write from a vCPU with CR4.PAE is widened to its aligned 8-byte gpte; the gpte
 *     is then read from guest memory, under the MMU lock (2018: the notifier's bytes may be
 *     older than memory when two vCPUs write one gpte); sizes other than 4 and 8 give 0.
 * <li>For each indirect shadow page of the gfn: a misaligned write, or a flood (not at level
 *     1: the write count since the page was last used reaches the threshold), zaps the page;
 *     otherwise each written spte is zapped and, for a non-zero gpte and a page whose role
 *     matches the vCPU's on the masked bits, a leaf is rebuilt from the gpte, a non-leaf only
 *     counted as zapped.
 * <li>Flush: a zapped page flushes at the commit; else remote TLBs if an spte lost its frame
 *     or rights; else the writing vCPU's TLB if any spte was written.
 * </ol>
 * The Xen policy first applies Xen's early unshadow; the zap policy zaps every page.
 */
final class PteWrite implements PteWriteHandler {
    private final Object lock = new Object();
    private volatile VmFlood[] byVmId = new VmFlood[0];
    private volatile Settings settings = Settings.DEFAULT;

    Settings settings() {
        return settings;
    }

    void settings(Settings s) {
        settings = s;
    }

    /** The VM's state, made at its first write or first look. Lock-free once it exists. */
    VmFlood flood(Vm vm) {
        VmFlood[] a = byVmId;
        int id = vm.id();
        VmFlood f = id >= 0 && id < a.length ? a[id] : null;
        if (f != null && f.vm == vm) {
            return f;
        }
        synchronized (lock) {
            a = byVmId;
            f = id < a.length ? a[id] : null;
            if (f == null || f.vm != vm) {
                f = new VmFlood(vm);
                VmFlood[] b = Arrays.copyOf(a, Math.max(a.length, id + 1));
                b[id] = f;
                byVmId = b;
            }
            return f;
        }
    }

    @Override
    public void pteWrite(PteWriteContext ctx, long gpa, long value, int bytes) {
        if (ctx.indirectShadowPages() == 0) {
            return;
        }
        VmFlood f = flood(ctx.vm());
        f.resolve(settings);
        FloodStats st = f.stats;
        long gfn = gpa >>> 12;
        boolean pae = ctx.vcpuPae();
        gpa = PteWriteRules.widenedGpa(pae, gpa, bytes);
        bytes = PteWriteRules.widenedBytes(pae, bytes);
        boolean sized = PteWriteRules.gpteSized(bytes);
        long gentry = sized ? ctx.readGuest(gpa, bytes) : 0;
        st.mmuPteWrite++;
        switch (f.policy) {
            case ZAP -> {
                st.zapWrites++;
                st.zapPages += zapAll(ctx, gfn);
                return;
            }
            case XEN -> {
                st.xenWrites++;
                if (sized && gentry == 0 && earlyUnshadow(ctx, f, gfn)) {
                    return;
                }
            }
            case KVM -> st.kvmWrites++;
        }
        kvmRules(ctx, f, gfn, gpa, bytes, gentry);
    }

    /**
     * Xen's {@code check_for_early_unshadow}: a second emulated write of zeros to the same page
     * table by the vCPU, with no other fault (fixed or given to the guest) in between, means the
     * guest is tearing the table down: unshadow it. Otherwise remember this write.
     *
     * @return true if the gfn was unshadowed
     */
    private static boolean earlyUnshadow(PteWriteContext ctx, VmFlood f, long gfn) {
        int v = ctx.vcpuId();
        long faults = ctx.vcpuFaultsNotEmulated();
        if (f.lastZeroGfn[v] == gfn && f.faultsAtLastZero[v] == faults) {
            f.lastZeroGfn[v] = -1;
            f.stats.xenEarlyUnshadow++;
            f.stats.xenUnshadowedPages += zapAll(ctx, gfn);
            return true;
        }
        f.lastZeroGfn[v] = gfn;
        f.faultsAtLastZero[v] = faults;
        return false;
    }

    /** Zaps every indirect shadow page of {@code gfn} and commits; returns how many. */
    private static int zapAll(PteWriteContext ctx, long gfn) {
        int n = 0;
        for (int sp = ctx.firstIndirectPage(gfn); sp != 0; sp = ctx.nextIndirectPage(sp)) {
            ctx.prepareZap(sp);
            n++;
        }
        ctx.commitZap();
        return n;
    }

    /** Steps 3 and 4 of {@code kvm_mmu_pte_write}. */
    private static void kvmRules(PteWriteContext ctx, VmFlood f, long gfn, long gpa, int bytes, long gentry) {
        FloodStats st = f.stats;
        boolean zapPage = false;
        boolean remoteFlush = false;
        boolean localFlush = false;
        for (int sp = ctx.firstIndirectPage(gfn); sp != 0; sp = ctx.nextIndirectPage(sp)) {
            boolean spPae = ctx.cr4Pae(sp);
            boolean misaligned = PteWriteRules.misaligned(spPae, gpa, bytes);
            if (misaligned || detectWriteFlooding(ctx, sp, f.threshold)) {
                zapPage |= ctx.prepareZap(sp);
                st.mmuFlooded++;
                if (misaligned) {
                    st.misaligned++;
                }
                continue;
            }
            int level = ctx.level(sp);
            int index = PteWriteRules.writtenSpteIndex(spPae, level, ctx.quadrant(sp), gpa);
            if (index < 0) {
                continue;
            }
            localFlush = true;
            for (int n = PteWriteRules.writtenSpteCount(spPae, level); n > 0; n--, index++) {
                long entry = ctx.spte(sp, index);
                ctx.zapPte(sp, index);
                if (gentry != 0 && ctx.roleMatchesVcpu(sp)) {
                    if (level != 1) {
                        st.mmuPdeZapped++; // mmu_pte_write_new_pte: non-leaf entries are only zapped
                    } else {
                        st.mmuPteUpdated++;
                        ctx.updatePte(sp, index, gentry);
                    }
                }
                if (ctx.needRemoteFlush(entry, ctx.spte(sp, index))) {
                    remoteFlush = true;
                }
            }
        }
        // mmu_pte_write_flush_tlb, then kvm_mmu_commit_zap_page
        if (zapPage) {
            st.flushCommit++;
        } else if (remoteFlush) {
            st.flushRemote++;
            ctx.flushRemoteTlbs();
        } else if (localFlush) {
            st.flushLocal++;
            ctx.flushLocalTlb();
        }
        ctx.commitZap();
    }

    /**
     * {@code detect_write_flooding}: a level-1 page never floods (it can go unsync instead and
     * stop being write-protected); another page floods when this write brings its count, since
     * the page was last used, to the threshold.
     */
    static boolean detectWriteFlooding(PteWriteContext ctx, int sp, int threshold) {
        if (ctx.level(sp) == 1) {
            return false;
        }
        return ctx.incrementWriteFloodingCount(sp) >= threshold;
    }
}
