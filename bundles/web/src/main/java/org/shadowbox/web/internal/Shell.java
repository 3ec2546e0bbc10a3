package org.shadowbox.web.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.shadowbox.vm.VmException;

/**
 * Runs the shell's own commands with {@code --json}, so that the web view shows exactly the
 * records {@code vm:list}, {@code mmu:pages} and the others return, encoded as they encode
 * them. Each call gets a session of its own with no input. Arguments are checked against
 * {@link #WORD} before they reach Gogo, so nothing a request carries is parsed as Gogo syntax.
 */
final class Shell {
    /** What an argument may be: a VM name (1 to 32 of A-Z a-z 0-9 _ . -), a number, a mode, a flag. */
    static final Pattern WORD = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    private final CommandProcessor processor;

    Shell(CommandProcessor processor) {
        this.processor = processor;
    }

    /**
     * The result of {@code command args...} as Gogo returns it (a JSON String for the
     * {@code --json} commands). A {@link VmException} (bad input: nothing changed) becomes a
     * 400 with its one line; a command that does not exist, a 503.
     */
    String json(String command, String... args) {
        StringBuilder line = new StringBuilder(command);
        for (String a : args) {
            if (!WORD.matcher(a).matches()) {
                throw HttpError.badRequest("bad argument '" + a + "': accepted 1 to 64 of A-Z a-z 0-9 _ . : -");
            }
            line.append(' ').append(a);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(new ByteArrayInputStream(new byte[0]), ps, ps);
        try {
            Object r = session.execute(line);
            if (r == null) {
                return out.toString(StandardCharsets.UTF_8).trim();
            }
            return r.toString();
        } catch (Exception e) {
            throw translate(command, e);
        } finally {
            session.close();
        }
    }

    /** The one-line error a failed command becomes; never a stack trace. */
    static HttpError translate(String command, Throwable e) {
        Throwable t = e;
        while (t instanceof InvocationTargetException && t.getCause() != null) {
            t = t.getCause();
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof VmException) {
                return HttpError.badRequest(oneLine(c.getMessage()));
            }
        }
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof IllegalArgumentException && msg.startsWith("Command not found")) {
            return new HttpError(503, command + " is unavailable: its bundle is not running");
        }
        return new HttpError(500, command + " failed: " + oneLine(msg));
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }
}
