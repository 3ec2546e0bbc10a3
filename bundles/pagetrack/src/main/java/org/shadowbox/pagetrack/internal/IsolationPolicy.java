package org.shadowbox.pagetrack.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

import org.shadowbox.vm.VmException;

/**
 * {@code guard.isolate}: the bundles whose notifiers are called on a {@link Courier} thread
 * rather than on the vCPU's, so that a callback that never returns cannot keep a vCPU. Symbolic
 * names, and {@code *} for every bundle but the sandbox's own ({@value #SANDBOX_PREFIX}*), which
 * may still be named one by one.
 */
final class IsolationPolicy {
    static final String ALL = "*";
    static final String SANDBOX_PREFIX = "org.shadowbox.";
    static final IsolationPolicy NONE = new IsolationPolicy(List.of());

    private static final Pattern SYMBOLIC_NAME = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    private static final Pattern SEPARATORS = Pattern.compile("[,\\s]+");

    /** As configured, without duplicates, in order. */
    final List<String> names;
    private final boolean all;

    private IsolationPolicy(List<String> names) {
        this.names = List.copyOf(names);
        this.all = names.contains(ALL);
    }

    /**
     * The policy the values give: each is one or more symbolic names or {@code *}, separated by
     * commas or spaces (a .cfg file gives one string, Metatype an array). Throws a one-line
     * {@link VmException} naming the first bad entry.
     */
    static IsolationPolicy parse(Collection<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            if (v == null) {
                continue;
            }
            for (String token : SEPARATORS.split(v.trim())) {
                if (token.isEmpty()) {
                    continue;
                }
                if (!token.equals(ALL) && !SYMBOLIC_NAME.matcher(token).matches()) {
                    throw new VmException("guard.isolate: '" + token + "' is not a bundle symbolic name: accepted"
                            + " symbolic names (com.example.tracker) and *, separated by commas");
                }
                if (!out.contains(token)) {
                    out.add(token);
                }
            }
        }
        return out.isEmpty() ? NONE : new IsolationPolicy(out);
    }

    /** Whether the notifiers of {@code bundle} run on couriers. */
    boolean isolates(String bundle) {
        return names.contains(bundle) || all && !bundle.startsWith(SANDBOX_PREFIX) && !bundle.equals("org.shadowbox");
    }
}
