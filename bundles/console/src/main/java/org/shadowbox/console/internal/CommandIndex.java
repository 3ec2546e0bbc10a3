package org.shadowbox.console.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The Gogo commands registered as services ({@code osgi.command.scope} and
 * {@code osgi.command.function}), each with the public methods Gogo would call and their
 * {@code @Descriptor} and {@code @Parameter} annotations. Help and completion read everything
 * from here, so a command a bundle adds later is described and completed with no extra work.
 */
final class CommandIndex {

    /** One parameter of a command method, as help and completion see it. */
    record Param(String name, String description, List<String> options, boolean flag) {
        boolean positional() {
            return options.isEmpty();
        }
    }

    /** One command: its scope and function, the bundle that registered it, its overloads (longest first). */
    record Command(String scope, String function, String bundle, List<Method> methods) {
        String name() {
            return scope + ":" + function;
        }

        /** Gogo's and Felix's own commands: listed by {@code help --all} only. */
        boolean internal() {
            return bundle.startsWith("org.apache.felix.");
        }

        /** The first {@code @Descriptor} of its methods, or "". */
        String description() {
            for (Method m : methods) {
                Descriptor d = m.getAnnotation(Descriptor.class);
                if (d != null) {
                    return d.value();
                }
            }
            return "";
        }

        /** True when it takes {@code --help} itself: its help is {@code CMD --help}'s text. */
        boolean takesHelp() {
            for (Method m : methods) {
                for (Param p : params(m)) {
                    if (p.options().contains("--help")) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private final BundleContext context;

    CommandIndex(BundleContext context) {
        this.context = context;
    }

    /** Every command, sorted by scope and function. */
    List<Command> all() {
        return find("(" + CommandProcessor.COMMAND_SCOPE + "=*)", null, null);
    }

    /** The commands named {@code name}: {@code scope:function}, or {@code function} in any scope. */
    List<Command> named(String name) {
        int colon = name.indexOf(':');
        String scope = colon < 0 ? null : name.substring(0, colon);
        String function = colon < 0 ? name : name.substring(colon + 1);
        if (function.isEmpty() || !function.matches("[\\w.-]+") || (scope != null && !scope.matches("[\\w.-]+"))) {
            return List.of();
        }
        String filter = "(&(" + CommandProcessor.COMMAND_FUNCTION + "=" + function + ")("
                + CommandProcessor.COMMAND_SCOPE + "=" + (scope == null ? "*" : scope) + "))";
        return find(filter, scope, function);
    }

    /**
     * The command {@code typed} resolves to the way Gogo resolves it: itself when scoped, else
     * the first scope of the session's {@code SCOPE} path that has it; null when none does.
     */
    Command resolve(CommandSession session, String typed) {
        List<Command> found = named(typed);
        if (found.isEmpty() || typed.indexOf(':') >= 0) {
            return found.isEmpty() ? null : found.get(0);
        }
        Object path = session == null ? null : session.get("SCOPE");
        for (String scope : String.valueOf(path == null ? "*" : path).split(":")) {
            for (Command c : found) {
                if (scope.equals("*") || scope.equals(c.scope())) {
                    return c;
                }
            }
        }
        return found.get(0);
    }

    private List<Command> find(String filter, String scope, String function) {
        List<Command> out = new ArrayList<>();
        ServiceReference<?>[] refs;
        try {
            refs = context.getServiceReferences((String) null, filter);
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return out;
        }
        if (refs == null) {
            return out;
        }
        for (ServiceReference<?> ref : refs) {
            String s = String.valueOf(ref.getProperty(CommandProcessor.COMMAND_SCOPE));
            if (scope != null && !scope.equals(s)) {
                continue;
            }
            Object service = null;
            try {
                service = context.getService(ref);
                if (service == null) {
                    continue;
                }
                String bundle = ref.getBundle() == null ? "" : String.valueOf(ref.getBundle().getSymbolicName());
                for (String f : functions(ref.getProperty(CommandProcessor.COMMAND_FUNCTION))) {
                    if (function == null || function.equals(f)) {
                        out.add(new Command(s, f, bundle, methods(service.getClass(), f)));
                    }
                }
            } catch (RuntimeException e) {
                // a command whose service cannot be got is left out; Gogo cannot call it either
            } finally {
                if (service != null) {
                    try {
                        context.ungetService(ref);
                    } catch (IllegalStateException e) {
                        // the bundle went meanwhile
                    }
                }
            }
        }
        out.sort(Comparator.comparing(Command::scope).thenComparing(Command::function));
        return out;
    }

    /** {@code osgi.command.function} as a list: it may be a String, a String[] or a collection. */
    static List<String> functions(Object property) {
        List<String> out = new ArrayList<>();
        if (property instanceof String[] a) {
            out.addAll(List.of(a));
        } else if (property instanceof Collection<?> c) {
            c.forEach(o -> out.add(String.valueOf(o)));
        } else if (property != null) {
            out.add(String.valueOf(property));
        }
        return out;
    }

    /** The public methods Gogo calls for {@code function} (its name in any case, or with _), longest first. */
    static List<Method> methods(Class<?> type, String function) {
        List<Method> out = new ArrayList<>();
        for (Method m : type.getMethods()) {
            String n = m.getName();
            if (!Modifier.isStatic(m.getModifiers()) && m.getDeclaringClass() != Object.class
                    && (n.equalsIgnoreCase(function) || n.equalsIgnoreCase("_" + function))) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparingInt((Method m) -> params(m).size()).reversed());
        return out;
    }

    /** A method's parameters as the user types them (the CommandSession Gogo passes is left out). */
    static List<Param> params(Method m) {
        List<Param> out = new ArrayList<>();
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            if (p.getType() == CommandSession.class) {
                continue;
            }
            Descriptor d = p.getAnnotation(Descriptor.class);
            Parameter g = p.getAnnotation(Parameter.class);
            String desc = d == null ? "" : d.value();
            String name = upperSnake(p.isNamePresent() ? p.getName() : p.getType().getSimpleName());
            if (g == null) {
                out.add(new Param(name, desc, List.of(), false));
            } else {
                out.add(new Param(name, desc, List.of(g.names()), !Parameter.UNSPECIFIED.equals(g.presentValue())));
            }
        }
        return out;
    }

    /** {@code baseGfn} to {@code BASE_GFN}. */
    static String upperSnake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace("[]", "...").toUpperCase(Locale.ROOT);
    }
}
