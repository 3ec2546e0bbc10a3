package org.shadowbox.guest.internal.scenario;

import org.shadowbox.guest.internal.kernel.Area;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * A user program after exec: the dynamic linker's start-up (a RELRO page written, then made
 * read-only by mprotect), then {@link AccessGen} accesses, reading its input files one after the
 * other through mmap (munmap when done), mapping and unmapping an anonymous arena now and then,
 * and at the end writing its output (a page of its heap) to a file and exiting.
 */
final class Worker extends Program {
    private final Profile p;
    private final AccessGen gen;
    private final int[] inputs;
    private final int output;
    private int nextInput;
    private long done;
    private boolean started;

    /**
     * @param inputs files it reads, in order (may be empty)
     * @param output the file it writes page 0 of before exiting, or -1
     */
    Worker(Profile p, int[] inputs, int output) {
        this(p, inputs, output, true, 0);
    }

    /**
     * @param startup    whether it starts like a freshly exec'd program (the RELRO mprotect);
     *                   a forked child that does not exec does not
     * @param heapPages  heap pages it already touched (inherited from its parent)
     */
    Worker(Profile p, int[] inputs, int output, boolean startup, int heapPages) {
        this.p = p;
        this.gen = new AccessGen(p);
        this.gen.setFrontier(heapPages);
        this.inputs = inputs;
        this.output = output;
        this.started = !startup;
    }

    @Override
    protected void run(Kernel k, Task t, int budget) {
        if (!started) {
            startup(k, t);
        }
        for (int i = 0; i < budget; i++) {
            if (p.lifetime() > 0 && done >= p.lifetime()) {
                finish(k, t);
                return;
            }
            if (gen.inputDone) {
                nextInput(k, t);
            }
            if (p.arenaEvery() > 0 && done % p.arenaEvery() == p.arenaEvery() / 2) {
                if (gen.arena == null) {
                    gen.arena = k.mmap(t, p.arenaPages(), Area.READ | Area.WRITE, Area.ANON, 0);
                } else {
                    k.munmap(t, gen.arena);
                    gen.arena = null;
                }
            }
            gen.step(k, t);
            done++;
        }
    }

    private void startup(Kernel k, Task t) {
        started = true;
        Area relro = k.mmap(t, 2, Area.READ | Area.WRITE, Area.ANON, 0);
        k.access(t, relro, 0, 0, Kernel.WRITE);
        k.access(t, relro, 1, 0, Kernel.WRITE);
        k.mprotect(t, relro, Area.READ);
        nextInput(k, t);
    }

    private void nextInput(Kernel k, Task t) {
        if (gen.input != null) {
            k.munmap(t, gen.input);
            gen.input = null;
        }
        gen.inputDone = false;
        if (nextInput < inputs.length) {
            int file = inputs[nextInput++];
            gen.input = k.mmap(t, k.filePages(file), Area.READ, file, 0);
        }
    }

    private void finish(Kernel k, Task t) {
        if (output >= 0) {
            k.access(t, t.heap, 0, 0, Kernel.WRITE);
            k.writeFile(t, output, 0, t.heap, 0);
        }
        k.exit(t);
    }
}
