package org.shadowbox.command;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;

/**
 * {@code CMD --help} from a command's Gogo annotations, Karaf style (DESCRIPTION, SYNTAX,
 * ARGUMENTS, OPTIONS), and the one-line diagnosis of arguments no method takes. Positional
 * arguments are named after the Java parameter ({@code baseGfn} is {@code BASE_GFN}; the
 * calling bundle is compiled with {@code -parameters}), an option's value after its parameter
 * too ({@code --memory SIZE} for {@code String size}). Overloads of one command (say
 * {@code VM BASE_GFN NPAGES} and {@code VM SLOT_ID BASE_GFN NPAGES}) merge into one syntax,
 * where what only the longer form has is bracketed. One renderer for the shell's scopes and
 * every plugin's, so that all commands read the same.
 */
public final class Usage {
    private static final String I1 = "        ";
    private static final String I2 = I1 + I1;

    /** One parameter of a command method. */
    private record Param(String name, String description, String[] options, boolean flag, String absent) {
        boolean positional() {
            return options.length == 0;
        }

        /** {@code --memory SIZE}, {@code --json}, or {@code VM}. */
        String label() {
            if (positional()) {
                return name;
            }
            return String.join(", ", options) + (flag ? "" : " " + name);
        }
    }

    private Usage() {
    }

    /** The public instance methods of {@code type} that implement {@code command} (any case), the longest first. */
    public static List<Method> methods(Class<?> type, String command) {
        List<Method> out = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getName().equalsIgnoreCase(command) && !m.getName().startsWith("_")
                    && !Modifier.isStatic(m.getModifiers())) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparingInt((Method m) -> positionals(m).size()).reversed());
        return out;
    }

    /** The longest public method of {@code type} named {@code command} (any case), or null. */
    public static Method method(Class<?> type, String command) {
        List<Method> all = methods(type, command);
        return all.isEmpty() ? null : all.get(0);
    }

    private static List<Param> params(Method m) {
        List<Param> out = new ArrayList<>();
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            if (p.getType() == CommandSession.class) {
                continue;
            }
            Descriptor d = p.getAnnotation(Descriptor.class);
            Parameter g = p.getAnnotation(Parameter.class);
            String desc = d == null ? "" : d.value();
            String name = upperSnake(p.getName());
            if (g == null) {
                out.add(new Param(name, desc, new String[0], false, null));
            } else {
                boolean flag = !Parameter.UNSPECIFIED.equals(g.presentValue());
                out.add(new Param(name, desc, g.names(), flag, g.absentValue()));
            }
        }
        return out;
    }

    private static List<Param> positionals(Method m) {
        List<Param> out = new ArrayList<>();
        for (Param p : params(m)) {
            if (p.positional()) {
                out.add(p);
            }
        }
        return out;
    }

    /** Options of all overloads, by their first name, in declaration order. */
    private static Map<String, Param> options(List<Method> overloads) {
        Map<String, Param> out = new LinkedHashMap<>();
        for (Method m : overloads) {
            for (Param p : params(m)) {
                if (!p.positional()) {
                    out.putIfAbsent(p.options()[0], p);
                }
            }
        }
        return out;
    }

    /** {@code slot:add [OPTIONS] VM [SLOT_ID] BASE_GFN NPAGES}. */
    public static String syntax(String scope, String command, List<Method> overloads) {
        StringBuilder sb = new StringBuilder(scope).append(':').append(command);
        if (!options(overloads).isEmpty()) {
            sb.append(" [OPTIONS]");
        }
        for (Param p : positionals(overloads.get(0))) {
            boolean always = true;
            for (Method m : overloads) {
                always &= positionals(m).stream().anyMatch(q -> q.name().equals(p.name()));
            }
            sb.append(' ').append(always ? p.name() : "[" + p.name() + "]");
        }
        return sb.toString();
    }

    /** {@link #syntax(String, String, List)} of one method. */
    public static String syntax(String scope, Method m) {
        return syntax(scope, m.getName(), List.of(m));
    }

    /** The whole {@code CMD --help} text of {@code command}'s overloads. */
    public static String render(String scope, String command, List<Method> overloads) {
        List<String> out = new ArrayList<>();
        out.add("DESCRIPTION");
        out.add(I1 + scope + ":" + command);
        out.add("");
        Descriptor d = overloads.get(0).getAnnotation(Descriptor.class);
        out.add(I1 + (d == null ? "" : d.value()));
        out.add("");
        out.add("SYNTAX");
        out.add(I1 + syntax(scope, command, overloads));
        List<Param> args = positionals(overloads.get(0));
        if (!args.isEmpty()) {
            out.add("");
            out.add("ARGUMENTS");
            for (Param p : args) {
                out.add(I1 + p.name());
                out.add(I2 + p.description());
            }
        }
        Map<String, Param> options = options(overloads);
        if (!options.isEmpty()) {
            out.add("");
            out.add("OPTIONS");
            for (Param p : options.values()) {
                out.add(I1 + p.label());
                boolean showDefault = !p.flag() && p.absent() != null && !p.absent().isEmpty();
                out.add(I2 + p.description() + (showDefault ? " (default " + p.absent() + ")" : ""));
            }
        }
        return String.join("\n", out);
    }

    /** {@link #render(String, String, List)} of one method. */
    public static String render(String scope, Method m) {
        return render(scope, m.getName(), List.of(m));
    }

    /**
     * Why Gogo found no method of {@code command} that takes {@code args}, as one line: an
     * unknown option, an option without its value, or too few or too many arguments.
     */
    public static String diagnose(String scope, String command, List<Method> overloads, String[] args) {
        String name = scope + ":" + command;
        String usage = "; usage: " + syntax(scope, command, overloads) + " (" + name + " --help for details)";
        Map<String, Param> byName = new LinkedHashMap<>();
        for (Param p : options(overloads).values()) {
            for (String o : p.options()) {
                byName.put(o, p);
            }
        }
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = String.valueOf(args[i]);
            if (isOptionLike(a)) {
                Param p = byName.get(a);
                int eq = a.indexOf('=');
                if (p == null && eq > 0 && byName.containsKey(a.substring(0, eq))) {
                    return name + ": write '" + a.substring(0, eq) + " " + a.substring(eq + 1) + "', not '" + a + "'" + usage;
                }
                if (p == null) {
                    List<String> labels = new ArrayList<>();
                    options(overloads).values().forEach(o -> labels.add(o.label()));
                    return name + ": unknown option '" + a + "'; accepted " + String.join(", ", labels);
                }
                if (!p.flag()) {
                    if (i + 1 >= args.length) {
                        return name + ": option " + a + " needs a value (" + p.name() + ")" + usage;
                    }
                    i++;
                }
            } else {
                positional.add(a);
            }
        }
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (Method m : overloads) {
            int n = positionals(m).size();
            min = Math.min(min, n);
            max = Math.max(max, n);
        }
        if (positional.size() < min) {
            List<Param> need = positionals(overloads.get(overloads.size() - 1));
            List<String> missing = new ArrayList<>();
            for (Param p : need.subList(positional.size(), need.size())) {
                missing.add(p.name());
            }
            return name + ": missing " + String.join(" ", missing) + usage;
        }
        if (positional.size() > max) {
            return name + ": too many arguments (" + positional.size() + ", at most " + max + " accepted): '"
                    + positional.get(max) + "' is extra" + usage;
        }
        return name + ": cannot match the arguments " + String.join(" ", args) + usage;
    }

    /** {@link #diagnose(String, String, List, String[])} of one method. */
    public static String diagnose(String scope, Method m, String[] args) {
        return diagnose(scope, m.getName(), List.of(m), args);
    }

    /** {@code --json}, {@code -h}; but not {@code -1}. */
    private static boolean isOptionLike(String a) {
        return a.length() > 1 && a.charAt(0) == '-' && !Character.isDigit(a.charAt(1));
    }

    /** {@code baseGfn} to {@code BASE_GFN}, {@code cr0Value} to {@code CR0_VALUE}. */
    public static String upperSnake(String camel) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(camel.charAt(i - 1))) {
                sb.append('_');
            }
            sb.append(Character.toUpperCase(c));
        }
        return sb.toString().toUpperCase(Locale.ROOT);
    }
}
