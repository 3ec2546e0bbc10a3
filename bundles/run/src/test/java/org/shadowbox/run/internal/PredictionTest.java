package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;

/** {@code --predict}'s arithmetic, checked by hand on small cases, and a calibration that brackets its full run. */
class PredictionTest {
    private static long[] counts(Object... itemAndCount) {
        long[] c = new long[Item.values().length];
        for (int i = 0; i < itemAndCount.length; i += 2) {
            c[((Item) itemAndCount[i]).ordinal()] = ((Number) itemAndCount[i + 1]).longValue();
        }
        return c;
    }

    @Test
    void theIntervalOfATwoItemCaseComputedByHand() {
        // before: 10 exits and 2 IPI waits; after: 10 exits and 1 IPI wait. change = -w / (10 e + 2 w)
        // with e in vm.exit's 800..1500 and w in ipi.wait's 3000..9000.
        long[] before = counts(Item.VM_EXIT, 10, Item.IPI_WAIT, 2);
        long[] after = counts(Item.VM_EXIT, 10, Item.IPI_WAIT, 1);
        Prediction.Interval i = Prediction.interval(before, after, CostModel.defaults());
        // most negative: w high, e low: -9000 / (8000 + 18000); least: w low, e high: -3000 / (15000 + 6000)
        assertEquals(-9000.0 / 26000 * 100, i.low(), 1e-9);
        assertEquals(-3000.0 / 21000 * 100, i.high(), 1e-9);
        // at the defaults (e 1200, w 4000): -4000 / 20000
        assertEquals(-20.0, Prediction.change(before, after, Prediction.figures(CostModel.defaults())), 1e-9);
        assertEquals(Item.VM_EXIT.low, 800);
        assertEquals(Item.IPI_WAIT.high, 9000);
    }

    @Test
    void anItemBothPoliciesDoAlikeStillMovesTheChangeThroughTheDenominator() {
        // before: 100 accesses, 3 gfn_to_pfn; after: 100 accesses, 1 gfn_to_pfn.
        // change = -2 g / (100 a + 3 g), a in 2..5, g in 100..500.
        long[] before = counts(Item.GUEST_ACCESS, 100, Item.GFN_TO_PFN, 3);
        long[] after = counts(Item.GUEST_ACCESS, 100, Item.GFN_TO_PFN, 1);
        Prediction.Interval i = Prediction.interval(before, after, CostModel.defaults());
        assertEquals(-1000.0 / (200 + 1500) * 100, i.low(), 1e-9, "g high, a low");
        assertEquals(-200.0 / (500 + 300) * 100, i.high(), 1e-9, "g low, a high");
    }

    @Test
    void equalCountsPredictNoChange() {
        long[] same = counts(Item.VM_EXIT, 7, Item.EMULATION, 3);
        Prediction.Interval i = Prediction.interval(same, same.clone(), CostModel.defaults());
        assertEquals(0, i.low(), 1e-12);
        assertEquals(0, i.high(), 1e-12);
    }

    @Test
    void aCalibrationBracketsItsFullRunAndTheSensitivityIsSorted() {
        SimRig rig = new SimRig();
        CostModel m = CostModel.defaults();
        Prediction p = rig.sim.predict("kernel-build", 4, 1, "shadow", 1, 4, 256L << 20, 8, m, null);
        assertEquals(1, p.calibrationScale());
        assertEquals(2, p.calibrationWarmup());
        assertTrue(p.sys().low() <= p.sysAtDefaults() && p.sysAtDefaults() <= p.sys().high(), p.toString());
        for (int i = 1; i < p.sensitivity().size(); i++) {
            assertTrue(p.sensitivity().get(i - 1).swing() >= p.sensitivity().get(i).swing());
        }
        for (Prediction.Sensitivity s : p.sensitivity()) {
            assertTrue(p.sys().contains(s.sysAtLow()) && p.sys().contains(s.sysAtHigh()), "one figure moved stays inside: " + s);
        }
        Comparison full = rig.sim.compare("kernel-build", 4, 1, "shadow", 1, 4, 256L << 20, 8, m, null);
        String verdict = Prediction.verdict(p, full);
        assertTrue(verdict.startsWith("measured against predicted: sys "), verdict);
        String text = ReportText.text(full, List.of(), p);
        assertTrue(text.contains("predicted before the run") && text.contains(verdict), text);
        String svg = ReportChart.svg(full, p);
        assertTrue(svg.contains("predicted interval") && svg.endsWith("</svg>\n"), svg);
    }
}
