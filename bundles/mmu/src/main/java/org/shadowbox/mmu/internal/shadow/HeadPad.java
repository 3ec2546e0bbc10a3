package org.shadowbox.mmu.internal.shadow;

public class HeadPad {
    long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, pa, pb, pc, pd, pe, pf;
}
