package ${package}.internal;

import java.util.concurrent.atomic.LongAdder;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * The notifier: counts the guest's writes to one page. Page track calls every notifier of a VM
 * for every write to any tracked page (as KVM's kvm_page_track_write() walks its notifier
 * list), so a notifier checks that the page is its own.
 *
 * <p>Called on the writing vCPU's thread, concurrently from different vCPUs, after guest
 * memory holds the bytes: keep it short and thread-safe.
 */
public final class WriteCounter implements PageTrackNotifier {
    static final int PAGE_SHIFT = 12;

    private final long gfn;
    private final LongAdder writes = new LongAdder();
    private volatile boolean slotRemoved;

    public WriteCounter(long gfn) {
        this.gfn = gfn;
    }

    /** The guest frame number this counter watches. */
    public long gfn() {
        return gfn;
    }

    /** The writes to {@link #gfn()} seen so far. */
    public long writes() {
        return writes.sum();
    }

    /** Whether the memslot holding {@link #gfn()} has been deleted since this counter started. */
    public boolean slotRemoved() {
        return slotRemoved;
    }

    /** Models a track_write callback (KVM: kvm_page_track_notifier_node.track_write). */
    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        if ((gpa >>> PAGE_SHIFT) == gfn) {
            writes.increment();
        }
    }

    /** Models track_remove_region: the slot holding [first, first + npages) was deleted. */
    @Override
    public void trackRemoveRegion(Vm vm, long first, long npages) {
        if (gfn >= first && gfn - first < npages) {
            slotRemoved = true;
        }
    }
}
