package org.shadowbox.mmu.internal.paging;

import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * The guest's page walk, as the processor does it: KVM's {@code FNAME(walk_addr_generic)}
 * with {@code permission_fault}. On success it sets the accessed bit of every entry used
 * and, for a write, the dirty bit of the leaf, writing guest memory host-side (as KVM's
 * {@code update_accessed_dirty_bits} does, so no page-track notifier hears of it).
 */
public final class GuestWalker {

    private GuestWalker() {
    }

    /**
     * Walks {@code gva} for an access described by {@code access} ({@link Pfec#WRITE},
     * {@link Pfec#USER}, {@link Pfec#FETCH}) with the vCPU's registers.
     *
     * @return {@code w.ok()}
     */
    public static boolean walk(GuestWalk w, Vcpu vcpu, long gva, int access, boolean setAccessedDirty) {
        return walk(w, vcpu, gva, access, setAccessedDirty, null);
    }

    /**
     * The same, with PAE's PDPTEs taken from {@code pdptrs} (the four values loaded at the last
     * CR3 write, KVM's {@code mmu->get_pdptr}) instead of guest memory; null reads memory.
     */
    public static boolean walk(GuestWalk w, Vcpu vcpu, long gva, int access, boolean setAccessedDirty,
            long[] pdptrs) {
        return walk(w, vcpu.vm().memory(), vcpu.vm().maxPhyAddr(), vcpu.get(Register.CR0), vcpu.get(Register.CR3),
                vcpu.get(Register.CR4), vcpu.get(Register.EFER), vcpu.get(Register.RFLAGS), gva, access,
                setAccessedDirty, pdptrs);
    }

    /**
     * The same, reading the guest's tables through {@code mem}: the vCPU's own view of guest
     * memory on its fault path ({@code kvm_vcpu_read_guest} through its last-used memslot).
     */
    public static boolean walk(GuestWalk w, Vcpu vcpu, GuestMemory mem, long gva, int access,
            boolean setAccessedDirty, long[] pdptrs) {
        return walk(w, mem, vcpu.vm().maxPhyAddr(), vcpu.get(Register.CR0), vcpu.get(Register.CR3),
                vcpu.get(Register.CR4), vcpu.get(Register.EFER), vcpu.get(Register.RFLAGS), gva, access,
                setAccessedDirty, pdptrs);
    }

    /** The same, with the registers given one by one. */
    public static boolean walk(GuestWalk w, GuestMemory mem, int maxPhyAddr, long cr0, long cr3, long cr4,
            long efer, long rflags, long gva, int access, boolean setAccessedDirty) {
        return walk(w, mem, maxPhyAddr, cr0, cr3, cr4, efer, rflags, gva, access, setAccessedDirty, null);
    }

    /** The same, with the registers given one by one and optionally the loaded PDPTEs. */
    public static boolean walk(GuestWalk w, GuestMemory mem, int maxPhyAddr, long cr0, long cr3, long cr4,
            long efer, long rflags, long gva, int access, boolean setAccessedDirty, long[] pdptrs) {
        w.gva = gva;
        w.exception = GuestWalk.OK;
        w.errorCode = 0;
        PagingMode mode = PagingMode.of(cr0, cr4, efer);
        if (mode == null) {
            w.gpa = gva & 0xffff_ffffL;
            w.level = 0;
            w.user = w.writable = true;
            w.nx = false;
            return true;
        }
        if (!mode.canonical(gva)) {
            w.exception = GuestWalk.GENERAL_PROTECTION;
            return false;
        }
        gva = mode.truncate(gva);
        boolean nxe = mode.hasNx() && (efer & Register.EFER_NXE) != 0;
        boolean user = true;
        boolean writable = true;
        boolean nx = false;
        long table = mode.rootTable(cr3);
        int size = mode.pteSize();
        int level = mode.rootLevel();
        long pte;
        while (true) {
            int index = mode.index(gva, level);
            long entry = table + (long) index * size;
            pte = pdptrs != null && mode == PagingMode.PAE && level == 3 ? pdptrs[index] : mem.read(entry, size);
            w.pteGpa[level] = entry;
            w.pte[level] = pte;
            w.level = level;
            if ((pte & Pte.P) == 0) {
                return fault(w, access, cr4, mode.pae(), nxe, 0);
            }
            boolean leaf = mode.isLeaf(pte, level, cr4);
            if (mode.reservedBitsSet(pte, level, leaf, maxPhyAddr, nxe) != 0) {
                return fault(w, access, cr4, mode.pae(), nxe, Pfec.PRESENT | Pfec.RSVD);
            }
            if (mode.hasRights(level)) {
                user &= (pte & Pte.US) != 0;
                writable &= (pte & Pte.RW) != 0;
                nx |= nxe && (pte & Pte.NX) != 0;
            }
            if (leaf) {
                break;
            }
            table = mode.tableAddress(pte, level);
            level--;
        }
        w.user = user;
        w.writable = writable;
        w.nx = nx;
        if (Rights.permissionFault(access, user, writable, nx, cr0, cr4, rflags)) {
            return fault(w, access, cr4, mode.pae(), nxe, Pfec.PRESENT);
        }
        w.gpa = mode.leafAddress(pte, level, gva);
        if (setAccessedDirty) {
            updateAccessedDirty(w, mem, mode, access);
        }
        return true;
    }

    private static boolean fault(GuestWalk w, int access, long cr4, boolean pae, boolean nxe, int bits) {
        int pfec = bits | (access & (Pfec.WRITE | Pfec.USER));
        // The I/D flag is reported only with SMEP, or with PAE-style paging and EFER.NXE.
        if ((access & Pfec.FETCH) != 0 && ((cr4 & Register.CR4_SMEP) != 0 || (pae && nxe))) {
            pfec |= Pfec.FETCH;
        }
        w.exception = GuestWalk.PAGE_FAULT;
        w.errorCode = pfec;
        return false;
    }

    /** {@code update_accessed_dirty_bits}: A on every entry walked, D on the leaf of a write. */
    private static void updateAccessedDirty(GuestWalk w, GuestMemory mem, PagingMode mode, int access) {
        int size = mode.pteSize();
        for (int level = mode.rootLevel(); level >= w.level; level--) {
            if (!mode.hasRights(level)) {
                continue; // a PAE PDPTE has no accessed bit
            }
            long pte = w.pte[level];
            long updated = pte | Pte.A;
            if (level == w.level && (access & Pfec.WRITE) != 0) {
                updated |= Pte.D;
            }
            if (updated != pte) {
                mem.write(w.pteGpa[level], updated, size);
                w.pte[level] = updated;
            }
        }
    }
}
