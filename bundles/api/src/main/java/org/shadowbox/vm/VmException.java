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
}
