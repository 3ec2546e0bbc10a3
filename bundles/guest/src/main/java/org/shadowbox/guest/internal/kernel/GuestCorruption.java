package org.shadowbox.guest.internal.kernel;

/**
 * The guest found its memory not as it left it: a value read that it did not write, an access
 * translated to another page than its tables say, a kernel access that faulted. On a correct
 * MMU this never happens; the message says where.
 */
public final class GuestCorruption extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public GuestCorruption(String message) {
        super("guest memory view broken: " + message);
    }
}
