package org.shadowbox.mmu.internal.shadow;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The MMU's counters, by KVM's names ({@code struct kvm_vm_stat} and {@code kvm_vcpu_stat}).
 * Plain {@code long}s: the VM's counters change under its MMU lock, and each vCPU keeps
 * its own instance changed only by its own thread; {@link ShadowMmu#stats()} sums them.
 */
public final class MmuStats implements ExitMeter.Counters<MmuStats> {
    /** vcpu pf_fixed: faults fixed by installing an spte. */
    public long pfFixed;
    /** Faults that ended in emulating the access (page-track fast path or write protection). */
    public long pfEmulate;
    /** Faults reflected to the guest as its own #PF ({@code inject_page_fault}). */
    public long pfGuest;
    /** Faults on a gfn in no memslot, emulated as MMIO. */
    public long pfMmio;
    /** vcpu invlpg. */
    public long invlpg;
    /** vcpu tlb_flush: local flushes of the vCPU's TLB. */
    public long tlbFlush;
    /** TLB lookups that hit and were allowed. */
    public long tlbHit;
    /** TLB lookups that missed and walked the sptes. */
    public long tlbMiss;
    /** vm remote_tlb_flush: {@code kvm_flush_remote_tlbs}. */
    public long remoteTlbFlush;
    /** vm mmu_cache_miss: {@code kvm_mmu_get_page} created a page. */
    public long mmuCacheMiss;
    /** vm mmu_shadow_zapped: pages zapped. */
    public long mmuShadowZapped;
    /** vm mmu_unsync: pages out of sync now (KVM counts it up on unsync and down on resync or zap). */
    public long mmuUnsync;
    /** vm mmu_recycled: pages zapped to stay under the page limit. */
    public long mmuRecycled;
    /** Pages synced ({@code kvm_sync_page}). */
    public long mmuSyncPage;
    /** Emulated writes to shadowed gfns seen by the MMU's fallback notifier. */
    public long mmuPteWriteFallback;
    /** Shadow pages zapped by that fallback (every indirect page of the written gfn). */
    public long mmuPteWriteFallbackZapped;
    /** Emulated writes given to the bound pte-write handler (write-flood detection) instead of the fallback. */
    public long pteWriteHandled;
    /** Second deliveries of one emulated write (both the MMU's and the handler's notifier), ignored. */
    public long pteWriteDuplicates;
    /** {@code kvm_mmu_slot_gfn_write_protect} calls that changed an spte. */
    public long gfnWriteProtect;
    /** Shadow-page hash chain steps walked. */
    public long hashChainSteps;
    // The work the cost model (issue 5) charges, counted where it happens.
    /** vcpu exits: VM exits the vCPU took (#PF, CR3 write, INVLPG), each an exit/entry round trip. */
    public long exits;
    /** Guest page-table entries the fault handler's guest walk read ({@code FNAME(walk_addr)}). */
    public long guestWalkSteps;
    /** Shadow entries the hypervisor walked in software ({@code FNAME(fetch)}, the lockless flood-clearing walk). */
    public long shadowWalkSteps;
    /** Shadow entries the processor read to refill its TLB (the hardware walk on a TLB miss). */
    public long tlbWalkSteps;
    /** MMU lock acquisitions by the hypervisor outside the fault handler (CR3 and INVLPG exits, requests, pte writes); the fault handler's are {@link #mmuLockFault}. */
    public long mmuLock;
    /** Writes done by the emulator ({@code emulator_write_phys} calls), each delivered to every page-track notifier. */
    public long emulatedWrites;
    /** Leaf pages marked unsync ({@code kvm_unsync_page}; {@link #mmuUnsync} is how many are unsync now). */
    public long unsyncMarked;
    /** Shadow pages zapped while an emulated write to a page table was processed (flooded, misaligned, or the fallback's). */
    public long pteWriteZapped;
    // The work the two write-protection policies do differently (issue 5's cost model charges it).
    /** vcpu pf_taken: entries into the shadow page fault handler. */
    public long pfTaken;
    /** Faults emulated by page_fault_handle_page_track's fast return (no MMU lock, no mapping attempt). */
    public long pfEmulateTracked;
    /** Faults emulated after the full path: MMU lock, shadow fetch, a mapping attempt that ended read-only. */
    public long pfEmulateWp;
    /** MMU lock acquisitions by the fault handler. */
    public long mmuLockFault;
    /** Pte-write handler calls made by the emulator directly (legacy policy). */
    public long pteWriteEmulator;
    // The full fault path's steps and KVM's remote flush (issue 10), counted where they happen.
    /** {@code is_self_change_mapping}: the fault's guest walk compared with the faulting gfn (the full fault path only). */
    public long selfChangeChecks;
    /** {@code mapping_level}'s host side, {@code host_mapping_level}: the host page size behind the gfn ({@code find_vma} under {@code mmap_sem} in KVM; the sandbox has neither and charges the call). */
    public long hostMappingLevels;
    /** gfn to pfn translations ({@code try_async_pf} / {@code __gfn_to_pfn_memslot}: memslot lookup, hva, {@code get_user_pages_fast}; the sandbox charges a memslot lookup and a host page translation). */
    public long gfnToPfn;
    /** Checks under the MMU lock before a fault maps anything: {@code mmu_notifier_retry} and {@code make_mmu_pages_available}'s free-page test. */
    public long faultChecks;
    /** Guest entries re-read and compared by {@code FNAME(fetch)} ({@code FNAME(gpte_changed)}), one per indirect level walked. */
    public long gpteRechecks;
    /** Exits this vCPU took for a remote-flush IPI that found it in guest mode (counted when it serves the flush, on its own clock). */
    public long ipiExits;
    /** Remote flushes that sent at least one IPI: the requester sends them together and waits for the slowest acknowledgement. */
    public long remoteFlushIpis;
    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)} posted by remote flushes, one per vCPU of the VM. */
    public long remoteFlushRequests;
    /** Shadow-page hash chain walks begun (lookups by gfn); {@link #hashChainSteps} over this is the mean chain walked. */
    public long hashLookups;

    /** Adds {@code o}'s counters to these. */
    @Override
    public void add(MmuStats o) {
        pfFixed += o.pfFixed;
        pfEmulate += o.pfEmulate;
        pfGuest += o.pfGuest;
        pfMmio += o.pfMmio;
        invlpg += o.invlpg;
        tlbFlush += o.tlbFlush;
        tlbHit += o.tlbHit;
        tlbMiss += o.tlbMiss;
        remoteTlbFlush += o.remoteTlbFlush;
        mmuCacheMiss += o.mmuCacheMiss;
        mmuShadowZapped += o.mmuShadowZapped;
        mmuUnsync += o.mmuUnsync;
        mmuRecycled += o.mmuRecycled;
        mmuSyncPage += o.mmuSyncPage;
        mmuPteWriteFallback += o.mmuPteWriteFallback;
        mmuPteWriteFallbackZapped += o.mmuPteWriteFallbackZapped;
        pteWriteHandled += o.pteWriteHandled;
        pteWriteDuplicates += o.pteWriteDuplicates;
        gfnWriteProtect += o.gfnWriteProtect;
        hashChainSteps += o.hashChainSteps;
        exits += o.exits;
        guestWalkSteps += o.guestWalkSteps;
        shadowWalkSteps += o.shadowWalkSteps;
        tlbWalkSteps += o.tlbWalkSteps;
        mmuLock += o.mmuLock;
        emulatedWrites += o.emulatedWrites;
        unsyncMarked += o.unsyncMarked;
        pteWriteZapped += o.pteWriteZapped;
        pfTaken += o.pfTaken;
        pfEmulateTracked += o.pfEmulateTracked;
        pfEmulateWp += o.pfEmulateWp;
        mmuLockFault += o.mmuLockFault;
        pteWriteEmulator += o.pteWriteEmulator;
        selfChangeChecks += o.selfChangeChecks;
        hostMappingLevels += o.hostMappingLevels;
        gfnToPfn += o.gfnToPfn;
        faultChecks += o.faultChecks;
        gpteRechecks += o.gpteRechecks;
        ipiExits += o.ipiExits;
        remoteFlushIpis += o.remoteFlushIpis;
        remoteFlushRequests += o.remoteFlushRequests;
        hashLookups += o.hashLookups;
    }

    /**
     * Adds {@code k} times {@code o}'s counters to these: -1 subtracts (the work between two
     * snapshots), and {@code a.addScaled(a, -1)} clears {@code a}. Allocates nothing.
     */
    @Override
    public void addScaled(MmuStats o, long k) {
        pfFixed += k * o.pfFixed;
        pfEmulate += k * o.pfEmulate;
        pfGuest += k * o.pfGuest;
        pfMmio += k * o.pfMmio;
        invlpg += k * o.invlpg;
        tlbFlush += k * o.tlbFlush;
        tlbHit += k * o.tlbHit;
        tlbMiss += k * o.tlbMiss;
        remoteTlbFlush += k * o.remoteTlbFlush;
        mmuCacheMiss += k * o.mmuCacheMiss;
        mmuShadowZapped += k * o.mmuShadowZapped;
        mmuUnsync += k * o.mmuUnsync;
        mmuRecycled += k * o.mmuRecycled;
        mmuSyncPage += k * o.mmuSyncPage;
        mmuPteWriteFallback += k * o.mmuPteWriteFallback;
        mmuPteWriteFallbackZapped += k * o.mmuPteWriteFallbackZapped;
        pteWriteHandled += k * o.pteWriteHandled;
        pteWriteDuplicates += k * o.pteWriteDuplicates;
        gfnWriteProtect += k * o.gfnWriteProtect;
        hashChainSteps += k * o.hashChainSteps;
        exits += k * o.exits;
        guestWalkSteps += k * o.guestWalkSteps;
        shadowWalkSteps += k * o.shadowWalkSteps;
        tlbWalkSteps += k * o.tlbWalkSteps;
        mmuLock += k * o.mmuLock;
        emulatedWrites += k * o.emulatedWrites;
        unsyncMarked += k * o.unsyncMarked;
        pteWriteZapped += k * o.pteWriteZapped;
        pfTaken += k * o.pfTaken;
        pfEmulateTracked += k * o.pfEmulateTracked;
        pfEmulateWp += k * o.pfEmulateWp;
        mmuLockFault += k * o.mmuLockFault;
        pteWriteEmulator += k * o.pteWriteEmulator;
        selfChangeChecks += k * o.selfChangeChecks;
        hostMappingLevels += k * o.hostMappingLevels;
        gfnToPfn += k * o.gfnToPfn;
        faultChecks += k * o.faultChecks;
        gpteRechecks += k * o.gpteRechecks;
        ipiExits += k * o.ipiExits;
        remoteFlushIpis += k * o.remoteFlushIpis;
        remoteFlushRequests += k * o.remoteFlushRequests;
        hashLookups += k * o.hashLookups;
    }

    /** A new instance with the same counts. */
    @Override
    public MmuStats copy() {
        MmuStats c = new MmuStats();
        c.add(this);
        return c;
    }

    /** {@link ExitMeter.Counters}: the processor's refill counters. */
    @Override
    public void setRefills(long misses, long walkSteps) {
        tlbMiss = misses;
        tlbWalkSteps = walkSteps;
    }

    /** Every counter by its KVM-style name, in a stable order. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pf_fixed", pfFixed);
        m.put("pf_emulate", pfEmulate);
        m.put("pf_guest", pfGuest);
        m.put("pf_mmio", pfMmio);
        m.put("invlpg", invlpg);
        m.put("tlb_flush", tlbFlush);
        m.put("tlb_hit", tlbHit);
        m.put("tlb_miss", tlbMiss);
        m.put("remote_tlb_flush", remoteTlbFlush);
        m.put("mmu_cache_miss", mmuCacheMiss);
        m.put("mmu_shadow_zapped", mmuShadowZapped);
        m.put("mmu_unsync", mmuUnsync);
        m.put("mmu_recycled", mmuRecycled);
        m.put("mmu_sync_page", mmuSyncPage);
        m.put("mmu_pte_write_fallback", mmuPteWriteFallback);
        m.put("mmu_pte_write_fallback_zapped", mmuPteWriteFallbackZapped);
        m.put("mmu_pte_write_handled", pteWriteHandled);
        m.put("mmu_pte_write_duplicates", pteWriteDuplicates);
        m.put("gfn_write_protect", gfnWriteProtect);
        m.put("hash_chain_steps", hashChainSteps);
        m.put("exits", exits);
        m.put("guest_walk_steps", guestWalkSteps);
        m.put("shadow_walk_steps", shadowWalkSteps);
        m.put("tlb_walk_steps", tlbWalkSteps);
        m.put("mmu_lock", mmuLock);
        m.put("emulated_writes", emulatedWrites);
        m.put("unsync_marked", unsyncMarked);
        m.put("mmu_pte_write_zapped", pteWriteZapped);
        m.put("pf_taken", pfTaken);
        m.put("pf_emulate_tracked", pfEmulateTracked);
        m.put("pf_emulate_wp", pfEmulateWp);
        m.put("mmu_lock_fault", mmuLockFault);
        m.put("pte_write_emulator", pteWriteEmulator);
        m.put("self_change_checks", selfChangeChecks);
        m.put("host_mapping_level", hostMappingLevels);
        m.put("gfn_to_pfn", gfnToPfn);
        m.put("fault_lock_checks", faultChecks);
        m.put("gpte_rechecks", gpteRechecks);
        m.put("ipi_exits", ipiExits);
        m.put("remote_flush_ipis", remoteFlushIpis);
        m.put("remote_flush_requests", remoteFlushRequests);
        m.put("hash_lookups", hashLookups);
        return m;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
