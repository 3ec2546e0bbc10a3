package org.shadowbox.vm.internal;

import static org.shadowbox.vm.internal.SlotMemory.PAGE_SHIFT;
import static org.shadowbox.vm.internal.SlotMemory.PAGE_SIZE;

import java.util.Arrays;

import org.shadowbox.vm.GuestMemory;

/**
 * Guest memory as one vCPU reaches it: {@code kvm_vcpu_gfn_to_memslot} with the vCPU's
 * {@code last_used_slot}, and {@code kvm_vcpu_read_guest} (what {@code FNAME(walk_addr)}'s
 * {@code __get_user} and {@code FNAME(gpte_changed)} do) through a small cache of the host pages
 * this vCPU read last, the part of a host page walk that the host's own TLB spares KVM.
 *
 * <p>Both caches are valid for one memslots generation only: the VM replaces its {@link
 * Memslots} whole on every slot create, move or delete, so the snapshot's identity is KVM's
 * {@code slots->generation}. A lookup that finds another snapshot than the one its entries were
 * filled from drops them all first ({@code last_used_slot_gen} in KVM), so no slot or page of an
 * older generation is ever used, whichever vCPU changed the slots. Only resident pages are cached
 * (a slot's page, once allocated, stays that slot memory's page for good; a move keeps the
 * memory but makes a new generation); a hole, a page never written and a read that crosses a
 * page go the VM's way ({@link GuestMemoryImpl}), which counts what it counts.
 *
 * <p>Confined to the thread that drives the vCPU (held under its {@code vcpu->mutex} claim, as
 * KVM's {@code vcpu->last_used_slot} is): plain fields. Writes are the VM's, unchanged.
 * Allocates nothing after construction.
 */
final class VcpuMemory implements GuestMemory {
    /** Host pages cached: direct-mapped by the gfn's low bits (a walk's four tables, the fault's page). */
    static final int PAGES = 16;

    private final VmImpl vm;
    /** The generation the entries below belong to (null: none yet). */
    private Memslots slots;
    /** {@code vcpu->last_used_slot}, or null. */
    private MemslotImpl lastUsedSlot;
    /** The gfn each cached page is, or -1. */
    private final long[] gfns = new long[PAGES];
    private final byte[][] pages = new byte[PAGES][];

    VcpuMemory(VmImpl vm) {
        this.vm = vm;
        Arrays.fill(gfns, -1);
    }

    /** The entries as of {@code now}: all dropped if they were filled from another generation. */
    private Memslots current() {
        Memslots now = vm.memslotsSnapshot();
        if (now != slots) {
            slots = now;
            lastUsedSlot = null;
            Arrays.fill(gfns, -1);
            Arrays.fill(pages, null);
        }
        return now;
    }

    /** {@code kvm_vcpu_gfn_to_memslot}: the slot holding {@code gfn} in the current generation, or null. */
    MemslotImpl gfnToMemslot(long gfn) {
        Memslots now = current();
        MemslotImpl s = lastUsedSlot;
        if (s != null && gfn >= s.baseGfn() && gfn - s.baseGfn() < s.npages()) {
            return s;
        }
        s = now.search(gfn);
        if (s != null) {
            lastUsedSlot = s;
        }
        return s;
    }

    /** The resident host page of {@code gfn} in the current generation, or null (a hole, or never written). */
    byte[] residentPage(long gfn) {
        current();
        int i = (int) gfn & (PAGES - 1);
        if (gfns[i] == gfn) {
            return pages[i];
        }
        MemslotImpl s = gfnToMemslot(gfn);
        if (s == null) {
            return null;
        }
        byte[] p = s.memory.pageIfPresent(gfn - s.baseGfn());
        if (p != null) {
            gfns[i] = gfn;
            pages[i] = p;
        }
        return p;
    }

    /** {@code kvm_vcpu_read_guest} of one value. */
    @Override
    public long read(long gpa, int size) {
        GuestMemoryImpl.checkSize(size);
        int off = (int) (gpa & (PAGE_SIZE - 1));
        if (off + size <= PAGE_SIZE) {
            byte[] p = residentPage(gpa >>> PAGE_SHIFT);
            if (p != null) {
                return SlotMemory.load(p, off, size);
            }
        }
        return vm.memoryImpl().load(gpa, size);
    }

    @Override
    public void write(long gpa, long value, int size) {
        vm.memoryImpl().write(gpa, value, size);
    }

    @Override
    public void read(long gpa, byte[] dst, int off, int len) {
        vm.memoryImpl().read(gpa, dst, off, len);
    }

    @Override
    public void write(long gpa, byte[] src, int off, int len) {
        vm.memoryImpl().write(gpa, src, off, len);
    }

    @Override
    public long residentPages() {
        return vm.memoryImpl().residentPages();
    }

    @Override
    public long mmioReads() {
        return vm.memoryImpl().mmioReads();
    }

    @Override
    public long mmioWritesDropped() {
        return vm.memoryImpl().mmioWritesDropped();
    }
}
