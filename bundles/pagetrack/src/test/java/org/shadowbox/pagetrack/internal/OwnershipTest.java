package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/** Every add belongs to its owner; an owner removes only its own; a release gives everything back. */
class OwnershipTest {
    private final Rig rig = new Rig();
    private final Vm vm = rig.pc("o");
    private final Vm vm2 = rig.pc("o2");
    private final OwnerTrack alice = rig.core.forOwner("alice");
    private final OwnerTrack bob = rig.core.forOwner("bob");

    @Test
    void anOwnerCannotRemoveAnotherOwnersTrack() {
        alice.add(vm, 0x500, WRITE);
        VmException e = assertThrows(VmException.class, () -> bob.remove(vm, 0x500, WRITE));
        assertEquals("owner bob holds no write track of gfn 0x500 in VM o: an owner removes only what it added",
                e.getMessage());
        assertEquals(1, alice.count(vm, 0x500, WRITE), "nothing changed");
        assertEquals(List.of(new TrackedPage(0x500, WRITE, 1, Map.of("alice", 1))), bob.tracked(vm));
    }

    /**
     * Issue 14: owners are bundles (id and location), never names. Two owners of one symbolic
     * name hold their own tracks: the holders list them apart, neither removes the other's, and
     * releasing one leaves the other's. Only the display map adds them up by name.
     */
    @Test
    void twoOwnersOfOneNameAreTwoOwners() {
        Owner first = new Owner(7, "file:/deploy/twin-1.jar", "com.example.twin");
        Owner second = new Owner(8, "file:/deploy/twin-2.jar", "com.example.twin");
        OwnerTrack one = rig.core.forOwner(first, TrackerRole.EXTERNAL);
        OwnerTrack two = rig.core.forOwner(second, TrackerRole.EXTERNAL);
        one.add(vm, 0x500, WRITE);
        two.add(vm, 0x500, WRITE);
        two.add(vm, 0x500, WRITE);
        TrackedPage page = one.tracked(vm).get(0);
        assertEquals(Map.of("com.example.twin", 3), page.owners());
        assertEquals(List.of(new TrackedPage.Holder(first, 1), new TrackedPage.Holder(second, 2)), page.holders());
        assertEquals(2, page.countOf(second));
        assertEquals(second, two.ownerBundle());
        assertEquals("com.example.twin", two.owner());

        assertTrue(one.remove(vm, 0x500, WRITE));
        VmException e = assertThrows(VmException.class, () -> one.remove(vm, 0x500, WRITE));
        assertEquals("owner com.example.twin [7] holds no write track of gfn 0x500 in VM o: an owner removes only"
                + " what it added", e.getMessage(), "the second owner's tracks are not the first's");
        one.release();
        assertEquals(List.of(new TrackedPage.Holder(second, 2)), two.tracked(vm).get(0).holders());
        assertEquals(2, two.count(vm, 0x500, WRITE));
    }

    /** A record built with the 2.0 constructor (no holders) reads each name as one owner of unknown id. */
    @Test
    void theCompatibilityConstructorKeepsOldCallersWorking() {
        TrackedPage old = new TrackedPage(0x10, WRITE, 3, Map.of("b", 2, "a", 1));
        assertEquals(List.of(new TrackedPage.Holder(new Owner(-1, "", "a"), 1),
                new TrackedPage.Holder(new Owner(-1, "", "b"), 2)), old.holders());
        assertEquals(old, new TrackedPage(0x10, WRITE, 3, Map.of("a", 1, "b", 2)));
    }

    @Test
    void trackedShowsCountsPerOwnerSortedByGfn() {
        alice.add(vm, 0x900, WRITE);
        bob.add(vm, 0x900, WRITE);
        bob.add(vm, 0x900, WRITE);
        bob.add(vm, 0x10, WRITE);
        alice.add(vm2, 0x10, WRITE);
        assertEquals(List.of(new TrackedPage(0x10, WRITE, 1, Map.of("bob", 1)),
                new TrackedPage(0x900, WRITE, 3, Map.of("alice", 1, "bob", 2))), alice.tracked(vm));
        assertEquals(List.of(new TrackedPage(0x10, WRITE, 1, Map.of("alice", 1))), bob.tracked(vm2));
    }

    @Test
    void releasingAnOwnerRemovesAllItsTracksAndOnlyThose() {
        long[] gfns = {0x10, 0x11, 0x200, 0x201, 0x3fff};
        int[][] lpageBefore = lpage(vm, gfns);
        bob.add(vm, 0x200, WRITE);
        for (long g : gfns) {
            alice.add(vm, g, WRITE);
            alice.add(vm, g, WRITE);
        }
        alice.add(vm2, 0x200, WRITE);
        alice.release();
        for (long g : gfns) {
            assertEquals(g == 0x200 ? 1 : 0, bob.count(vm, g, WRITE), "count of 0x" + Long.toHexString(g));
        }
        assertEquals(0, bob.count(vm2, 0x200, WRITE), "released in every VM");
        bob.remove(vm, 0x200, WRITE);
        assertArrayEquals(lpageBefore, lpage(vm, gfns), "lpage counts back to before");
        assertTrue(alice.released());
        VmException e = assertThrows(VmException.class, () -> alice.add(vm, 0x10, WRITE));
        assertTrue(e.getMessage().startsWith("page track of owner alice was released"), e.getMessage());
        assertEquals(0, bob.count(vm, 0x10, WRITE), "the refused add changed nothing");
        alice.release(); // idempotent
        assertFalse(bob.released());
    }

    @Test
    void aFreshInstanceOfTheSameNameIsANewOwner() {
        alice.add(vm, 0x20, WRITE);
        OwnerTrack again = rig.core.forOwner("alice");
        alice.release();
        assertEquals(0, again.count(vm, 0x20, WRITE));
        assertThrows(VmException.class, () -> again.remove(vm, 0x20, WRITE));
    }

    @Test
    void theMmuRoleComesFromTheManifestHeader() {
        assertEquals(TrackerRole.MMU, TrackerRole.ofHeader("mmu"));
        assertEquals(TrackerRole.MMU, TrackerRole.ofHeader(" MMU "));
        assertEquals(TrackerRole.EXTERNAL, TrackerRole.ofHeader(null));
        assertEquals(TrackerRole.EXTERNAL, TrackerRole.ofHeader("kvmgt"));
        assertEquals(TrackerRole.EXTERNAL, alice.role());
        assertThrows(VmException.class, () -> rig.core.forOwner(" "));
    }

    private static int[][] lpage(Vm vm, long[] gfns) {
        int[][] out = new int[gfns.length][];
        for (int i = 0; i < gfns.length; i++) {
            Memslot s = vm.slotForGfn(gfns[i]);
            out[i] = new int[] {s.lpageDisallowCount(gfns[i], Memslot.LEVEL_2M),
                s.lpageDisallowCount(gfns[i], Memslot.LEVEL_1G)};
        }
        return out;
    }
}
