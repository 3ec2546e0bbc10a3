package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;

/**
 * A process with a populated heap forks 32 x scale children in quick succession (2 per vCPU
 * alive at once); each child writes and reads a few hundred times in the copied address space
 * (copy-on-write breaks) and exits without exec, while the parent keeps writing its heap.
 * Write-protection of whole address spaces and their teardown, over and over.
 */
@Component(service = Scenario.class)
public final class ForkStorm extends GuestScenario {
    static final int HEAP = 128;
    static final Profile PARENT = new Profile(0, 30, 15, 50, 5, 8, 1 << 30, HEAP, 0, 0);
    static final Profile CHILD = new Profile(600, 30, 20, 45, 5, 8, 1 << 30, HEAP, 0, 0);

    @Override
    public String name() {
        return "fork-storm";
    }

    @Override
    public String description() {
        return "a populated process forks 32 x scale short-lived children that write a little and exit without exec";
    }

    @Override
    public long defaultScale() {
        return 8;
    }

    @Override
    protected int size(long scale) {
        return units(32, scale, "children");
    }

    /**
     * At least the parent's heap, written whole before the first fork, with its pgd; at most the
     * files' pages and the parent with {@code 2 x vcpus} children, each with a copy of its
     * address space.
     */
    @Override
    public GuestPages guestPages(long scale, int vcpus) {
        size(scale);
        long sh = PageBound.process(32, 8, HEAP, 8, HEAP, 0, 0, false);
        return new GuestPages(HEAP + 1, 32 + 8 + (1 + 2L * vcpus) * sh);
    }

    @Override
    protected long start(Kernel k, long scale, SplittableRandom rng) {
        int children = size(scale);
        Image sh = new Image("sh", k.createFile(32), 32, k.createFile(8), 8, HEAP, 8);
        k.spawn(sh, new Spawner(2 * k.vcpus(), children, u -> new Worker(CHILD, new int[0], -1, false, HEAP), PARENT,
                200, HEAP));
        return children + 1L;
    }
}
