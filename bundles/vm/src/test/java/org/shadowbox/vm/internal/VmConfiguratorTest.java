package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

class VmConfiguratorTest {

    @Test
    void theDemoConfigurationDescribesAPc() {
        VmSpec spec = VmConfigurator.spec(Map.of("name", "demo", "vcpus", "2", "maxphyaddr", "46",
                "slots", "0:0x0:0xa0, 1:0x100:0x3ff00"));
        assertEquals(new VmSpec("demo", 2, List.of(new SlotSpec(0, 0, 0xa0, 0), new SlotSpec(1, 0x100, 0x3ff00, 0)), 46),
                spec);
        assertEquals(VmSpec.pc("demo", 1L << 30, 2), spec, "the same layout as VmSpec.pc for 1 GiB");
    }

    @Test
    void memoryWithoutSlotsIsLaidOutAsAPc() {
        VmSpec spec = VmConfigurator.spec(Map.of("name", "x", "memory", "64M"));
        assertEquals(VmSpec.pc("x", 64L << 20, 1), spec);
    }

    @Test
    void slotFlagsAndNumbers() {
        assertEquals(List.of(new SlotSpec(3, 16, 32, Memslot.READONLY | Memslot.LOG_DIRTY_PAGES)),
                VmConfigurator.parseSlots("3:16:0x20:readonly:dirtylog"));
        assertEquals(1L << 40, VmConfigurator.parseSize("1T"));
        assertEquals(4096, VmConfigurator.parseSize("0x1000"));
        assertEquals(4096, VmConfigurator.parseSize("4k"));
    }

    @Test
    void mistakesAreOneLineErrors() {
        assertEquals("VM configuration has no 'name': add e.g. name = demo",
                assertThrows(VmException.class, () -> VmConfigurator.spec(Map.of("vcpus", 1))).getMessage());
        assertEquals("bad slot '0:1': accepted id:baseGfn:npages[:readonly][:dirtylog]",
                assertThrows(VmException.class, () -> VmConfigurator.parseSlots("0:1")).getMessage());
        assertEquals("bad slot flag 'ro': accepted readonly, dirtylog",
                assertThrows(VmException.class, () -> VmConfigurator.parseSlots("0:1:2:ro")).getMessage());
        assertEquals("bad npages 'lots': accepted decimal or 0x hex",
                assertThrows(VmException.class, () -> VmConfigurator.parseSlots("0:1:lots")).getMessage());
        assertEquals("bad memory size '12Q': accepted decimal or 0x hex".replace("memory size '12Q'", "memory size '12Q'"),
                assertThrows(VmException.class, () -> VmConfigurator.parseSize("12Q")).getMessage());
    }
}
