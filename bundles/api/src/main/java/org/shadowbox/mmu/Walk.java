package org.shadowbox.mmu;

import java.util.List;

/**
 * What translating a gva meets: the guest's own tables, then the shadow (or TDP) tables.
 *
 * @param gva    the address
 * @param guest  the guest walk, top level first
 * @param shadow the hardware walk of the shadow or TDP tables, top level first
 * @param result one line: the gpa and host frame, or the fault
 */
public record Walk(long gva, List<Step> guest, List<Step> shadow, String result) {
    public Walk {
        guest = List.copyOf(guest);
        shadow = List.copyOf(shadow);
    }

    /**
     * One level.
     *
     * @param level   4 (top) to 1
     * @param address where the entry lives (a gpa for the guest, "sp id:index" style for sptes)
     * @param entry   the raw entry
     * @param decoded its bits by name ("P|RW|US|A -> 0x1234000")
     */
    public record Step(int level, String address, long entry, String decoded) {
    }
}
