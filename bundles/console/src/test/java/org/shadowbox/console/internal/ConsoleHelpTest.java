package org.shadowbox.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.jline.reader.Candidate;
import org.junit.jupiter.api.Test;
import org.shadowbox.command.Interrupts;

/** Help text, did-you-mean and argument completion read from a command class's Gogo annotations. */
class ConsoleHelpTest {

    /** A command as a tracker bundle would write one. */
    public static final class Sample {
        @Descriptor("count writes to a page; the count is kept per VM")
        public String watch(
                @Descriptor("how many") @Parameter(names = "--limit", absentValue = "10") String limit,
                @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") String json,
                @Descriptor("the VM's name") String vm,
                @Descriptor("the guest frame") String baseGfn) {
            return "";
        }
    }

    private static CommandIndex.Command sample() {
        return new CommandIndex.Command("sample", "watch", "com.example", CommandIndex.methods(Sample.class, "watch"));
    }

    @Test
    void parametersComeFromTheAnnotationsAndTheJavaNames() {
        List<CommandIndex.Param> ps = CommandIndex.params(sample().methods().get(0));
        assertEquals(List.of("LIMIT", "JSON", "VM", "BASE_GFN"), ps.stream().map(CommandIndex.Param::name).toList());
        assertFalse(ps.get(0).flag());
        assertTrue(ps.get(1).flag());
        assertTrue(ps.get(2).positional());
    }

    @Test
    void helpTextHasKarafsSections() {
        String text = ConsoleCommands.render(sample());
        assertTrue(text.startsWith("DESCRIPTION\n        sample:watch\n"), text);
        assertTrue(text.contains("SYNTAX\n        sample:watch [--limit LIMIT] [--json] VM BASE_GFN\n"), text);
        assertTrue(text.contains("ARGUMENTS\n        VM\n                the VM's name"), text);
        assertTrue(text.contains("OPTIONS\n        --limit LIMIT\n                how many"), text);
        assertFalse(sample().takesHelp());
    }

    @Test
    void theListShowsTheFirstClause() {
        assertEquals("count writes to a page", ConsoleCommands.firstClause("count writes to a page; the count is kept"));
        assertEquals("flush (KVM_REQ_TLB_FLUSH; all vCPUs)", ConsoleCommands.firstClause("flush (KVM_REQ_TLB_FLUSH; all vCPUs)"));
        assertEquals("the seed's experiment", ConsoleCommands.firstClause("the seed's experiment: two VMs"));
        assertEquals("abcdefg...", ConsoleCommands.fit("abcdefghijklmnop", 10));
    }

    @Test
    void nearestNamesByEditDistance() {
        assertEquals(1, ConsoleCommands.distance("vm:lst", "vm:list"));
        assertEquals(2, ConsoleCommands.distance("lsit", "list"));
        assertEquals(0, ConsoleCommands.distance("", ""));
        assertEquals("a, b or c", ConsoleCommands.or(List.of("a", "b", "c")));
        assertEquals("a", ConsoleCommands.or(List.of("a")));
    }

    @Test
    void completionKnowsWhereTheWordIs() {
        ArgumentCompleter c = new ArgumentCompleter(null, null, null, () -> null);
        // a word starting with - : the options not given yet, with their descriptions
        List<String> options = values(c.candidates(sample(), List.of("--json"), "--"));
        assertEquals(List.of("--limit"), options);
        // after an option that takes a value: that option's value (LIMIT has no source: nothing)
        assertEquals(List.of(), values(c.candidates(sample(), List.of("--limit"), "")));
        // a flag takes no value: the next word is the first positional, a VM (none without a hypervisor)
        assertEquals(List.of(), values(c.candidates(sample(), List.of("--json"), "")));
    }

    @Test
    void ctrlCRunsOnlyTheHooksOfTheForegroundJob() {
        AtomicBoolean ran = new AtomicBoolean();
        try (Interrupts.Registration r = Interrupts.register(() -> ran.set(true))) {
            // outside a shell job nothing can press Ctrl-C for it
            assertFalse(Interrupts.interrupt(null));
            assertFalse(ran.get());
        }
    }

    private static List<String> values(List<Candidate> cs) {
        return cs.stream().map(Candidate::value).toList();
    }
}
