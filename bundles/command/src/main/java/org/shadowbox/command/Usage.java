package org.shadowbox.command;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;

/**
 * {@code CMD --help} (DESCRIPTION, SYNTAX, ARGUMENTS, OPTIONS) from a command method's Gogo
 * annotations, and the one-line diagnosis of arguments no method takes. The calling bundle
 * must be compiled with {@code -parameters}: positional arguments are named after the Java parameters.
 */
public final class Usage {
    private static final String I1 = "        ";

    private Usage() {
    }

    /** The public method of {@code type} named {@code command} (any case), or null. */
    public static Method method(Class<?> type, String command) {
        for (Method m : type.getMethods()) {
            if (m.getName().equalsIgnoreCase(command) && !m.getName().startsWith("_")) {
                return m;
            }
        }
        return null;
    }

    private static String upper(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /** One line, {@code scope:command ARG [--opt VALUE] [--flag]}. */
    public static String syntax(String scope, Method m) {
        StringBuilder sb = new StringBuilder(scope).append(':').append(m.getName());
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Parameter g = p.getAnnotation(Parameter.class);
            if (g == null) {
                sb.append(' ').append(upper(p.getName()));
            } else if (Parameter.UNSPECIFIED.equals(g.presentValue())) {
                sb.append(" [").append(g.names()[0]).append(' ').append(upper(p.getName())).append(']');
            } else {
                sb.append(" [").append(g.names()[0]).append(']');
            }
        }
        return sb.toString();
    }

    /** The whole {@code CMD --help} text: DESCRIPTION, SYNTAX, ARGUMENTS, OPTIONS. */
    public static String render(String scope, Method m) {
        List<String> out = new ArrayList<>();
        out.add("DESCRIPTION");
        out.add(I1 + scope + ":" + m.getName());
        out.add("");
        out.add(I1 + m.getAnnotation(Descriptor.class).value());
        out.add("");
        out.add("SYNTAX");
        out.add(I1 + syntax(scope, m));
        List<String> args = new ArrayList<>();
        List<String> opts = new ArrayList<>();
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Parameter g = p.getAnnotation(Parameter.class);
            String d = p.getAnnotation(Descriptor.class).value();
            if (g == null) {
                args.add(I1 + upper(p.getName()));
                args.add(I1 + I1 + d);
            } else {
                boolean flag = !Parameter.UNSPECIFIED.equals(g.presentValue());
                opts.add(I1 + g.names()[0] + (flag ? "" : " " + upper(p.getName())));
                opts.add(I1 + I1 + d);
            }
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

    /** One line: an unknown option, an option without its value, or a wrong number of arguments. */
    public static String diagnose(String scope, Method m, String[] args) {
        String name = scope + ":" + m.getName();
        String usage = "; usage: " + syntax(scope, m) + " (" + name + " --help for details)";
        List<String> options = new ArrayList<>();
        int positionals = 0;
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Parameter g = p.getAnnotation(Parameter.class);
            if (g == null) {
                positionals++;
            } else {
                options.add(g.names()[0]);
            }
        }
        int given = 0;
        for (int i = 0; i < args.length; i++) {
            String a = String.valueOf(args[i]);
            if (a.length() > 1 && a.startsWith("-") && !Character.isDigit(a.charAt(1))) {
                java.lang.reflect.Parameter p = option(m, a);
                if (p == null) {
                    return name + ": unknown option '" + a + "'; accepted " + String.join(", ", options);
                }
                if (Parameter.UNSPECIFIED.equals(p.getAnnotation(Parameter.class).presentValue())) {
                    if (i + 1 >= args.length) {
                        return name + ": option " + a + " needs a value (" + upper(p.getName()) + ")" + usage;
                    }
                    i++;
                }
            } else {
                given++;
            }
        }
        if (given < positionals) {
            return name + ": missing argument" + usage;
        }
        return name + ": too many arguments (" + given + ", " + positionals + " accepted)" + usage;
    }

    private static java.lang.reflect.Parameter option(Method m, String a) {
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Parameter g = p.getAnnotation(Parameter.class);
            if (g != null && List.of(g.names()).contains(a)) {
                return p;
            }
        }
        return null;
    }
}
