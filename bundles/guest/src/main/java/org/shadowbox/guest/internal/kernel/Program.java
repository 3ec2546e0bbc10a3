package org.shadowbox.guest.internal.kernel;

/**
 * What a process does: user code that issues accesses and system calls through the
 * {@link Kernel}. Each process has its own instance (its own state); a fork gives the child a
 * new one. Deterministic: every choice comes from the task's own random stream.
 */
public abstract class Program {
    /**
     * Runs {@code t} for about {@code budget} user accesses, or until it blocks in
     * {@link Kernel#waitChild} or calls {@link Kernel#exit}.
     */
    protected abstract void run(Kernel k, Task t, int budget);
}
