package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * The reference: what a guest on bare metal sees. Every access walks the guest tables with
 * {@link GuestWalker} alone (no TLB, no shadow; a PAE PDPTE is read at walk time), piece by
 * piece when it crosses a page, and then reads or writes guest memory. The same {@link AccessResult} as the shadow MMU's.
 */
final class BareMetal {
    private final GuestWalk w = new GuestWalk();
    private final long[] gpa = new long[2];

    AccessResult access(Vcpu vcpu, long gva, long value, int size, int acc, AccessResult out) {
        out.reset();
        GuestMemory mem = vcpu.vm().memory();
        PagingMode mode = PagingMode.of(vcpu.get(Register.CR0), vcpu.get(Register.CR4), vcpu.get(Register.EFER));
        gva = linear(mode, gva);
        int first = 4096 - (int) (gva & 4095);
        int pieces = size <= first ? 1 : 2;
        long[] pieceGva = {gva, linear(mode, gva + first)}; // 32-bit linear addresses wrap at 4 GiB
        int[] len = {Math.min(size, first), size - first};
        for (int p = 0; p < pieces; p++) {
            if (mode != null && (!mode.canonical(pieceGva[p]) || !mode.canonical(pieceGva[p] + len[p] - 1))) {
                out.exception = GuestWalk.GENERAL_PROTECTION;
                return out;
            }
        }
        for (int p = 0; p < pieces; p++) {
            if (!GuestWalker.walk(w, vcpu, pieceGva[p], acc, true)) {
                out.exception = w.exception;
                out.errorCode = w.errorCode;
                vcpu.set(Register.CR2, pieceGva[p]);
                return out;
            }
            gpa[p] = w.gpa;
        }
        out.gpa = gpa[0];
        if ((acc & Pfec.WRITE) != 0) {
            long v = value;
            for (int p = 0; p < pieces; p++) {
                for (int i = 0; i < len[p]; i++) {
                    mem.write(gpa[p] + i, v & 0xff, 1);
                    v >>>= 8;
                }
            }
            out.value = size == 8 ? value : value & ((1L << (8 * size)) - 1);
            return out;
        }
        long v = 0;
        int shift = 0;
        for (int p = 0; p < pieces; p++) {
            for (int i = 0; i < len[p]; i++) {
                v |= mem.read(gpa[p] + i, 1) << shift;
                shift += 8;
            }
        }
        out.value = v;
        return out;
    }

    /** The linear address: a 32-bit mode's (and paging off's: no long mode without CR0.PG) is 32 bits. */
    private static long linear(PagingMode mode, long gva) {
        return mode == null ? gva & 0xffff_ffffL : mode.truncate(gva);
    }
}
