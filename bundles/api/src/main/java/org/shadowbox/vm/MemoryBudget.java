package org.shadowbox.vm;

/**
 * Host memory a VM may make resident, and what it holds now: its guest pages (4 KiB each,
 * allocated on first write) and its page-track counter chunks. Every VM is also held to the
 * sandbox-wide budget, shared by all VMs. A write, fault or scenario that would pass either
 * fails with a one-line {@link VmException} that names the budget and how to raise it, and
 * changes nothing.
 *
 * @param vmLimitBytes      this VM's budget, or {@link #UNLIMITED} (then only the sandbox's applies)
 * @param vmUsedBytes       what this VM holds now
 * @param sandboxLimitBytes the sandbox-wide budget
 * @param sandboxUsedBytes  what all VMs hold now
 */
public record MemoryBudget(long vmLimitBytes, long vmUsedBytes, long sandboxLimitBytes, long sandboxUsedBytes) {
    /** No budget of its own. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    /** The bytes this VM may still make resident, under both budgets. */
    public long headroomBytes() {
        return Math.max(0, Math.min(vmLimitBytes - vmUsedBytes, sandboxLimitBytes - sandboxUsedBytes));
    }

    /**
     * A size as the budgets' one-line errors print it: "4 KiB", "1.5 MiB", "128 MiB", "100 bytes",
     * and "unlimited" for {@link #UNLIMITED}.
     */
    public static String human(long bytes) {
        if (bytes == UNLIMITED) {
            return "unlimited";
        }
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0) {
            return bytes + " bytes";
        }
        return (v == Math.rint(v) ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v))
                + " " + units[u];
    }
}
