package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;

/**
 * One long-lived process (a server) that builds its working set and then keeps touching it:
 * 250,000 x scale accesses, very few page-table writes after the warm-up.
 */
@Component(service = Scenario.class)
public final class Steady extends GuestScenario {
    static final Profile SERVER = new Profile(0, 40, 20, 30, 10, 48, 48, 384, 0, 0);

    @Override
    public String name() {
        return "steady";
    }

    @Override
    public String description() {
        return "one long-lived process with a stable working set: 250,000 x scale accesses, few table writes";
    }

    @Override
    public long defaultScale() {
        return 8;
    }

    @Override
    protected int size(long scale) {
        return units(1, scale, "scale");
    }

    /** At least its output page; at most the files' pages and the one server process. */
    @Override
    public GuestPages guestPages(long scale, int vcpus) {
        size(scale);
        return new GuestPages(1, 96 + 16 + 32 + 1 + PageBound.process(96, 16, 64, 16, SERVER.maxHeap(), 0, 32, true));
    }

    @Override
    protected long start(Kernel k, long scale, SplittableRandom rng) {
        long lifetime = 250_000L * size(scale);
        Profile p = new Profile(lifetime, SERVER.fetch(), SERVER.stack(), SERVER.heap(), SERVER.data(), SERVER.hotText(),
                SERVER.allocEvery(), SERVER.maxHeap(), 0, 0);
        Image img = new Image("server", k.createFile(96), 96, k.createFile(16), 16, 64, 16);
        k.spawn(img, new Worker(p, new int[] {k.createFile(32)}, k.createFile(1)));
        return 1;
    }
}
