package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.osgi.Config;
import org.shadowbox.mmu.internal.osgi.MmuComponent;
import org.shadowbox.mmu.internal.osgi.MmuHooksComponent;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The cpu: and mmu: commands through Gogo 1.1.6 against the real vm, page-track and mmu
 * code, wired as in the container: a guest whose page tables mmu:map builds with host writes.
 */
class MmuCommandsTest {

    static final String MMU_BUNDLE = "org.shadowbox.mmu";

    private HypervisorImpl hv;
    private PageTrackCore core;
    private MmuComponent mmu;
    private GogoShell shell;
    private VmCommands vmCommands;
    private CpuCommands cpuCommands;
    private MmuCommands mmuCommands;

    static Config defaults() {
        return new Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Config.class;
            }

            @Override
            public int tlb_entries() {
                return Config.DEFAULT_TLB_ENTRIES;
            }

            @Override
            public int root_cache() {
                return Config.DEFAULT_ROOT_CACHE;
            }

            @Override
            public int max_mmu_pages() {
                return 0;
            }
        };
    }

    @BeforeEach
    void setUp() throws Exception {
        hv = new HypervisorImpl();
        core = new PageTrackCore();
        hv.addVmListener(core);
        hv.addWriteListener(core);
        MmuHooksComponent hooks = new MmuHooksComponent();
        core.setWriteProtectHook(hooks, MMU_BUNDLE);
        core.register(hooks, MMU_BUNDLE);
        hv.addWriteListener(hooks);
        mmu = new MmuComponent(core.forOwner(MMU_BUNDLE, TrackerRole.MMU), hooks, defaults());
        hv.addVmListener(mmu);
        vmCommands = new VmCommands(hv);
        cpuCommands = new CpuCommands(hv);
        mmuCommands = new MmuCommands(hv);
        cpuCommands.mmu = mmu;
        mmuCommands.mmu = mmu;
        shell = new GogoShell(vmCommands, new MemCommands(hv), cpuCommands, mmuCommands);
        shell.execute("vm:create demo --vcpus 2");
        // PML4 at gfn 0x1000; tables from 0x1001 up; data at 0x2000 and 0x2001.
        shell.execute("cpu:set demo 0 cr3 0x1000000");
        shell.execute("cpu:set demo 1 cr3 0x1000000");
        shell.execute("mmu:map demo 0 0x400000 0x2000000 --user --writable --tables 0x1001");
        shell.execute("mmu:map demo 0 0x401000 0x1002000 --writable");   // the PD itself, supervisor
        shell.execute("mmu:map demo 0 0x402000 0x2001000 --nx");
        shell.execute("mem:write demo 0x2000000 0x1122334455667788");
    }

    @AfterEach
    void tearDown() {
        shell.close();
    }

    @Test
    void mapBuildsFourLevelTablesFromTheArea() throws Exception {
        assertEquals(0x1001L << 12 | 7, hv.require("demo").memory().read(0x1000000, 8), "PML4[0] -> PDPT 0x1001");
        assertEquals(0x1002L << 12 | 7, hv.require("demo").memory().read(0x1001000, 8), "PDPT[0] -> PD 0x1002");
        assertEquals(0x1003L << 12 | 7, hv.require("demo").memory().read(0x1002000 + 8 * 2, 8), "PD[2] -> PT 0x1003");
        assertEquals(String.join("\n",
                "vm:         demo",
                "vcpu:       0",
                "gva:        0x600000",
                "gpa:        0x2200000",
                "page size:  2 MiB",
                "cr3:        0x1000000",
                "entry gpa:  0x1002018",
                "entry:      0x2200083",
                "bits:       P|RW|PS",
                "new tables: -"), shell.print("mmu:map demo 0 0x600000 0x2200000 --page 2M --writable"));
        assertEquals(String.join("\n",
                "vm:         demo",
                "vcpu:       0",
                "gva:        0x8000000000",
                "gpa:        0x3000",
                "page size:  4 KiB",
                "cr3:        0x1000000",
                "entry gpa:  0x1006000",
                "entry:      0x3005",
                "bits:       P|US",
                "new tables: 0x1004 (level 3), 0x1005 (level 2), 0x1006 (level 1)"),
                shell.print("mmu:map demo 0 0x8000000000 0x3000 --user --tables 0x1001"));
        String mapped = shell.error("mmu:map demo 0 0x400000 0x5000 --tables 0x1001");
        assertTrue(mapped.startsWith("gva 0x400000 is already mapped: the level-1 entry at gpa 0x1003000 is 0x2000007"
                + " (P|RW|US); mmu:map only adds mappings"), mapped);
        assertTrue(shell.error("mmu:map demo 0 0x600000 0x5000").contains("already mapped: the level-2 entry"),
                "under a 2 MiB page");
        assertEquals("mmu:map needs 3 new page tables: name an area of free guest frames with --tables GFN (and"
                + " --table-pages N, default 64)", shell.error("mmu:map demo 0 0x10000000000 0x5000"));
        assertTrue(shell.error("mmu:map demo 0 0x10000000000 0x5000 --tables 0x1001 --table-pages 6")
                .startsWith("mmu:map needs 3 new page tables but found 0 free in --tables 0x1001 (6 pages)"));
        assertEquals("bad --page '3M': accepted 4K, 2M or 1G", shell.error("mmu:map demo 0 0x0 0x0 --page 3M"));
        assertTrue(shell.error("mmu:map demo 0 0x1234 0x5000").contains("must be aligned to the page size 0x1000"));
        assertEquals(0, hv.require("demo").memory().read(0x1000000 + 8 * 2, 8), "refused maps wrote nothing");
    }

    @Test
    void accessShowsWhatTheGuestSawAndTheCountersThatMoved() throws Exception {
        String read = shell.print("mmu:access demo 0 0x400008 read --size 4 --user");
        assertTrue(read.startsWith(String.join("\n",
                "vm:         demo",
                "vcpu:       0",
                "gva:        0x400008",
                "access:     read, user",
                "size:       4",
                "outcome:    ok",
                "value:      0x0",
                "gpa:        0x2000008",
                "error code: -",
                "error bits: -",
                "emulated:   no",
                "counters:   pf_fixed +1, ")), read);
        assertTrue(shell.print("mmu:access demo 0 0x400000 read").contains("value:      0x1122334455667788\n"));
        String fault = shell.print("mmu:access demo 0 0x401000 read --user");
        assertTrue(fault.contains("outcome:    page fault (#PF)\nvalue:      -\ngpa:        -\n"
                + "error code: 0x5\nerror bits: P|U\nemulated:   no\n"), fault);
        assertTrue(shell.print("mmu:access demo 1 0x402000 fetch").contains("error bits: P|I/D"));
        assertTrue(shell.print("mmu:access demo 1 0x800000 write --value 1").contains("error bits: W\n"));
        assertEquals(0x800000, hv.require("demo").vcpu(1).get(Register.CR2), "a #PF sets CR2");
        String gp = shell.print("mmu:access demo 0 0x800000000000 read");
        assertTrue(gp.contains("outcome:    general protection (#GP): non-canonical address"), gp);
        assertTrue(shell.print("mmu:access demo 0 0xffff800000000000 read").contains("error bits: 0\n"),
                "canonical: a not-present fault in the upper half");
        assertEquals("{\"vm\":\"demo\",\"vcpu\":0,\"gva\":4194304,\"access\":\"read, supervisor\",\"size\":8,"
                + "\"outcome\":\"ok\",\"value\":1234605616436508552,\"gpa\":33554432,\"errorCode\":null,"
                + "\"errorBits\":null,\"emulated\":false,\"counters\":\"tlb_hit +1\"}",
                shell.print("mmu:access demo 0 0x400000 read --json"));
        assertEquals("bad access 'exec': accepted read, write or fetch", shell.error("mmu:access demo 0 0 exec"));
        assertEquals("bad VCPU '2': accepted 0 to 1", shell.error("mmu:access demo 2 0 read"));
        assertEquals("bad --value '0x10000': does not fit in 2 bytes; accepted 0x0 to 0xffff (or pass a larger"
                + " --size)", shell.error("mmu:access demo 0 0x400000 write --size 2 --value 0x10000"));
    }

    @Test
    void aWriteToAPageTablePageIsEmulatedAndTheCountsMoveAsKvms() throws Exception {
        // The PD (gfn 0x1002) is also mapped at 0x8000000000, through tables of its own, so that
        // the shadow path to that mapping survives the zap of the PD's shadow page.
        shell.execute("mmu:map demo 0 0x8000000000 0x1002000 --writable --tables 0x1001");
        shell.execute("mmu:access demo 0 0x400000 read"); // shadows PML4, PDPT, PD (write-tracked) and the PT
        String first = shell.print("mmu:access demo 0 0x8000000020 write --value 0x1003007");
        assertTrue(first.contains("outcome:    ok\nvalue:      0x1003007\ngpa:        0x1002020\n"), first);
        assertTrue(first.contains("emulated:   yes\n"), first);
        // a not-present write fault: a read-only spte is installed (the PD is write-tracked), then
        // emulated; the emulated write reaches the MMU's notifier, which zaps the PD's shadow page
        assertTrue(first.contains("pf_fixed +1, pf_emulate +1,"), first);
        assertTrue(first.contains("mmu_shadow_zapped +1, mmu_pte_write_fallback +1, mmu_pte_write_fallback_zapped +1"),
                first);
        shell.execute("mmu:access demo 0 0x400000 read"); // the PD is shadowed again
        String second = shell.print("mmu:access demo 0 0x8000000028 write --value 0");
        assertTrue(second.contains("emulated:   yes\n"), second);
        // a present write fault on a tracked gfn: page_fault_handle_page_track, nothing fixed, emulated
        assertTrue(second.contains("counters:   pf_emulate +1,") && !second.contains("pf_fixed"), second);
        assertTrue(second.contains("mmu_pte_write_fallback_zapped +1"), second);
        assertEquals(0x1003007, hv.require("demo").memory().read(0x1002020, 8), "the emulator wrote guest memory");
        assertTrue(shell.print("mmu:access demo 0 0x800000 read").contains("value:      0x1122334455667788"),
                "PD entry 4 written by the guest now maps 0x800000 through the same PT");
        assertEquals("vm:         demo\nresult:     ok\nviolations: -", shell.print("mmu:check demo"));
        String stats = shell.print("mmu:stats demo");
        assertTrue(stats.startsWith("NAME"), stats);
        assertTrue(stats.contains("\npf_emulate "), stats);
        String pages = shell.print("mmu:pages demo");
        assertTrue(pages.startsWith("ID     GFN  LEVEL  ROLE                  DIRECT  UNSYNC  FLOOD  PARENTS  ROOTS\n"),
                pages);
        assertTrue(pages.contains("0x1000      4"), pages);
    }

    @Test
    void cpuSetCr3SwitchesRootsThroughTheMmu() throws Exception {
        shell.execute("mmu:access demo 0 0x400000 read");
        shell.execute("cpu:set demo 1 cr3 0x1100000");
        shell.execute("mmu:map demo 1 0x400000 0x2002000 --tables 0x1101");
        shell.execute("mem:write demo 0x2002000 42");
        String set = shell.print("cpu:set demo 0 cr3 0x1100000");
        assertEquals(String.join("\n",
                "vm:       demo",
                "vcpu:     0",
                "register: cr3",
                "old:      0x1000000",
                "value:    0x1100000",
                "via:      mmu: kvm_set_cr3 (the new root is loaded or found in the root cache, TLB flushed)",
                "paging:   64"), set);
        String pages = shell.print("mmu:pages demo --json");
        assertTrue(pages.contains("\"gfn\":4352,\"level\":4,") && pages.matches(".*\"gfn\":4352,[^}]*\"roots\":2}.*"),
                "both vCPUs hold the root of 0x1100: " + pages);
        assertTrue(pages.matches(".*\"gfn\":4096,[^}]*\"roots\":2}.*"), "both cache their old root: " + pages);
        assertTrue(shell.print("mmu:access demo 0 0x400000 read").contains("value:      0x2a\ngpa:        0x2002000"));
        String show = shell.print("cpu:show demo 0");
        assertTrue(show.contains("cr3:    0x1100000\n"), show);
        assertTrue(show.contains("flags:  cr0 PE|ET|WP|PG; cr4 PAE; efer LME|LMA|NXE; rflags -\nmmu:    served"), show);
        assertTrue(shell.print("cpu:show demo").startsWith("VCPU  PAGING         CR0"), shell.print("cpu:show demo"));
        assertEquals("unknown register 'cr8': accepted cr0, cr2, cr3, cr4, efer, rflags",
                shell.error("cpu:set demo 0 cr8 0"));
        assertEquals(0x1100000, hv.require("demo").vcpu(0).get(Register.CR3), "a refused set changed nothing");
    }

    @Test
    void walkShowsTheGuestAndTheShadowLevels() throws Exception {
        shell.execute("mmu:access demo 0 0x400000 write --value 7");
        String walk = shell.print("mmu:walk demo 0 0x400000");
        assertTrue(walk.startsWith("vm:     demo\nvcpu:   0\ngva:    0x400000\nguest:\n  LEVEL  ADDRESS    "), walk);
        assertTrue(walk.contains("      1  0x1003000  0x2000067  P|RW|US|A|D -> page 0x2000000"), walk);
        assertTrue(walk.contains("\nshadow:\n  LEVEL  ADDRESS"), walk);
        assertTrue(walk.contains("result: guest: gpa 0x2000000 (4 KiB page, user, writable); shadow: leaf at level 1,"
                + " writable"), walk);
    }

    @Test
    void flushAndInvlpg() throws Exception {
        shell.execute("mmu:access demo 0 0x400000 read");
        assertTrue(shell.print("mmu:access demo 0 0x400000 read").contains("counters:   tlb_hit +1"));
        assertEquals("vm:    demo\nvcpus: 0-1\nwhen:  before each one's next access (KVM_REQ_TLB_FLUSH)",
                shell.print("mmu:flush demo"));
        String after = shell.print("mmu:access demo 0 0x400000 read");
        assertTrue(after.contains("counters:   tlb_flush +1, tlb_miss +1"), after);
        assertEquals("vm:    demo\nvcpus: 1\nwhen:  before its next access (KVM_REQ_TLB_FLUSH)",
                shell.print("mmu:flush demo 1"));
        String inv = shell.print("mmu:invlpg demo 0 0x400000");
        assertTrue(inv.contains("counters: invlpg +1, tlb_flush +"), inv);
        assertTrue(shell.print("mmu:access demo 0 0x400000 read").contains("tlb_miss +1"), "invlpg emptied the TLB");
    }

    @Test
    void checkPrintsTheViolationsAndFailsInOneLine() throws Exception {
        shell.execute("mmu:access demo 0 0x400000 write --value 1");
        // host-side, behind the MMU's back: a present PTE now names another page
        shell.execute("mem:write demo 0x1003000 0x2005007");
        shell.takeOutput();
        String error = shell.error("mmu:check demo");
        assertTrue(error.startsWith("VM demo: "), error);
        assertTrue(error.contains(" MMU invariant violation") && error.contains("(listed above); the first: "), error);
        String listed = shell.takeOutput();
        assertTrue(listed.contains("0x2000") || listed.contains("0x2005"), "the violations were printed: " + listed);
        assertEquals(error.substring(error.indexOf("the first: ") + 11), listed.lines().findFirst().orElse(""));
    }

    @Test
    void withoutTheMmuBundleMmuCommandsSayItAndTheRestWorks() throws Exception {
        cpuCommands.mmu = null;
        mmuCommands.mmu = null;
        String missing = "the MMU is unavailable: the org.shadowbox.mmu bundle is not active (start it, then retry)";
        for (String line : new String[] {"mmu:access demo 0 0x400000 read", "mmu:walk demo 0 0", "mmu:pages demo",
                "mmu:stats demo", "mmu:check demo", "mmu:flush demo", "mmu:flush demo 1", "mmu:invlpg demo 0 0"}) {
            assertEquals(missing, shell.error(line), line);
        }
        assertTrue(shell.print("mmu:map demo 0 0x403000 0x2001000").contains("new tables: -"),
                "mmu:map only writes guest memory");
        assertTrue(shell.print("cpu:set demo 0 cr3 0x1000000").contains(
                "via:      register only (the org.shadowbox.mmu bundle is not active)"));
        assertTrue(shell.print("cpu:show demo 1").contains("mmu:    none: the org.shadowbox.mmu bundle is not active"));
    }

    @Test
    void vmCreateTakesTheOptionsAndTdpAndLegacyVmsAreServed() throws Exception {
        shell.execute("vm:create t --memory 64M --mmu tdp --paging pae");
        String info = shell.print("vm:info t");
        assertTrue(info.contains("\noptions:      mmu=tdp, paging=pae, policy=pagetrack\n"), info);
        assertTrue(shell.print("cpu:show demo").contains("\n   0  64  "), shell.print("cpu:show demo"));
        String show = shell.print("cpu:show t 0");
        assertTrue(show.contains("paging: pae\n") && show.contains("\nmmu:    served"), show);
        assertTrue(shell.print("mmu:stats t").contains("\npf_taken "), "the TDP MMU's counters");
        assertTrue(shell.print("cpu:set t 0 cr3 0x5000").contains("via:      mmu: no exit under TDP"));
        assertEquals("vm:         t\nresult:     ok\nviolations: -", shell.print("mmu:check t"));

        // Under legacy the guest sees what it sees under pagetrack; the write takes the emulator's route.
        shell.execute("vm:create l --memory 64M --policy legacy");
        shell.execute("cpu:set l 0 cr3 0x1000000");
        shell.execute("mmu:map l 0 0x400000 0x2000000 --user --writable --tables 0x1001");
        shell.execute("mmu:map l 0 0x8000000000 0x1002000 --writable --tables 0x1001");
        shell.execute("mmu:access l 0 0x400000 read");
        String write = shell.print("mmu:access l 0 0x8000000020 write --value 0x1003007");
        assertTrue(write.contains("outcome:    ok\nvalue:      0x1003007\ngpa:        0x1002020\n"), write);
        assertTrue(write.contains("emulated:   yes\n"), write);
        assertTrue(write.contains("mmu_pte_write_fallback +1,") && write.contains("pte_write_emulator +1")
                && !write.contains("pf_emulate_tracked"), write);
        assertEquals("vm:         l\nresult:     ok\nviolations: -", shell.print("mmu:check l"));

        // TDP under legacy: KVM's pre-series TDP path, served; it never asks page track, so external tracks are refused.
        shell.execute("vm:create b --memory 64M --mmu tdp --policy legacy");
        assertTrue(shell.print("mmu:stats b").contains("\npf_taken "), "served by the TDP MMU");
        assertTrue(shell.print("cpu:set b 0 cr3 0x5000").contains("via:      mmu: no exit under TDP"));
        String refused = assertThrows(VmException.class, () -> core.forOwner("org.shadowbox.shell").add(hv.require("b"),
                0x300, TrackMode.WRITE)).getMessage();
        assertTrue(refused.startsWith("cannot track pages of VM b (owner org.shadowbox.shell): it runs mmu=tdp with"
                + " policy=legacy") && refused.indexOf('\n') < 0, refused);
        assertEquals("vm:         b\nresult:     ok\nviolations: -", shell.print("mmu:check b"));
        assertEquals("bad mmu 'ept': accepted shadow, tdp", shell.error("vm:create u --mmu ept"));
        assertEquals("bad paging '16': accepted 64, pae, 32, off", shell.error("vm:create u --paging 16"));
        assertEquals("bad policy 'x': accepted pagetrack, legacy", shell.error("vm:create u --policy x"));
        assertTrue(hv.vm("u").isEmpty());
        shell.execute("vm:create off --memory 64M --paging off");
        assertTrue(shell.print("cpu:show off 0").contains("mmu:    served"), "paging off: served");
        String access = shell.print("mmu:access off 0 0x1000 read");
        assertTrue(access.contains("0x1000"), "paging off: the identity map, gpa = gva: " + access);
    }
}
