package org.shadowbox.mmu.spi;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * One VM's shadow MMU as {@code kvm_mmu_pte_write} uses it, for the writing vCPU, valid only
 * during {@link PteWriteHandler#pteWrite} and with the MMU lock held throughout. Shadow pages
 * are named by their MMU ids ({@code int}, never 0); sptes are {@code long}s. Nothing here
 * allocates.
 *
 * <p>Iterate with {@link #firstIndirectPage} and {@link #nextIndirectPage}
 * ({@code for_each_gfn_indirect_valid_sp}); a page zapped with {@link #prepareZap} during the
 * iteration stays in the hash until {@link #commitZap}, so commit only after the loop.
 */
@ProviderType
public interface PteWriteContext {

    Vm vm();

    /** The writing vCPU. */
    int vcpuId();

    /** {@code is_pae(vcpu)}: the writing vCPU's CR4.PAE (set in PAE and 64-bit paging). */
    boolean vcpuPae();

    /**
     * Page faults of the writing vCPU that were fixed or given to the guest, not emulated: what
     * Xen's early unshadow calls "another fault in between".
     */
    long vcpuFaultsNotEmulated();

    /** {@code kvm->arch.indirect_shadow_pages}. */
    int indirectShadowPages();

    /** The first valid indirect shadow page of {@code gfn}, or 0. Walks the gfn's hash chain (counted). */
    int firstIndirectPage(long gfn);

    /** The next valid indirect shadow page of the same gfn after {@code sp}, or 0. */
    int nextIndirectPage(int sp);

    /** {@code sp->role.level}: 1 (PTE) to 4. */
    int level(int sp);

    /** {@code sp->role.cr4_pae}: the page shadows 8-byte gptes (false: a 32-bit guest's 4-byte gptes). */
    boolean cr4Pae(int sp);

    /** {@code sp->role.quadrant}: which part of a 32-bit guest table the page shadows (0 to 3). */
    int quadrant(int sp);

    /** {@code sp->role.direct}. */
    boolean direct(int sp);

    /**
     * {@code !((sp->role.word ^ vcpu->arch.mmu.base_role.word) & mask.word)} with KVM's mask of
     * cr0_wp, cr4_pae, nxe, smep_andnot_wp, smap_andnot_wp and smm: a spte may be built from the
     * new gpte for this vCPU.
     */
    boolean roleMatchesVcpu(int sp);

    /** {@code sp->write_flooding_count}. */
    int writeFloodingCount(int sp);

    /** {@code ++sp->write_flooding_count}; returns the new count. */
    int incrementWriteFloodingCount(int sp);

    /** {@code sp->write_flooding_count = 0}. */
    void clearWriteFloodingCount(int sp);

    /**
     * {@code kvm_mmu_prepare_zap_page}.
     *
     * @return true if pages went to the invalid list (a commit will flush)
     */
    boolean prepareZap(int sp);

    /** {@code kvm_mmu_commit_zap_page}: a remote TLB flush if anything is on the invalid list, then the pages are freed. */
    void commitZap();

    /** {@code sp->spt[index]}. */
    long spte(int sp, int index);

    /** {@code mmu_page_zap_pte}: drops a leaf or unlinks a child table; true if the spte was present. */
    boolean zapPte(int sp, int index);

    /**
     * {@code FNAME(update_pte)}: builds a leaf spte in entry {@code index} of level-1 page
     * {@code sp} from {@code gpte}, by the MMU's own {@code set_spte} rules (an invalid gpte, or
     * one naming no memory, installs nothing). A writing vCPU with paging off installs nothing
     * either ({@code nonpaging_update_pte}).
     */
    void updatePte(int sp, int index, long gpte);

    /**
     * {@code need_remote_flush(old, new)}: {@code old} was present and {@code now} is not
     * present, maps another frame, or grants fewer rights.
     */
    boolean needRemoteFlush(long old, long now);

    /** {@code kvm_flush_remote_tlbs}: every vCPU flushes before it next runs. */
    void flushRemoteTlbs();

    /** {@code kvm_mmu_flush_tlb(vcpu)}: the writing vCPU flushes before it next runs. */
    void flushLocalTlb();

    /** {@code kvm_vcpu_read_guest_atomic}: {@code bytes} (1, 2, 4 or 8) of guest memory at {@code gpa}. */
    long readGuest(long gpa, int bytes);
}
