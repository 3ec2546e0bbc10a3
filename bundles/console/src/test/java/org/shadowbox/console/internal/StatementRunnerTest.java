package org.shadowbox.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Process;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.vm.VmException;

/** Runs statements through a real Gogo command processor, outside a framework. */
class StatementRunnerTest {

    /** Commands in scope "t"; {@code calls} records what ran. */
    public static final class Commands {
        final List<String> calls = new ArrayList<>();

        public String hello(String name) {
            calls.add("hello " + name);
            return "hello " + name;
        }

        public List<String> pair() {
            calls.add("pair");
            return List.of("left", "right");
        }

        public void quiet() {
            calls.add("quiet");
        }

        public Object gfn(String value) {
            calls.add("gfn " + value);
            throw new VmException("bad gfn '" + value + "': accepted 0x hex or decimal below 0x400000000");
        }

        public Object twoLines() {
            calls.add("twoLines");
            throw new IllegalStateException("first\n  second");
        }

        public Object noMessage() {
            calls.add("noMessage");
            throw new IllegalStateException();
        }

        /** Fails like Gogo's built-ins do: a message on stderr and a status, no exception. */
        public void status(int code) {
            calls.add("status " + code);
            Process process = Process.Utils.current();
            process.err().println("status command failed");
            process.error(code);
        }
    }

    private ThreadIOImpl threadIO;
    private CommandProcessorImpl processor;
    private CommandSession session;
    private final Commands commands = new Commands();
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @BeforeEach
    void startGogo() {
        threadIO = new ThreadIOImpl();
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        processor.addCommand("t", commands);
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), out, err);
    }

    @AfterEach
    void stopGogo() {
        session.close();
        processor.stop();
        threadIO.stop();
    }

    private int run(String program, String fileLabel, boolean trace) {
        return new StatementRunner(out, err, trace, fileLabel).runAll(session, Statements.split(program));
    }

    private String stdout() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void printsEachResultAsTheShellFormatsIt() throws Exception {
        int code = run("t:hello world; t:pair\nt:quiet", null, false);

        assertEquals(0, code, stderr());
        String expected = session.format("hello world", Converter.INSPECT) + System.lineSeparator()
                + session.format(List.of("left", "right"), Converter.INSPECT) + System.lineSeparator();
        assertEquals(expected, stdout());
        assertEquals("", stderr());
        assertEquals(List.of("hello world", "pair", "quiet"), commands.calls);
    }

    @Test
    void theLastResultIsUnderscore() throws Exception {
        run("t:hello a", null, false);
        assertEquals("hello a", session.get("_"));
    }

    @Test
    void formatOffPrintsNothing() {
        // As the interactive shell: Boolean false in .Gogo.format turns printing off (a
        // typed '.Gogo.format = false' stores Gogo's token "false", which does not).
        session.put(".Gogo.format", Boolean.FALSE);
        int code = run("t:hello x", null, false);
        assertEquals(0, code);
        assertEquals("", stdout());
        assertEquals(List.of("hello x"), commands.calls);
    }

    @Test
    void stopsAtTheFirstFailureWithOneLine() {
        int code = run("t:hello a; t:gfn 0xzz; t:hello never", null, false);

        assertEquals(1, code);
        assertEquals(List.of("hello a", "gfn 0xzz"), commands.calls);
        assertEquals("shadowbox: t:gfn 0xzz: bad gfn '0xzz': accepted 0x hex or decimal below 0x400000000"
                + System.lineSeparator(), stderr());
    }

    @Test
    void aScriptFailureNamesFileAndLine() {
        int code = run("# comment\nt:hello a\n\nt:gfn 7\nt:hello never", "boot.gosh", false);

        assertEquals(1, code);
        assertTrue(stderr().startsWith("shadowbox: boot.gosh:4: t:gfn 7: bad gfn '7'"), stderr());
    }

    @Test
    void messagesAndStatementsAreFlattenedToOneLine() {
        run("t:hello (\n  t:twoLines\n)", null, false);
        assertEquals("shadowbox: t:hello ( t:twoLines ): first second" + System.lineSeparator(), stderr());
    }

    @Test
    void anExceptionWithoutMessageIsNamedByItsClass() {
        run("t:noMessage", null, false);
        assertEquals("shadowbox: t:noMessage: java.lang.IllegalStateException" + System.lineSeparator(), stderr());
    }

    @Test
    void longStatementsAreShortened() {
        String quoted = StatementRunner.quote("t:hello " + "x".repeat(100));
        assertEquals(StatementRunner.QUOTE_LIMIT, quoted.length());
        assertTrue(quoted.endsWith("..."), quoted);
    }

    @Test
    void traceAddsTheStackTrace() {
        run("t:gfn 1", null, true);
        String[] lines = stderr().split("\\R");
        assertTrue(lines[0].startsWith("shadowbox: t:gfn 1: bad gfn"), lines[0]);
        assertTrue(stderr().contains("\tat "), stderr());
    }

    @Test
    void aNonZeroJobStatusIsAFailure() {
        int code = run("t:status 3; t:hello never", null, false);

        assertEquals(1, code);
        assertEquals(List.of("status 3"), commands.calls);
        assertEquals("status command failed" + System.lineSeparator()
                + "shadowbox: t:status 3: failed with status 3" + System.lineSeparator(), stderr());
    }

    @Test
    void aStatusThatOrRecoversFromIsNoFailure() {
        int code = run("t:status 2 || t:hello recovered; t:status 0 && t:hello next", null, false);

        assertEquals(0, code, stderr());
        assertEquals(List.of("status 2", "hello recovered", "status 0", "hello next"), commands.calls);
    }
}
