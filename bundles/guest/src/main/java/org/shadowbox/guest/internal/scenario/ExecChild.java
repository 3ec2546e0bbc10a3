package org.shadowbox.guest.internal.scenario;

import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * The child side of {@code fork} + {@code execve}: a few stack writes and data reads in the
 * copied address space (the first write breaks copy-on-write), then exec of {@code image}.
 */
final class ExecChild extends Program {
    private static final int BEFORE_EXEC = 8;
    private final Image image;
    private final Program next;
    private int steps;

    ExecChild(Image image, Program next) {
        this.image = image;
        this.next = next;
    }

    @Override
    protected void run(Kernel k, Task t, int budget) {
        for (int i = 0; i < budget; i++) {
            if (steps == BEFORE_EXEC) {
                k.exec(t, image, next);
                return;
            }
            if ((steps & 1) == 0) {
                k.access(t, t.stack, t.stack.pages() - 1, steps & 7, Kernel.WRITE);
            } else {
                k.access(t, t.data, t.rng.nextInt(t.data.pages()), steps & 7, Kernel.READ);
            }
            steps++;
        }
    }
}
