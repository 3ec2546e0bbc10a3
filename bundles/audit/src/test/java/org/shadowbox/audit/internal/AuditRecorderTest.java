package org.shadowbox.audit.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;

class AuditRecorderTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final Vm demo = TestVms.vm("demo");
    private final Vm other = TestVms.vm("other");

    private AuditRecorder recorder(int capacity) {
        return new AuditRecorder(capacity, now::incrementAndGet);
    }

    private static List<AuditEntry> entries(AuditRecorder r, Vm vm) {
        return r.log(vm).entries();
    }

    /** Issue 13: the log is bounded, and so is what configuration may ask of it (each VM's ring is allocated whole). */
    @Test
    void capacityIsBoundedInOneLine() {
        recorder(AuditRecorder.MAX_CAPACITY);
        for (int bad : new int[] {0, AuditRecorder.MAX_CAPACITY + 1, Integer.MAX_VALUE}) {
            assertEquals("configuration org.shadowbox.audit: bad capacity " + bad + ": accepted 1 to 1000000 entries per VM"
                    + " (each VM's log is allocated whole)",
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> recorder(bad))
                            .getMessage());
        }
    }

    @Test
    void recordsOnlyWritesToWatchedGfnsOfTheirOwnVm() {
        AuditRecorder r = recorder(100);
        assertTrue(r.watch(demo, 0x1234));

        r.trackWrite(demo, 0, 0x1234_008L, 0xdeadbeefL, 4);  // watched
        r.trackWrite(demo, 1, 0x1235_000L, 1, 8);            // next page: not watched
        r.trackWrite(demo, 1, 0x1233_ffcL, 2, 4);            // previous page: not watched
        r.trackWrite(other, 0, 0x1234_008L, 3, 4);           // same gfn, another VM
        r.trackWrite(TestVms.vm("demo"), 0, 0x1234_008L, 4, 4); // same name, another VM object

        assertEquals(List.of(new AuditEntry.Write(1, 1001, 0, 0x1234_008L, 4, 0xdeadbeefL)), entries(r, demo));
        assertEquals(0, r.log(other).recorded());
    }

    @Test
    void entriesKeepRecordingOrderAndEveryField() {
        AuditRecorder r = recorder(100);
        r.watch(demo, 7);
        r.watch(demo, 3);
        r.trackWrite(demo, 1, 7L << 12, 0x11, 1);
        r.trackWrite(demo, 0, (3L << 12) | 0xffe, 0x2233, 2);
        r.trackWrite(demo, 1, (7L << 12) | 8, -1L, 8);

        assertEquals(List.of(
                new AuditEntry.Write(1, 1001, 1, 7L << 12, 1, 0x11),
                new AuditEntry.Write(2, 1002, 0, (3L << 12) | 0xffe, 2, 0x2233),
                new AuditEntry.Write(3, 1003, 1, (7L << 12) | 8, 8, -1L)), entries(r, demo));
        assertArrayEquals(new long[] { 3, 7 }, r.watched(demo));
    }

    @Test
    void ringKeepsTheNewestAndCountsTheDropped() {
        AuditRecorder r = recorder(4);
        r.watch(demo, 1);
        for (int i = 1; i <= 10; i++) {
            r.trackWrite(demo, 0, 1L << 12, i, 8);
        }
        WriteLog.Snapshot s = r.log(demo);
        assertEquals(10, s.recorded());
        assertEquals(6, s.dropped());
        assertEquals(4, s.capacity());
        assertEquals(List.of(7L, 8L, 9L, 10L), s.entries().stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(7L, 8L, 9L, 10L),
                s.entries().stream().map(e -> ((AuditEntry.Write) e).value()).toList());
    }

    @Test
    void unwatchStopsRecordingAndKeepsTheLog() {
        AuditRecorder r = recorder(100);
        r.watch(demo, 5);
        r.trackWrite(demo, 0, 5L << 12, 1, 1);
        assertTrue(r.unwatch(demo, 5));
        assertFalse(r.unwatch(demo, 5), "a second unwatch finds nothing");
        r.trackWrite(demo, 0, 5L << 12, 2, 1);
        assertEquals(1, r.log(demo).recorded());
        assertArrayEquals(new long[0], r.watched(demo));
    }

    @Test
    void watchingTwiceIsRefused() {
        AuditRecorder r = recorder(100);
        assertTrue(r.watch(demo, 9));
        assertFalse(r.watch(demo, 9));
        assertArrayEquals(new long[] { 9 }, r.watched(demo));
    }

    @Test
    void removeRegionForgetsTheWatchedGfnsInsideAndSaysSo() {
        AuditRecorder r = recorder(100);
        for (long g : new long[] { 0xff, 0x100, 0x150, 0x1ff, 0x200 }) {
            r.watch(demo, g);
        }
        r.watch(other, 0x150);

        r.trackRemoveRegion(demo, 0x100, 0x100); // [0x100, 0x200)

        assertArrayEquals(new long[] { 0xff, 0x200 }, r.watched(demo));
        assertArrayEquals(new long[] { 0x150 }, r.watched(other), "another VM's slot is another slot");
        List<AuditEntry> log = entries(r, demo);
        assertEquals(1, log.size());
        AuditEntry.RegionRemoved rr = assertInstanceOf(AuditEntry.RegionRemoved.class, log.get(0));
        assertEquals(new AuditEntry.RegionRemoved(1, 1001, 0x100, 0x100, 3), rr);

        r.trackWrite(demo, 0, 0x150L << 12, 1, 4);
        r.trackWrite(demo, 0, 0x200L << 12, 2, 4);
        assertEquals(2, r.log(demo).recorded(), "only the write to 0x200 was added");
    }

    @Test
    void removeRegionWithNothingWatchedInsideLeavesTheLogAlone() {
        AuditRecorder r = recorder(100);
        r.watch(demo, 0x10);
        r.trackRemoveRegion(demo, 0x100, 0x100);
        r.trackRemoveRegion(other, 0, 0x1000); // a VM the audit never saw
        assertEquals(0, r.log(demo).recorded());
        assertEquals(0, r.log(other).recorded());
        assertArrayEquals(new long[] { 0x10 }, r.watched(demo));
    }

    @Test
    void destroyedVmsAreForgotten() {
        AtomicBoolean destroyed = new AtomicBoolean();
        Vm doomed = TestVms.vm("doomed", destroyed);
        AuditRecorder r = recorder(100);
        r.watch(doomed, 1);
        r.watch(demo, 1);
        r.forgetDestroyed();
        assertEquals(List.of(doomed, demo), r.vms());
        destroyed.set(true);
        r.forgetDestroyed();
        assertEquals(List.of(demo), r.vms());
        assertArrayEquals(new long[0], r.watched(doomed));
    }

    @Test
    void concurrentVcpusLoseNothingAndKeepEachVcpusOrder() throws Exception {
        int vcpus = 4;
        int perVcpu = 20_000;
        AuditRecorder r = recorder(vcpus * perVcpu);
        r.watch(demo, 0x42);
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[vcpus];
        for (int v = 0; v < vcpus; v++) {
            int id = v;
            threads[v] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perVcpu; i++) {
                    r.trackWrite(demo, id, (0x42L << 12) | (i & 0xff8), i, 8);
                    r.trackWrite(demo, id, 0x43L << 12, i, 8); // ignored
                }
            });
            threads[v].start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(60_000);
            assertFalse(t.isAlive(), "a writer thread did not finish");
        }

        WriteLog.Snapshot s = r.log(demo);
        assertEquals((long) vcpus * perVcpu, s.recorded());
        assertEquals(0, s.dropped());
        long[] next = new long[vcpus];
        long seq = 0;
        for (AuditEntry e : s.entries()) {
            AuditEntry.Write w = (AuditEntry.Write) e;
            assertEquals(++seq, w.seq(), "sequence numbers have no gap");
            assertEquals(next[w.vcpu()]++, w.value(), "vCPU " + w.vcpu() + "'s writes stay in its order");
        }
        for (int v = 0; v < vcpus; v++) {
            assertEquals(perVcpu, next[v], "every write of vCPU " + v + " was recorded");
        }
    }
}
