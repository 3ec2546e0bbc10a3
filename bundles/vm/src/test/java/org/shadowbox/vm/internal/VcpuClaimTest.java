package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** {@link Vcpu#claim}: the sandbox's vcpu->mutex, refusing a second driver in one line. */
class VcpuClaimTest {
    private final Vm vm = new HypervisorImpl().createVm(VmSpec.pc("c", 16L << 20, 2));

    @Test
    void aClaimedVcpuRefusesASecondDriverNamingTheFirst() {
        Vcpu v = vm.vcpu(1);
        try (VcpuClaim c = v.claim("run:scenario kernel-build")) {
            assertSame(v, c.vcpu());
            assertEquals("run:scenario kernel-build", v.claimedBy());
            VmException e = assertThrows(VmException.class, () -> v.claim("cpu:write"));
            assertTrue(e.getMessage().startsWith("vCPU 1 of VM c is busy: run:scenario kernel-build has it since "),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line");
            assertEquals("run:scenario kernel-build", v.claimedBy(), "the refused claim changed nothing");
            try (VcpuClaim other = vm.vcpu(0).claim("cpu:write")) {
                assertEquals("cpu:write", vm.vcpu(0).claimedBy(), "vCPUs are claimed one by one");
            }
        }
        assertNull(v.claimedBy());
        try (VcpuClaim again = v.claim("cpu:read")) {
            assertEquals("cpu:read", v.claimedBy());
        }
    }

    @Test
    void closingAStaleClaimDoesNotReleaseTheNextHolder() {
        Vcpu v = vm.vcpu(0);
        VcpuClaim first = v.claim("first");
        first.close();
        try (VcpuClaim second = v.claim("second")) {
            first.close(); // idempotent, and not the holder any more
            assertEquals("second", v.claimedBy());
        }
    }

    @Test
    void aClaimNeedsADescription() {
        VmException e = assertThrows(VmException.class, () -> vm.vcpu(0).claim(" "));
        assertTrue(e.getMessage().contains("non-empty description"), e.getMessage());
        assertNull(vm.vcpu(0).claimedBy());
    }

    @Test
    void ofManyThreadsRacingForOneVcpuExactlyOneWinsEachRound() throws Exception {
        Vcpu v = vm.vcpu(0);
        for (int round = 0; round < 200; round++) {
            int threads = 4;
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(threads);
            AtomicInteger winners = new AtomicInteger();
            VcpuClaim[] held = new VcpuClaim[threads];
            for (int t = 0; t < threads; t++) {
                int me = t;
                new Thread(() -> {
                    try {
                        go.await();
                        held[me] = v.claim("thread " + me);
                        winners.incrementAndGet();
                    } catch (VmException | InterruptedException e) {
                        // lost the race: expected for all but one
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            go.countDown();
            done.await();
            assertEquals(1, winners.get(), "round " + round);
            for (VcpuClaim c : held) {
                if (c != null) {
                    c.close();
                }
            }
            assertNull(v.claimedBy(), "round " + round);
        }
    }
}
