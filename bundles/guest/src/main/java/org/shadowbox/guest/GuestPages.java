package org.shadowbox.guest;

/**
 * What a {@link Scenario}'s guest kernel has allocated at once, in guest page frames (4 KiB),
 * beyond the guest kernel's own boot (its zero page and the direct map's tables): page-cache
 * pages, each process's anonymous pages and page tables. The runner checks it against the VM
 * before the guest boots ({@link ScenarioRunner#checkFits}).
 *
 * @param least frames every run allocates at some point, all at once: a guest with fewer usable
 *              frames certainly fails "guest out of memory", so the run is refused before boot
 * @param most  frames a run can have allocated at once at most, or {@link Long#MAX_VALUE} when
 *              not known; a run can make no other guest page resident (the guest's allocator
 *              hands out the most recently freed frame first, so a run never touches more
 *              distinct frames than its peak), which is what is checked against the budgets
 * @since 1.3
 */
public record GuestPages(long least, long most) {
    /** Nothing known: nothing is refused before the run. */
    public static final GuestPages UNKNOWN = new GuestPages(0, Long.MAX_VALUE);

    public GuestPages {
        if (least < 0 || most < least) {
            throw new IllegalArgumentException("bad guest pages: least " + least + ", most " + most
                    + "; accepted 0 <= least <= most");
        }
    }

    /** Whether {@link #most} is known. */
    public boolean bounded() {
        return most != Long.MAX_VALUE;
    }
}
