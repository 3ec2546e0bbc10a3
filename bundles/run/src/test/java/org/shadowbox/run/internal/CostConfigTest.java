package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;
import org.shadowbox.vm.VmException;

/** A cost configuration with an unknown key or a bad figure is refused in one line naming the key; the previous model stays. */
class CostConfigTest {
    /** A typed configuration as Configuration Admin would build it from {@code props} (keys with dots). */
    private static CostConfig typed(Map<String, Object> props) {
        return (CostConfig) Proxy.newProxyInstance(CostConfig.class.getClassLoader(), new Class<?>[] {CostConfig.class},
                (proxy, method, args) -> {
                    Object v = props.get(method.getName().replace('_', '.'));
                    return v != null ? Integer.valueOf(v.toString()) : method.getDefaultValue();
                });
    }

    @Test
    void unknownKeysAndBadFiguresAreRefusedAndThePreviousModelStays() {
        SimRig rig = new SimRig();
        RunCommands cmd = new RunCommands(rig.hv, rig.sim, CostModel.defaults(), null);
        Map<String, Object> good = new HashMap<>(Map.of("service.pid", "org.shadowbox.cost",
                "felix.fileinstall.filename", "file:/x/org.shadowbox.cost.cfg", "ipi.wait", "5000"));
        cmd.modified(typed(good), good);
        CostModel before = cmd.model();
        assertEquals(5000, before.cycles(Item.IPI_WAIT), "a good configuration is taken");

        Map<String, Object> unknown = new HashMap<>(good);
        unknown.put("tlb.flush.remote.target", "2000"); // the key issue 10 removed
        unknown.put("ipi.wait", "6000");
        cmd.modified(typed(unknown), unknown);
        assertSame(before, cmd.model(), "the previous model stays in force");
        String out = cmd.compare("1", "", "shadow", "1", "2", "64M", "0", "true", "false", "false", "kernel-build");
        String first = out.lines().findFirst().orElseThrow();
        assertTrue(first.startsWith("configuration org.shadowbox.cost: unknown key 'tlb.flush.remote.target'; accepted clock.mhz,"),
                first);
        assertTrue(first.endsWith("; the previous cost model stays in force"), first);

        Map<String, Object> negative = new HashMap<>(good);
        negative.put("sp.zap", "-5");
        assertEquals("configuration org.shadowbox.cost: bad sp.zap '-5': accepted a whole number of 0 or more cycles",
                assertThrows(VmException.class, () -> CostModel.validate(negative)).getMessage());
        cmd.modified(typed(good), negative);
        assertSame(before, cmd.model());
        Map<String, Object> clock = Map.of("clock.mhz", "0");
        assertEquals("configuration org.shadowbox.cost: bad clock.mhz '0': accepted a whole number of 1 or more (MHz)",
                assertThrows(VmException.class, () -> CostModel.validate(clock)).getMessage());

        cmd.modified(typed(good), good);
        assertEquals(5000, cmd.model().cycles(Item.IPI_WAIT));
        String clean = cmd.compare("1", "", "shadow", "1", "2", "64M", "0", "true", "false", "false", "kernel-build");
        assertTrue(clean.startsWith("predicted before the run"), "the warning is gone once a good configuration is taken: " + clean);
    }
}
