package org.shadowbox.console.internal;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import org.apache.felix.gogo.runtime.CommandNotFoundException;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Function;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * The shell's own commands, scope {@code shadowbox} (first on the console's {@code SCOPE} path):
 * {@code help}, {@code man}, {@code exit}, and Gogo's {@code default} command, which Gogo calls
 * for a command it does not know and which answers with one line and the nearest names.
 *
 * <p>Help is Karaf's: {@code help} lists the commands of Shadowbox and its plugins by scope,
 * each with its one-line description ({@code --all} adds Gogo's and Felix's own); {@code help
 * CMD} and {@code man CMD} print what {@code CMD --help} prints, by running it when the command
 * takes {@code --help}, and otherwise a text of the same form read from its annotations.
 */
@Component(service = ConsoleCommands.class, property = {"osgi.command.scope=shadowbox", "osgi.command.function=help",
        "osgi.command.function=man", "osgi.command.function=exit", "osgi.command.function=default"})
public final class ConsoleCommands {
    private static final String I1 = "        ";
    /** Width of the command list when the terminal's is unknown (batch modes, transcripts). */
    static final int DEFAULT_WIDTH = 100;
    private static final String HELP = "the commands by scope, or the help of one command (what CMD --help prints)";

    private final BundleContext context;
    private final CommandIndex index;

    @Activate
    public ConsoleCommands(BundleContext context) {
        this.context = context;
        this.index = new CommandIndex(context);
    }

    /** A command Gogo does not know: one line, with the nearest names there are. */
    static final class UnknownCommand extends CommandNotFoundException {
        private static final long serialVersionUID = 1L;
        private final String message;

        UnknownCommand(String command, List<String> nearest) {
            super(command);
            this.message = "Command not found: " + command
                    + (nearest.isEmpty() ? " (help lists the commands)" : "; did you mean " + or(nearest) + "?");
        }

        @Override
        public String getMessage() {
            return message;
        }

        /** Gogo's console prints a failed command's exception with toString: the message alone. */
        @Override
        public String toString() {
            return message;
        }
    }

    @Descriptor(HELP)
    public String help(CommandSession session,
            @Descriptor("list Gogo's and Felix's own commands too")
            @Parameter(names = "--all", presentValue = "true", absentValue = "false") boolean all) {
        return list(session, all);
    }

    @Descriptor(HELP)
    public String help(CommandSession session, @Descriptor("the command, scope:name or name") String command)
            throws Exception {
        if ("--all".equals(command)) {
            return list(session, true);
        }
        return describe(session, command);
    }

    @Descriptor("the help of one command: what CMD --help prints (the same as help CMD)")
    public String man(CommandSession session, @Descriptor("the command, scope:name or name") String command)
            throws Exception {
        return describe(session, command);
    }

    @Descriptor("leave Shadowbox: stops every VM and the framework (Ctrl-D does the same)")
    public String exit(CommandSession session) {
        // Gogo's loop prints the next prompt unless the shell bundle has been stopped by then,
        // which the framework's stop does on another thread: no prompt after "stopping".
        session.put("prompt", "");
        Thread t = new Thread(() -> {
            try {
                context.getBundle(0).stop();
            } catch (BundleException | IllegalStateException e) {
                // already stopping
            }
        }, "shadowbox-exit");
        t.start();
        return "stopping Shadowbox";
    }

    /** Gogo's fallback for an unknown command (the name first, then its arguments). */
    @Descriptor("not a command: what Gogo calls for a command it does not know")
    public Object _default(CommandSession session, Object[] words) {
        String typed = words.length == 0 ? "" : String.valueOf(words[0]);
        throw new UnknownCommand(typed, nearest(typed));
    }

    String list(CommandSession session, boolean all) {
        int width = width(session);
        List<CommandIndex.Command> commands = new ArrayList<>();
        for (CommandIndex.Command c : index.all()) {
            if ((all || !c.internal()) && !c.function().equals("default")) {
                commands.add(c);
            }
        }
        int col = 0;
        for (CommandIndex.Command c : commands) {
            col = Math.max(col, c.name().length());
        }
        List<String> out = new ArrayList<>();
        out.add(all ? "All commands, by scope (help CMD, man CMD or CMD --help for one):"
                : "Commands, by scope (help CMD, man CMD or CMD --help for one; help --all adds Gogo's and Felix's own):");
        String scope = null;
        for (CommandIndex.Command c : commands) {
            if (!c.scope().equals(scope)) {
                scope = c.scope();
                out.add("");
                out.add(scope);
            }
            String line = String.format(Locale.ROOT, "  %-" + col + "s  %s", c.name(), firstClause(c.description()));
            out.add(fit(line, width));
        }
        return String.join("\n", out);
    }

    String describe(CommandSession session, String typed) throws Exception {
        String name = typed.trim();
        List<CommandIndex.Command> found = index.named(name);
        if (found.isEmpty()) {
            throw new UnknownCommand(name, nearest(name));
        }
        CommandIndex.Command c = found.get(0);
        if (found.size() > 1) {
            Set<String> scopes = new LinkedHashSet<>();
            found.forEach(f -> scopes.add(f.name()));
            if (scopes.size() > 1) {
                return name + " is in several scopes: " + String.join(", ", scopes) + " (help SCOPE:" + name
                        + " for one)";
            }
        }
        if (c.takesHelp()) {
            return String.valueOf(session.execute(c.name() + " --help"));
        }
        return render(c);
    }

    /** DESCRIPTION, SYNTAX, ARGUMENTS, OPTIONS from the annotations, for a command without --help. */
    static String render(CommandIndex.Command c) {
        List<String> out = new ArrayList<>();
        out.add("DESCRIPTION");
        out.add(I1 + c.name());
        if (!c.description().isEmpty()) {
            out.add("");
            out.add(I1 + c.description());
        }
        out.add("");
        out.add("SYNTAX");
        List<String> args = new ArrayList<>();
        List<String> opts = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (Method m : c.methods()) {
            StringBuilder syntax = new StringBuilder(c.name());
            for (CommandIndex.Param p : CommandIndex.params(m)) {
                if (p.positional()) {
                    syntax.append(' ').append(p.name());
                    if (seen.add("a" + p.name())) {
                        args.add(I1 + p.name());
                        args.add(I1 + I1 + p.description());
                    }
                } else {
                    String label = String.join(", ", p.options()) + (p.flag() ? "" : " " + p.name());
                    syntax.append(" [").append(label).append(']');
                    if (seen.add("o" + label)) {
                        opts.add(I1 + label);
                        opts.add(I1 + I1 + p.description());
                    }
                }
            }
            out.add(I1 + syntax);
        }
        if (!args.isEmpty()) {
            out.add("");
            out.add("ARGUMENTS");
            out.addAll(args);
        }
        if (!opts.isEmpty()) {
            out.add("");
            out.add("OPTIONS");
            out.addAll(opts);
        }
        return String.join("\n", out);
    }

    /** Up to three command names nearest to {@code typed}: within two edits, or starting with it. */
    List<String> nearest(String typed) {
        String t = typed.toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            return List.of();
        }
        Set<String> names = new TreeSet<>();
        for (CommandIndex.Command c : index.all()) {
            if (!c.function().equals("default")) {
                names.add(c.name());
                names.add(c.function());
            }
        }
        int limit = t.length() <= 4 ? 1 : 2;
        record Near(String name, int distance) {
        }
        List<Near> near = new ArrayList<>();
        for (String n : names) {
            String l = n.toLowerCase(Locale.ROOT);
            int d = distance(t, l);
            if (d <= limit) {
                near.add(new Near(n, d));
            } else if (t.length() >= 3 && l.startsWith(t)) {
                near.add(new Near(n, limit + 1));
            } else if (t.indexOf(':') < 0 && l.indexOf(':') > 0 && distance(t, l.substring(l.indexOf(':') + 1)) <= limit) {
                near.add(new Near(n, limit + 1)); // a function of any scope: "lsit" finds vm:list
            }
        }
        near.sort(Comparator.comparingInt(Near::distance).thenComparing(Near::name));
        List<String> out = new ArrayList<>();
        for (Near n : near) {
            if (out.size() < 3) {
                out.add(n.name());
            }
        }
        return out;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] swap = prev;
            prev = cur;
            cur = swap;
        }
        return prev[b.length()];
    }

    /** {@code a}, {@code a or b}, {@code a, b or c}. */
    static String or(List<String> names) {
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    /** A description's first clause: up to its first ';', or ':' followed by a space. */
    static String firstClause(String description) {
        String d = description.strip();
        int depth = 0;
        for (int i = 0; i < d.length(); i++) {
            char ch = d.charAt(i);
            if (ch == '(') {
                depth++;
            } else if (ch == ')') {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && (ch == ';' || (ch == ':' && i + 1 < d.length() && d.charAt(i + 1) == ' '))) {
                return d.substring(0, i).strip();
            }
        }
        return d;
    }

    /** The line cut to {@code width} columns, with "..." where it was cut. */
    static String fit(String line, int width) {
        return line.length() <= width ? line : line.substring(0, Math.max(0, width - 3)) + "...";
    }

    /** The terminal's width in the interactive console, else {@link #DEFAULT_WIDTH}. */
    static int width(CommandSession session) {
        Object columns = session == null ? null : session.get("#COLUMNS");
        if (columns instanceof Function f) {
            try {
                columns = f.execute(session, List.of());
            } catch (Exception e) {
                columns = null;
            }
        }
        if (columns instanceof Number n && n.intValue() >= 40 && !isBatch(session)) {
            return n.intValue() - 1;
        }
        return DEFAULT_WIDTH;
    }

    private static boolean isBatch(CommandSession session) {
        return session.get(".reader") == null;
    }
}
