package org.shadowbox.vm;

/**
 * A refused request: bad input, or an operation that the current state does not
 * allow. The message is one line that says what was wrong and what is accepted.
 * Whoever throws it has changed nothing.
 */
public class VmException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public VmException(String message) {
        super(message);
    }

    /**
     * The message alone: Gogo's interactive shell prints a failed command's exception with
     * {@code toString()}, and a user should read "no VM named 'x': the VMs are demo", not a
     * Java class name. The type is still there for code ({@code $exception} in the shell).
     */
    @Override
    public String toString() {
        return getMessage();
    }
}
