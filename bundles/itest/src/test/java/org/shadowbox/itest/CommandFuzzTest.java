package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * The project's own fuzz test (issue 13): a table of bad inputs for every command of every
 * Shadowbox scope, each run through Gogo's {@link CommandProcessor} in a real Felix with the
 * gpu and audit plugins installed. Each row must fail as the shell's batch mode reports a
 * failure (the command throws, so {@code ./shadowbox -c} exits non-zero) with one line that is
 * no stack trace and no raw Gogo error, and must leave the state as it was: the VMs, the demo
 * VM's memslots, registers, page tracks and notifiers, the MMU checker's result, a checksum of
 * its resident guest memory, and the write-flood settings. {@code --help} rows must print the
 * usage instead. A command registered under a Shadowbox scope without a row fails the test.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class CommandFuzzTest {

    /** The scopes whose every command needs rows. */
    static final Set<String> SCOPES = Set.of("vm", "slot", "mem", "track", "cpu", "mmu", "plugin", "run", "gpu",
            "audit", "flood");

    static final String VM = "demo";

    /**
     * {@code error | LINE}: must fail with one line; {@code help | LINE}: must print the usage.
     * {@code demo} is a 64 MiB PC VM (gfn 0x0-0x9f and 0x100-0x3fff) with the GPU attached, gfn
     * 0x200 watched by the audit, CR0.PE|PG set on vCPU 0 and a few guest pages written;
     * {@code fz-tight} a 64 MiB VM whose own memory budget (1 MiB) holds no scenario's run
     * (kernel-build at scale 3000 needs 24,000 pages at once: more than {@code demo} has).
     */
    static final String TABLE = """
            error | vm:list --bogus
            error | vm:create
            error | vm:create demo
            error | vm:create --memory 0 fz-zero
            error | vm:create --memory 1X fz-unit
            error | vm:info nosuchvm
            error | vm:info ''
            error | vm:destroy nosuchvm
            error | vm:budget demo -5
            error | vm:budget demo lots
            error | slot:list nosuchvm
            error | slot:add nosuchvm 0 1
            error | slot:add demo 0x100 16
            error | slot:delete demo 99
            error | slot:delete demo -1
            error | slot:move demo 99 0x5000
            error | slot:move demo 0 0xffffffffffffffff
            error | slot:dirty demo 99
            error | mem:read demo 0 3
            error | mem:read demo 0x10000000000 8
            error | mem:read nosuchvm 0 8
            error | mem:write demo 0 1 3
            error | mem:write demo 0xfff0000000000000 1
            error | mem:write demo 0x1000 18446744073709551616
            error | mem:fill demo 0x1000 0 1
            error | mem:fill demo 0x1000 4096 0x100
            error | mem:fill demo 0x9f000 8K 1
            error | mem:fill demo 0x100000 64G 1
            error | mem:fill demo 0 2T 1
            error | mem:fill demo 0xffffffffffff0000 1M 1
            error | mem:fill demo 0x1000 1x 1
            error | mem:fill nosuchvm 0x1000 4096 1
            help  | mem:fill --help
            error | track:add demo 0x999999 write
            error | track:add demo 0x300 bogusmode
            error | track:add demo zz write
            error | track:remove demo 0x300 write
            error | track:active demo zz write
            error | track:list nosuchvm
            error | track:notifiers nosuchvm
            error | cpu:write demo 5 0 1
            error | cpu:write demo 0 0xfff0000000000000 1
            error | cpu:cmpxchg demo 0 0xfff0000000000000 1 2
            error | cpu:show demo 9
            error | cpu:show nosuchvm
            error | cpu:set demo 0 cr0 0x80000000
            error | cpu:set demo 0 cr0 0
            error | cpu:set demo 0 rflags 0xffffffffffffffff
            error | cpu:set demo 0 cr4 0xffffffffffffffff
            error | cpu:set demo 0 efer 0xffffffffffffffff
            error | cpu:set demo 0 cr3 0xfff0000000000000
            error | cpu:set demo 0 nosuchreg 1
            error | cpu:set demo 7 rax 1
            error | mmu:access demo 0 0x1000 q
            error | mmu:access demo 9 0x1000 r
            error | mmu:walk demo 7 0
            error | mmu:walk nosuchvm 0 0
            error | mmu:pages nosuchvm
            error | mmu:stats nosuchvm
            error | mmu:check nosuchvm
            error | mmu:flush demo 9
            error | mmu:flush nosuchvm
            error | mmu:invlpg demo 0 notanumber
            error | mmu:map nosuchvm
            error | mmu:map --page 3K demo 0 0x400000 0x500
            error | plugin:list --bogus
            error | plugin:diag 18446744073709551616
            error | plugin:diag no.such.bundle
            error | plugin:diag -1
            error | plugin:isolate no.such.bundle
            error | plugin:isolate bad/name
            error | plugin:isolate 999999
            error | plugin:isolate 18446744073709551616
            error | plugin:isolate --pending bad/name
            error | plugin:isolate --off no.such.bundle
            error | run:list --bogus
            error | run:scenario --background --scale 1000000000 demo steady
            error | run:scenario --scale 1000000000 demo steady
            error | run:scenario demo nosuchscenario
            error | run:scenario nosuchvm steady
            error | run:compare demo nosuchscenario
            error | run:scenario --background --scale 3000 demo kernel-build
            error | run:scenario --scale 3000 demo kernel-build
            error | run:scenario --background fz-tight steady
            error | run:scenario fz-tight kernel-build
            error | run:compare --memory 16M --scale 10000 kernel-build
            error | run:jobs --bogus
            error | run:report 999999
            error | run:stop --json 999999
            error | run:stop 999999
            help  | gpu:attach --help
            error | gpu:attach nosuchvm
            error | gpu:attach
            error | gpu:detach nosuchvm
            error | gpu:tables nosuchvm
            error | gpu:stats nosuchvm
            error | gpu:list --bogus
            error | gpu:give demo 0x99999999
            error | gpu:give demo 0xa0
            error | gpu:give --table 0 demo 0x300
            error | gpu:give --table 5 demo 0x300
            error | gpu:take demo 0x99999999
            error | gpu:root demo 0 0x99999999
            error | gpu:root demo 0 0xa0
            error | gpu:root demo 9 0
            error | gpu:submit demo 0 notanumber
            error | gpu:submit demo 9 0
            help  | audit:log --help
            help  | audit:watch --help
            error | audit:log nosuchvm
            error | audit:log --bogus demo
            error | audit:watch demo 0x99999999
            error | audit:watch demo 0x200
            error | audit:unwatch demo 0x333
            error | audit:unwatch nosuchvm 0x200
            error | flood:stats nosuchvm
            error | flood:config --vm '' --policy xen
            error | flood:config --policy nosuchpolicy
            error | flood:config --threshold -1
            error | flood:config --threshold 99999999999
            """;

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Mmu mmu;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    GuardMonitor guard;

    private final List<Bundle> plugins = new ArrayList<>();
    private Vm vm;
    private Vm tight;

    @BeforeEach
    void setUp() throws Exception {
        for (java.nio.file.Path jar : List.of(Itest.auditJar(context), Itest.gpuJar(context))) {
            Bundle b = context.installBundle("itest:fuzz-" + jar.getFileName() + "-" + System.nanoTime(),
                    java.nio.file.Files.newInputStream(jar));
            plugins.add(b);
            b.start();
        }
        Itest.await("the gpu and audit commands", () -> Itest.services(context, "(osgi.command.scope=gpu)").length > 0
                && Itest.services(context, "(osgi.command.scope=audit)").length > 0
                && Itest.services(context, "(osgi.command.scope=run)").length > 0
                && Itest.services(context, "(osgi.command.scope=flood)").length > 0);
        hypervisor.vm(VM).ifPresent(v -> hypervisor.destroyVm(VM));
        vm = hypervisor.createVm(VmSpec.pc(VM, 64L << 20, 2));
        hypervisor.vm("fz-tight").ifPresent(v -> hypervisor.destroyVm("fz-tight"));
        tight = hypervisor.createVm(VmSpec.pc("fz-tight", 64L << 20, 1));
        tight.setMemoryBudget(1L << 20);
        try (Session s = new Session()) {
            for (String line : List.of("gpu:attach demo", "audit:watch demo 0x200", "mem:write demo 0x1000 0x1234",
                    "mem:write demo 0x200008 0xfeed", "cpu:set demo 0 cr0 0x80000011")) {
                s.run(line);
            }
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Bundle b : plugins) {
            if (b.getState() != Bundle.UNINSTALLED) {
                b.uninstall();
            }
        }
        Itest.refresh(context);
        Itest.destroyQuietly(hypervisor, vm);
        Itest.destroyQuietly(hypervisor, tight);
    }

    record Row(boolean help, String line) {
        String command() {
            return line.split("\\s+", 2)[0];
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (String l : TABLE.strip().split("\n")) {
            String[] kv = l.split("\\|", 2);
            rows.add(new Row(kv[0].strip().equals("help"), kv[1].strip()));
        }
        return rows;
    }

    @Test
    @Timeout(300)
    void everyCommandHasRows() {
        Set<String> registered = registeredCommands();
        Set<String> tabled = new TreeSet<>();
        rows().forEach(r -> tabled.add(r.command()));
        Set<String> missing = new TreeSet<>(registered);
        missing.removeAll(tabled);
        assertTrue(missing.isEmpty(), "commands without a row in CommandFuzzTest.TABLE: " + missing);
        Set<String> unknown = new TreeSet<>(tabled);
        unknown.removeAll(registered);
        assertTrue(unknown.isEmpty(), "rows for commands no bundle registers: " + unknown);
    }

    @Test
    @Timeout(300)
    void everyBadInputIsOneLineAndChangesNothing() throws Exception {
        List<String> failures = new ArrayList<>();
        Map<String, String> before = state();
        assertTrue(mmu.check(vm).isEmpty(), "the demo VM is consistent before the rows: " + mmu.check(vm));
        for (Row row : rows()) {
            String outcome;
            try (Session s = new Session()) {
                outcome = s.outcome(row);
            }
            if (outcome != null) {
                failures.add(row.line() + "  ->  " + outcome);
            }
            Map<String, String> after = state();
            if (!after.equals(before)) {
                for (String k : before.keySet()) {
                    if (!before.get(k).equals(after.get(k))) {
                        failures.add(row.line() + "  ->  changed " + k + ": " + before.get(k) + " -> " + after.get(k));
                    }
                }
                before = after;
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + rows().size() + " rows failed:\n" + String.join("\n", failures));
        }
    }

    /** Every function of every command service of a Shadowbox scope, as scope:function. */
    private Set<String> registeredCommands() {
        Set<String> out = new TreeSet<>();
        for (ServiceReference<?> ref : Itest.services(context, "(osgi.command.scope=*)")) {
            String scope = String.valueOf(ref.getProperty("osgi.command.scope"));
            if (!SCOPES.contains(scope)) {
                continue;
            }
            Object f = ref.getProperty("osgi.command.function");
            for (Object name : f instanceof Object[] a ? List.of(a) : List.of(f)) {
                out.add(scope + ":" + name);
            }
        }
        assertTrue(out.containsAll(Set.of("gpu:attach", "audit:log", "run:scenario", "flood:config", "plugin:isolate")),
                "every scope registered: " + out);
        return out;
    }

    /** What no bad input may change. */
    private Map<String, String> state() throws Exception {
        Map<String, String> s = new TreeMap<>();
        List<String> vms = new ArrayList<>();
        hypervisor.vms().forEach(v -> vms.add(v.name() + "#" + v.id() + " " + v.spec()));
        s.put("vms", vms.toString());
        StringBuilder slots = new StringBuilder();
        CRC32 crc = new CRC32();
        long resident = 0;
        for (Memslot m : vm.memslots()) {
            slots.append(m.id()).append(':').append(Long.toHexString(m.baseGfn())).append('+').append(m.npages())
                    .append('/').append(m.flags()).append(' ');
            for (long g = m.baseGfn(); g < m.endGfn(); g++) {
                byte[] page = org.shadowbox.vm.spi.Platform.slot(m).hostPageIfPresent(g);
                if (page != null) {
                    crc.update((int) g);
                    crc.update(page);
                    resident++;
                }
            }
        }
        s.put("slots", slots.toString());
        s.put("memory", resident + " pages, crc32 " + Long.toHexString(crc.getValue()));
        StringBuilder regs = new StringBuilder();
        for (int i = 0; i < vm.vcpuCount(); i++) {
            for (Register r : Register.values()) {
                regs.append(i).append('.').append(r).append('=').append(Long.toHexString(vm.vcpu(i).get(r))).append(' ');
            }
        }
        s.put("registers", regs.toString());
        s.put("tracks", pageTrack.tracked(vm).toString());
        List<String> notifiers = new ArrayList<>();
        pageTrack.notifiers(vm).forEach(n -> notifiers.add(n.toString()));
        s.put("notifiers", notifiers.toString());
        s.put("check", mmu.check(vm).toString());
        s.put("guard.isolate", guard.isolate().toString());
        try (Session q = new Session()) {
            s.put("flood:config", q.run("flood:config"));
            s.put("gpu:tables", q.run("gpu:tables demo"));
        }
        return s;
    }

    /** A Gogo session as the batch shell runs it: stdout and stderr captured together. */
    private final class Session implements AutoCloseable {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out);

        String run(String line) throws Exception {
            Object r = session.execute(line);
            return r == null ? "" : String.valueOf(r);
        }

        /** Null if the row behaved, else what was wrong. */
        String outcome(Row row) {
            Object result;
            try {
                result = session.execute(row.line());
            } catch (Exception e) {
                if (row.help()) {
                    return "--help failed: " + e;
                }
                String printed = out.toString(StandardCharsets.UTF_8);
                String message = e.getMessage();
                if (!printed.isEmpty()) {
                    return "printed before failing: " + printed;
                }
                if (message == null || message.isBlank()) {
                    return "an error without a message: " + e.getClass().getName();
                }
                if (message.contains("\n")) {
                    return "more than one line: " + message;
                }
                if (message.matches(".*(Exception|Error\\b|\\tat |Cannot coerce|Command not found).*")) {
                    return "a raw error: " + message;
                }
                return null;
            }
            String text = out.toString(StandardCharsets.UTF_8) + (result == null ? "" : String.valueOf(result));
            if (row.help()) {
                return text.matches("(?s).*(Usage|usage|SYNTAX).*") ? null : "no usage printed: " + text;
            }
            return "accepted: " + text.strip().replaceAll("\\s*\\R\\s*", " | ");
        }

        @Override
        public void close() {
            session.close();
        }
    }

    static {
        assertEquals(rows().size(), new TreeSet<>(rows().stream().map(Row::line).toList()).size(), "duplicate rows");
    }
}
