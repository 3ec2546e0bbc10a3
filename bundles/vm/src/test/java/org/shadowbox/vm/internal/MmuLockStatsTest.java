package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The diagnostic mode's long sections by site: a long section is counted against the method
 * that released the lock and its callers (the frames above {@code MmuSpinLock}'s own), and
 * {@link MmuLockStats#reset} forgets them. The recording is called directly here: the mode's
 * switches are read once per JVM, and this test must not depend on them.
 */
class MmuLockStatsTest {

    @Test
    void longSectionsAreSummedByTheSiteThatReleasedTheLock() {
        MmuLockStats.reset();
        releaser(25_000);
        releaser(35_000);
        otherReleaser(50_000);
        List<MmuLockStats.Site> sites = MmuLockStats.sites();
        assertEquals(2, sites.size(), () -> "sites: " + sites);
        MmuLockStats.Site first = sites.get(0); // the longest in all: two sections
        assertTrue(first.site().startsWith("MmuLockStatsTest.releaser < MmuLockStatsTest.longSectionsAreSummed"),
                () -> "site: " + first.site());
        assertEquals(2, first.sections());
        assertEquals(60_000, first.nanos());
        MmuLockStats.Site second = sites.get(1);
        assertTrue(second.site().startsWith("MmuLockStatsTest.otherReleaser < MmuLockStatsTest.longSectionsAreSummed"),
                () -> "site: " + second.site());
        assertEquals(1, second.sections());
        assertEquals(50_000, second.nanos());
        MmuLockStats.reset();
        assertTrue(MmuLockStats.sites().isEmpty());
    }

    /** Stands for the MMU method that calls unlock: the two frames below it stand for MmuSpinLock's. */
    private static void releaser(long nanos) {
        unlock(nanos);
    }

    private static void otherReleaser(long nanos) {
        unlock(nanos);
    }

    private static void unlock(long nanos) {
        releaseCounted(nanos);
    }

    private static void releaseCounted(long nanos) {
        MmuLockStats.longSection(nanos);
    }
}
