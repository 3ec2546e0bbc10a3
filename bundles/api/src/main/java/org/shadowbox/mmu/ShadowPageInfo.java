package org.shadowbox.mmu;

/**
 * One shadow page ({@code struct kvm_mmu_page}) as {@code mmu:pages} shows it.
 *
 * @param id                 the MMU's page id
 * @param gfn                the guest frame it shadows (indirect) or maps from (direct)
 * @param level              1 (PTE) to 4 (PML4)
 * @param role               KVM's role bits, decoded ("l2 pae q0 acc=7 nxe wp ...")
 * @param direct             no guest table behind it
 * @param unsync             out of sync with its guest table
 * @param writeFloodingCount emulated writes since the page was last used
 * @param parents            sptes pointing at it
 * @param rootCount          vCPUs using it as their root
 */
public record ShadowPageInfo(int id, long gfn, int level, String role, boolean direct, boolean unsync,
        int writeFloodingCount, int parents, int rootCount) {
}
