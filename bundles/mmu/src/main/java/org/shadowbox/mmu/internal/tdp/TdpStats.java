package org.shadowbox.mmu.internal.tdp;

import java.util.LinkedHashMap;
import java.util.Map;

import org.shadowbox.mmu.internal.shadow.ExitMeter;

/**
 * The TDP MMU's counters, by KVM's names where KVM has one ({@code kvm_vcpu_stat},
 * {@code kvm_vm_stat}). Plain {@code long}s: the VM's instance changes under its MMU lock,
 * each vCPU's only on its own thread; {@link TdpMmu#stats()} sums them.
 */
public final class TdpStats implements ExitMeter.Counters<TdpStats> {
    /** vcpu pf_taken: TDP violations, i.e. exits to the TDP fault handler. */
    public long pfTaken;
    /** vcpu pf_fixed: violations fixed by installing or upgrading a TDP entry. */
    public long pfFixed;
    /**
     * vcpu pf_emulate: violations on guest RAM that ended in emulating the access (MMIO is {@link
     * #pfMmio}: the two are disjoint, as under shadow paging).
     */
    public long pfEmulate;
    /** Of those, the ones page_fault_handle_page_track sent to emulation at once. */
    public long pfEmulateTracked;
    /** Violations on a gpa in no memslot, or writes to a read-only slot: emulated as MMIO. */
    public long pfMmio;
    /** vcpu pf_spurious: the entry was already fixed by another vCPU when the handler looked. */
    public long pfSpurious;
    /** Guest page faults, delivered by the hardware without an exit (not seen by KVM; counted here). */
    public long guestPf;
    /** Guest INVLPG, executed without an exit (EPT does not intercept it). */
    public long invlpg;
    /** vcpu tlb_flush: local flushes of a vCPU's TLB. */
    public long tlbFlush;
    /** TLB lookups that hit and were allowed. */
    public long tlbHit;
    /** TLB lookups that missed: a guest walk and a TDP walk by the hardware. */
    public long tlbMiss;
    /** vm remote_tlb_flush: {@code kvm_flush_remote_tlbs}. */
    public long remoteTlbFlush;
    /** vm mmu_cache_miss: TDP table pages allocated. */
    public long mmuCacheMiss;
    /** vm mmu_shadow_zapped: TDP table pages freed by a zap. */
    public long mmuShadowZapped;
    /** vm lpages: large (2 MiB and 1 GiB) TDP leaves installed now. */
    public long lpages;
    /** {@code kvm_mmu_slot_gfn_write_protect} calls that changed a TDP entry. */
    public long gfnWriteProtect;
    /** MMU lock acquisitions by the fault handler (the page-track fast path takes none). */
    public long mmuLockFault;
    /**
     * vcpu exits: VM exits the vCPU took. Under TDP only a violation exits (CR3 loads and INVLPG
     * do not), so this equals {@link #pfTaken}; the cost model charges it by the name the shadow
     * MMU uses.
     */
    public long exits;
    /**
     * TDP entries the fault handler walked in software ({@code __direct_map}'s {@code
     * for_each_shadow_entry}: the TDP table is KVM's direct shadow pages, hence the shadow MMU's
     * name).
     */
    public long shadowWalkSteps;
    /**
     * Entries the processor's walk read to refill the TLB: the guest's own entries, then the TDP
     * entries of the gpa (the translations of the guest's table pages are taken as held by the
     * paging-structure caches).
     */
    public long tlbWalkSteps;
    /**
     * Writes done by the emulator ({@code emulator_write_phys} calls), each delivered to every
     * page-track notifier.
     */
    public long emulatedWrites;
    /**
     * {@code kvm_page_track_is_active} calls by the fault handler: what the page-track series
     * added to the TDP path ({@code page_fault_handle_page_track}, {@code
     * mmu_need_write_protect}); none under policy=legacy.
     */
    public long pageTrackLookups;
    /** {@code host_mapping_level} calls of the fault path (the sandbox has no {@code find_vma}; the call is charged). */
    public long hostMappingLevels;
    /** gfn to pfn translations ({@code try_async_pf}: memslot lookup, hva, {@code get_user_pages_fast}). */
    public long gfnToPfn;
    /** {@code mmu_notifier_retry} and {@code make_mmu_pages_available} under the MMU lock. */
    public long faultChecks;
    /** Exits this vCPU took for a remote-flush IPI that found it in guest mode. */
    public long ipiExits;
    /** Remote flushes that sent at least one IPI. */
    public long remoteFlushIpis;
    /** TLB-flush requests posted by remote flushes, one per vCPU. */
    public long remoteFlushRequests;

    /** Adds {@code o}'s counters to these. */
    @Override
    public void add(TdpStats o) {
        addScaled(o, 1);
    }

    /**
     * Adds {@code k} times {@code o}'s counters to these: -1 subtracts (the work between two
     * snapshots), and {@code a.addScaled(a, -1)} clears {@code a}. Allocates nothing.
     */
    @Override
    public void addScaled(TdpStats o, long k) {
        pfTaken += k * o.pfTaken;
        pfFixed += k * o.pfFixed;
        pfEmulate += k * o.pfEmulate;
        pfEmulateTracked += k * o.pfEmulateTracked;
        pfMmio += k * o.pfMmio;
        pfSpurious += k * o.pfSpurious;
        guestPf += k * o.guestPf;
        invlpg += k * o.invlpg;
        tlbFlush += k * o.tlbFlush;
        tlbHit += k * o.tlbHit;
        tlbMiss += k * o.tlbMiss;
        remoteTlbFlush += k * o.remoteTlbFlush;
        mmuCacheMiss += k * o.mmuCacheMiss;
        mmuShadowZapped += k * o.mmuShadowZapped;
        lpages += k * o.lpages;
        gfnWriteProtect += k * o.gfnWriteProtect;
        mmuLockFault += k * o.mmuLockFault;
        exits += k * o.exits;
        shadowWalkSteps += k * o.shadowWalkSteps;
        tlbWalkSteps += k * o.tlbWalkSteps;
        emulatedWrites += k * o.emulatedWrites;
        pageTrackLookups += k * o.pageTrackLookups;
        hostMappingLevels += k * o.hostMappingLevels;
        gfnToPfn += k * o.gfnToPfn;
        faultChecks += k * o.faultChecks;
        ipiExits += k * o.ipiExits;
        remoteFlushIpis += k * o.remoteFlushIpis;
        remoteFlushRequests += k * o.remoteFlushRequests;
    }

    /** A new instance with the same counts. */
    @Override
    public TdpStats copy() {
        TdpStats c = new TdpStats();
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
        m.put("pf_taken", pfTaken);
        m.put("pf_fixed", pfFixed);
        m.put("pf_emulate", pfEmulate);
        m.put("pf_emulate_tracked", pfEmulateTracked);
        m.put("pf_mmio", pfMmio);
        m.put("pf_spurious", pfSpurious);
        m.put("guest_pf", guestPf);
        m.put("invlpg", invlpg);
        m.put("tlb_flush", tlbFlush);
        m.put("tlb_hit", tlbHit);
        m.put("tlb_miss", tlbMiss);
        m.put("remote_tlb_flush", remoteTlbFlush);
        m.put("mmu_cache_miss", mmuCacheMiss);
        m.put("mmu_shadow_zapped", mmuShadowZapped);
        m.put("lpages", lpages);
        m.put("gfn_write_protect", gfnWriteProtect);
        m.put("mmu_lock_fault", mmuLockFault);
        m.put("exits", exits);
        m.put("shadow_walk_steps", shadowWalkSteps);
        m.put("tlb_walk_steps", tlbWalkSteps);
        m.put("emulated_writes", emulatedWrites);
        m.put("page_track_lookups", pageTrackLookups);
        m.put("host_mapping_level", hostMappingLevels);
        m.put("gfn_to_pfn", gfnToPfn);
        m.put("fault_lock_checks", faultChecks);
        m.put("ipi_exits", ipiExits);
        m.put("remote_flush_ipis", remoteFlushIpis);
        m.put("remote_flush_requests", remoteFlushRequests);
        return m;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
