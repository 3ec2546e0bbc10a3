package org.shadowbox.guest.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

import org.shadowbox.guest.GuestKernel;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioContext;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.guest.internal.kernel.GuestCorruption;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Verifier;
import org.shadowbox.guest.internal.trace.TraceScenario;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.PlatformVm;

/**
 * The scenario runner as plain Java: the scenarios it knows, and a run = claim every vCPU of
 * the VM ({@link org.shadowbox.vm.Vcpu#claim}: a second run, or a shell command driving one of
 * them, is refused in one line until this run ends), boot the guest on the
 * VM's vCPUs, run the scenario (foreign code: any failure is caught and reported in one line
 * naming the scenario), then verify the guest's memory through a
 * {@link BareMetalCpu#inspector bare-metal inspector} and through vCPU 0 of the run, which
 * must agree word for word. The run is on one host thread, or on several (an SMP guest:
 * {@code SmpScheduler}); the verification is after every thread is done, on the calling thread,
 * which drove vCPU 0, or with several threads split over as many ({@link Verifier#verifyInParts}:
 * part i of the guest's pages through an inspector and through vCPU i).
 */
public final class Runner implements ScenarioRunner {
    private final List<Scenario> scenarios = new CopyOnWriteArrayList<>();

    public void add(Scenario s) {
        scenarios.add(s);
    }

    public void remove(Scenario s) {
        scenarios.remove(s);
    }

    @Override
    public List<Scenario> scenarios() {
        List<Scenario> out = new ArrayList<>();
        for (Scenario s : scenarios) {
            if (nameOf(s) != null) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparing(Runner::nameOf));
        return out;
    }

    /** The prefix of a recorded workload on the command line: {@code trace:FILE}. */
    public static final String TRACE = "trace:";
    /** The last trace scenario asked for, kept while its file is unchanged (a comparison reads it once). */
    private TraceFile lastTrace;

    private record TraceFile(String name, long size, long modified, TraceScenario scenario) {
    }

    @Override
    public Scenario scenario(String name) {
        if (name != null && name.startsWith(TRACE)) {
            return trace(name);
        }
        for (Scenario s : scenarios()) {
            if (nameOf(s).equals(name)) {
                return s;
            }
        }
        throw new VmException("no scenario named '" + name + "': the scenarios are "
                + scenarios().stream().map(Runner::nameOf).collect(Collectors.joining(", ")));
    }

    /** {@code trace:FILE}: the file read and checked now (one line if it is bad), cached while unchanged. */
    private synchronized TraceScenario trace(String name) {
        String file = name.substring(TRACE.length()).trim();
        if (file.isEmpty()) {
            throw new VmException("trace: needs a file: accepted trace:PATH of a file tools/record.sh wrote");
        }
        Path p = Path.of(file).toAbsolutePath();
        long size;
        long modified;
        try {
            size = Files.size(p);
            modified = Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            throw new VmException("trace " + p + ": no such readable file; accepted trace:PATH of a file tools/record.sh wrote");
        }
        TraceFile last = lastTrace;
        if (last != null && last.name.equals(name) && last.size == size && last.modified == modified) {
            return last.scenario;
        }
        TraceScenario s = TraceScenario.ofFile(name, p).load();
        lastTrace = new TraceFile(name, size, modified, s);
        return s;
    }

    @Override
    public ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, Progress progress) {
        return run(name, vm, cpus, scale, seed, 1, progress);
    }

    @Override
    public ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, int threads,
            Progress progress) {
        Scenario s = scenario(name);
        if (scale < 1) {
            throw new VmException("bad scale " + scale + ": accepted 1 or more");
        }
        if (threads < 1 || threads > vm.vcpuCount()) {
            throw new VmException("bad threads " + threads + ": accepted 1 to " + vm.vcpuCount() + " (the VM's vCPUs)");
        }
        check(s, name, scale);
        Fit.check(name, scale, guestPages(s, name, scale, vm.vcpuCount()), vm, threads);
        String paging = vm.spec().option(VmSpec.PAGING);
        GuestCpu[] c = new GuestCpu[vm.vcpuCount()];
        for (int i = 0; i < c.length; i++) {
            c[i] = cpus.apply(i);
        }
        List<VcpuClaim> claims = new ArrayList<>();
        try {
            for (int i = 0; i < c.length; i++) {
                claims.add(vm.vcpu(i).claim("scenario " + name + " (seed " + seed + ")"));
            }
            return claimedRun(s, name, vm, c, paging, scale, seed, threads, progress);
        } finally {
            for (VcpuClaim claim : claims) {
                claim.close();
            }
        }
    }

    /** The run proper, with every vCPU claimed, so that no shell command drives one meanwhile. */
    private ScenarioResult claimedRun(Scenario s, String name, Vm vm, GuestCpu[] c, String paging, long scale,
            long seed, int threads, Progress progress) {
        long t0 = System.nanoTime(); // measures the run; never decides anything in it
        // The guest model's per-frame state is host memory kept for this VM while the run lasts.
        long bookkeeping = Kernel.frames(vm.memslots(), paging) * Kernel.FRAME_BOOKKEEPING_BYTES;
        PlatformVm account = vm instanceof PlatformVm p ? p : null;
        if (account != null) {
            account.charge(bookkeeping, "keeping the guest model's " + Fit.human(bookkeeping) + " of state per guest frame");
        }
        try {
            return bookedRun(s, name, vm, c, paging, scale, seed, threads, progress, t0);
        } finally {
            if (account != null) {
                account.uncharge(bookkeeping);
            }
        }
    }

    private ScenarioResult bookedRun(Scenario s, String name, Vm vm, GuestCpu[] c, String paging, long scale,
            long seed, int threads, Progress progress, long t0) {
        Kernel k = new Kernel(vm, c, paging, seed, threads);
        k.boot();
        Context ctx = new Context(vm, c, scale, seed, k, progress);
        try {
            s.run(ctx);
        } catch (GuestCorruption e) {
            throw new VmException("scenario " + name + " (seed " + seed + "): " + e.getMessage());
        } catch (VmException e) {
            throw e;
        } catch (Exception | LinkageError | AssertionError e) {
            throw new VmException("scenario " + name + " (seed " + seed + ") failed: " + oneLine(e));
        }
        long checksum;
        try {
            if (threads == 1) {
                checksum = Verifier.verify(k, BareMetalCpu.inspector(vm.vcpu(0)), true);
                long again = Verifier.verify(k, c[0], false);
                if (again != checksum) {
                    throw new GuestCorruption("vCPU 0 reads the guest's memory with checksum " + Long.toHexString(again)
                            + ", the reference walker " + Long.toHexString(checksum));
                }
            } else {
                // The same check split over the run's threads: part i through an inspector and through vCPU i.
                GuestCpu[] inspectors = new GuestCpu[threads];
                for (int i = 0; i < threads; i++) {
                    inspectors[i] = BareMetalCpu.inspector(vm.vcpu(i));
                }
                checksum = Verifier.verifyInParts(k, inspectors, c, threads);
            }
        } catch (GuestCorruption e) {
            throw new VmException("scenario " + name + " (seed " + seed + ") after the run: " + e.getMessage());
        }
        return new ScenarioResult(name, k.paging(), c.length, scale, seed, k.counts(), checksum, System.nanoTime() - t0);
    }

    /** {@link ScenarioRunner#checkFits}: the scale, then the scenario's guest pages against the VM and its budgets. */
    public void checkFits(String name, Vm vm, long scale) {
        Scenario s = scenario(name);
        check(s, name, scale);
        Fit.check(name, scale, guestPages(s, name, scale, vm.vcpuCount()), vm, vm.vcpuCount()); // a run may use a thread per vCPU
    }

    /** {@link ScenarioRunner#hostBytesAtMost}. */
    public long hostBytesAtMost(String name, long scale, int vcpus, long memoryBytes, String mmu) {
        Scenario s = scenario(name);
        check(s, name, scale);
        return Fit.freshVmBytes(name, scale, guestPages(s, name, scale, vcpus), memoryBytes, mmu, vcpus);
    }

    /** {@link Scenario#guestPages}, a foreign scenario's failure blamed in one line. */
    private static GuestPages guestPages(Scenario s, String name, long scale, int vcpus) {
        try {
            GuestPages p = s.guestPages(scale, vcpus);
            if (p == null) {
                throw new VmException("scenario " + name + " gave no guest pages for scale " + scale
                        + ": accepted GuestPages.UNKNOWN when it does not know");
            }
            return p;
        } catch (VmException e) {
            throw e;
        } catch (Exception | LinkageError | AssertionError e) {
            throw new VmException("scenario " + name + " failed to state its guest pages at scale " + scale + ": " + oneLine(e));
        }
    }

    /** {@link Scenario#check}, a foreign scenario's failure blamed in one line. */
    private static void check(Scenario s, String name, long scale) {
        try {
            s.check(scale);
        } catch (VmException e) {
            throw e;
        } catch (Exception | LinkageError | AssertionError e) {
            throw new VmException("scenario " + name + " failed its check of scale " + scale + ": " + oneLine(e));
        }
    }

    /** The exception as one line (a message may span several). */
    private static String oneLine(Throwable e) {
        return e.toString().replace('\n', ' ');
    }

    /** The scenario's name, or null if asking it failed (a broken foreign scenario is left out). */
    private static String nameOf(Scenario s) {
        try {
            return s.name();
        } catch (Exception | LinkageError | AssertionError e) {
            return null;
        }
    }

    private record Context(Vm vm, GuestCpu[] cpus, long scale, long seed, Kernel kernelModel, Progress listener)
            implements ScenarioContext {
        @Override
        public int vcpus() {
            return cpus.length;
        }

        @Override
        public GuestCpu cpu(int i) {
            return cpus[i];
        }

        @Override
        public GuestKernel kernel() {
            return kernelModel;
        }

        @Override
        public void progress(long done, long total) {
            if (listener != null) {
                listener.progress(done, total, kernelModel.counters().accesses());
            }
        }
    }
}
