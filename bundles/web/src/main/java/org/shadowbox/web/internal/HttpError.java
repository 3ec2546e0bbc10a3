package org.shadowbox.web.internal;

/** A request that fails with {@code status} and a one-line message for the JSON error body. */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static HttpError notFound(String message) {
        return new HttpError(404, message);
    }

    static HttpError badRequest(String message) {
        return new HttpError(400, message);
    }

    static HttpError forbidden(String message) {
        return new HttpError(403, message);
    }
}
