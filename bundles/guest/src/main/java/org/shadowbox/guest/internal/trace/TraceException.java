package org.shadowbox.guest.internal.trace;

/** A trace that cannot be read: the message is one line saying where and what was expected. */
final class TraceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TraceException(String message) {
        super(message);
    }
}
