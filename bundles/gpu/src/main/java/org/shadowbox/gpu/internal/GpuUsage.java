package org.shadowbox.gpu.internal;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;

/** {@code gpu:CMD --help}, Karaf style (DESCRIPTION, SYNTAX, ARGUMENTS, OPTIONS), read from the Gogo annotations. */
final class GpuUsage {
    private GpuUsage() {
    }

    static String of(Class<?> type, String command) {
        for (Method m : type.getMethods()) {
            if (m.getName().equals(command)) {
                return render(command, m);
            }
        }
        throw new IllegalArgumentException("no command " + command);
    }

    private static String render(String command, Method m) {
        List<String> args = new ArrayList<>();
        List<String> options = new ArrayList<>();
        StringBuilder syntax = new StringBuilder("gpu:" + command);
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Descriptor d = p.getAnnotation(Descriptor.class);
            Parameter o = p.getAnnotation(Parameter.class);
            String desc = d == null ? "" : d.value();
            if (o != null) {
                syntax.append(" [").append(o.names()[0]).append(']');
                options.add("        " + String.join(", ", o.names()) + "\n                " + desc);
            } else {
                String name = p.getName().replaceAll("([A-Z])", "_$1").toUpperCase(Locale.ROOT);
                syntax.append(' ').append(name);
                args.add("        " + name + "\n                " + desc);
            }
        }
        Descriptor d = m.getAnnotation(Descriptor.class);
        StringBuilder sb = new StringBuilder("DESCRIPTION\n        gpu:").append(command).append("\n\n        ")
                .append(d == null ? "" : d.value()).append("\n\nSYNTAX\n        ").append(syntax);
        if (!args.isEmpty()) {
            sb.append("\n\nARGUMENTS\n").append(String.join("\n", args));
        }
        return sb.append("\n\nOPTIONS\n").append(String.join("\n", options)).toString();
    }
}
