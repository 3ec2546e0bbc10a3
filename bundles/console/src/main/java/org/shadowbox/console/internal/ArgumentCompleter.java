package org.shadowbox.console.internal;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandSession;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * TAB after a command name: its options and the values of its arguments, read from the
 * command's own Gogo metadata ({@link CommandIndex}), so that a command a tracker bundle adds
 * completes with no extra work. The word's place on the line says what it is: after an option
 * that takes a value, that option's value; a word starting with {@code -}, an option not yet
 * given; else the positional argument of that index. Values come from what the argument is
 * called ({@code VM}, {@code VCPU}, {@code SLOT}, {@code SCENARIO}, {@code BUNDLE}, {@code REG},
 * a run's {@code ID}): VM names, the vCPUs and slots of the VM on the line, scenario names
 * ({@code run:list --json}), run ids ({@code run:jobs --json}), bundle symbolic names, register
 * names. The command word itself, and lines this cannot read, go to the completer it wraps.
 */
final class ArgumentCompleter implements Completer {
    private static final Pattern NAME = Pattern.compile("\"name\":\"([^\"]+)\"");
    private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");

    private final Completer next;
    private final CommandSession session;
    private final BundleContext context;
    private final Supplier<Hypervisor> hypervisor;
    private final CommandIndex index;

    ArgumentCompleter(Completer next, CommandSession session, BundleContext context, Supplier<Hypervisor> hypervisor) {
        this.next = next;
        this.session = session;
        this.context = context;
        this.hypervisor = hypervisor;
        this.index = new CommandIndex(context);
    }

    Completer next() {
        return next;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        if (line.wordIndex() > 0) {
            try {
                List<String> words = line.words();
                CommandIndex.Command c = index.resolve(session, words.get(0));
                if (c != null && !c.methods().isEmpty()) {
                    candidates.addAll(candidates(c, words.subList(1, line.wordIndex()), line.word()));
                    return;
                }
            } catch (RuntimeException e) {
                // an argument's values could not be read: complete as Gogo would
            }
        }
        if (next != null) {
            next.complete(reader, line, candidates);
        }
    }

    /** The candidates for the word after {@code before} (the arguments typed before it). */
    List<Candidate> candidates(CommandIndex.Command c, List<String> before, String word) {
        Map<String, CommandIndex.Param> options = new LinkedHashMap<>();
        for (Method m : c.methods()) {
            for (CommandIndex.Param p : CommandIndex.params(m)) {
                for (String o : p.options()) {
                    options.putIfAbsent(o, p);
                }
            }
        }
        int positional = 0;
        CommandIndex.Param pending = null;
        for (String w : before) {
            if (pending != null) {
                pending = null;
            } else if (options.containsKey(w)) {
                pending = options.get(w).flag() ? null : options.get(w);
            } else {
                positional++;
            }
        }
        List<Candidate> out = new ArrayList<>();
        if (pending != null) {
            for (String v : values(c, pending, before)) {
                out.add(new Candidate(v, v, null, null, null, null, true));
            }
            return out;
        }
        if (word.startsWith("-")) {
            for (Map.Entry<String, CommandIndex.Param> e : options.entrySet()) {
                if (!before.contains(e.getKey()) && e.getKey().startsWith("--")) {
                    out.add(new Candidate(e.getKey(), e.getKey(), null, e.getValue().description(), null, null, true));
                }
            }
            return out;
        }
        Set<String> values = new LinkedHashSet<>();
        for (Method m : c.methods()) {
            List<CommandIndex.Param> args = new ArrayList<>();
            for (CommandIndex.Param p : CommandIndex.params(m)) {
                if (p.positional()) {
                    args.add(p);
                }
            }
            if (positional < args.size()) {
                values.addAll(values(c, args.get(positional), before));
            }
        }
        for (String v : values) {
            out.add(new Candidate(v, v, null, null, null, null, true));
        }
        return out;
    }

    /** The values an argument can take, by what it is called; none when its name says nothing. */
    List<String> values(CommandIndex.Command c, CommandIndex.Param p, List<String> before) {
        String name = p.name();
        if (name.matches("ARG\\d+") || name.equals("STRING")) {
            name = p.description().matches("(?i).*\\bVM\\b.*") ? "VM" : name; // compiled without -parameters
        }
        switch (name) {
            case "VM":
                return vms();
            case "VCPU":
                return vcpus(before);
            case "SLOT", "SLOT_ID":
                return slots(before);
            case "SCENARIO":
                return fromJson("run:list --json", NAME);
            case "BUNDLE", "BUNDLES":
                return bundles();
            case "REG", "REGISTER":
                List<String> regs = new ArrayList<>();
                for (Register r : Register.values()) {
                    regs.add(r.name().toLowerCase(Locale.ROOT));
                }
                return regs;
            case "ID", "RUN", "RUN_ID":
                return c.scope().equals("run") ? fromJson("run:jobs --json", ID) : List.of();
            default:
                return List.of();
        }
    }

    private Hypervisor hypervisor() {
        return hypervisor.get();
    }

    private List<String> vms() {
        List<String> out = new ArrayList<>();
        Hypervisor h = hypervisor();
        if (h != null) {
            h.vms().forEach(v -> out.add(v.name()));
        }
        return out;
    }

    /** The VM named on the line, or null. */
    private Vm vmOnLine(List<String> before) {
        Hypervisor h = hypervisor();
        if (h == null) {
            return null;
        }
        for (String w : before) {
            if (h.vm(w).isPresent()) {
                return h.vm(w).get();
            }
        }
        return null;
    }

    private List<String> vcpus(List<String> before) {
        List<String> out = new ArrayList<>();
        Vm v = vmOnLine(before);
        for (int i = 0; v != null && i < v.vcpuCount(); i++) {
            out.add(Integer.toString(i));
        }
        return out;
    }

    private List<String> slots(List<String> before) {
        List<String> out = new ArrayList<>();
        Vm v = vmOnLine(before);
        if (v != null) {
            for (Memslot s : v.memslots()) {
                out.add(Integer.toString(s.id()));
            }
        }
        return out;
    }

    private List<String> bundles() {
        List<String> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName() != null) {
                out.add(b.getSymbolicName());
            }
        }
        return out;
    }

    /** The values {@code pattern} finds in the JSON a command prints, or none if it fails. */
    private List<String> fromJson(String command, Pattern pattern) {
        List<String> out = new ArrayList<>();
        try {
            Matcher m = pattern.matcher(String.valueOf(session.execute(command)));
            while (m.find()) {
                out.add(m.group(1));
            }
        } catch (Exception e) {
            // the command is not there (its bundle stopped): nothing to offer
        }
        return out;
    }
}
