package org.shadowbox.command;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * The base of a Gogo command class: extend it and a command that Gogo cannot match to a
 * method (a missing or extra argument, an unknown option, {@code CMD --help} without the
 * positional arguments) gets the usage for {@code --help}, and otherwise one line that says
 * what was wrong and what is accepted, instead of Gogo's "Cannot coerce ..." text.
 *
 * <p>How Gogo 1.1.6 reaches it: among the public methods named after the command, Gogo picks
 * the one the arguments fit; when none does, it tries {@link #_main} with the command's name
 * first. The subclass is compiled with {@code -parameters} (positional arguments are named
 * after the Java parameters), declares its options before its positional parameters, and
 * gives every command {@code --help} and {@code --json}. The shell's own scopes (vm, slot, mem,
 * track, cpu, mmu, plugin) extend it too, so every command of every bundle reads the same.
 */
public abstract class CommandBase {
    private final String scope;

    protected CommandBase(String scope) {
        this.scope = scope;
    }

    /** Gogo's fallback for a command whose methods did not fit the arguments: see the class comment. */
    public Object _main(String command, String[] args) {
        List<Method> overloads = Usage.methods(getClass(), command);
        if (overloads.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (Method c : getClass().getMethods()) {
                if (c.getDeclaringClass() != Object.class && c.getDeclaringClass() != CommandBase.class
                        && !c.getName().startsWith("_") && !java.lang.reflect.Modifier.isStatic(c.getModifiers())) {
                    names.add(scope + ":" + c.getName());
                }
            }
            throw new BadArguments(scope + ":" + command + ": no such command; accepted "
                    + String.join(", ", names.stream().sorted().distinct().toList()));
        }
        for (String a : args) {
            if ("--help".equals(a)) {
                return Usage.render(scope, command, overloads);
            }
        }
        throw new BadArguments(Usage.diagnose(scope, command, overloads, args));
    }

    /**
     * A command's arguments did not fit it. Its {@code toString()} is its message alone: the
     * interactive shell prints a failure's {@code toString()}, and a user should read
     * "run:report: missing argument; usage: ...", not the exception's class name before it.
     */
    public static final class BadArguments extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public BadArguments(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    /** The {@code CMD --help} text of one of this class's commands (all its overloads). */
    protected final String usage(String command) {
        return Usage.render(scope, command, Usage.methods(getClass(), command));
    }
}
