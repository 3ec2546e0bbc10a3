package ${package}.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WriteCounterTest {
    private static final long GFN = 0x1234;
    private final WriteCounter counter = new WriteCounter(GFN);

    @Test
    void countsWritesToItsPageOnly() {
        counter.trackWrite(null, 0, GFN << 12, 0xdeadbeefL, 4);           // first byte
        counter.trackWrite(null, 1, (GFN << 12) + 0xffc, 1, 4);           // last word
        counter.trackWrite(null, 0, (GFN << 12) - 1, 1, 1);               // page below
        counter.trackWrite(null, 0, (GFN + 1) << 12, 1, 8);               // page above
        counter.trackWrite(null, 0, 0x1234, 1, 8);                        // gpa equal to the gfn
        assertEquals(2, counter.writes());
    }

    @Test
    void countsFromConcurrentVcpus() throws InterruptedException {
        Thread[] vcpus = new Thread[4];
        for (int id = 0; id < vcpus.length; id++) {
            int vcpuId = id;
            vcpus[id] = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    counter.trackWrite(null, vcpuId, (GFN << 12) + (i & 0xff8), i, 8);
                }
            });
            vcpus[id].start();
        }
        for (Thread vcpu : vcpus) {
            vcpu.join();
        }
        assertEquals(40_000, counter.writes());
    }

    @Test
    void notesTheRemovalOfItsSlotOnly() {
        counter.trackRemoveRegion(null, 0, GFN);                           // ends just below
        counter.trackRemoveRegion(null, GFN + 1, 16);                      // starts just above
        assertFalse(counter.slotRemoved());
        counter.trackRemoveRegion(null, GFN, 1);
        assertTrue(counter.slotRemoved());
    }
}
