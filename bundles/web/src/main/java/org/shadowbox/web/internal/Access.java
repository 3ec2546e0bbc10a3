package org.shadowbox.web.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Who may do what. Every request must name this server in {@code Host} (127.0.0.1 or
 * localhost with our port: a page of another site that resolved its own name to 127.0.0.1 is
 * refused), and a browser request from another origin ({@code Origin} or
 * {@code Sec-Fetch-Site} says so) is refused: no CORS header is ever sent. Requests that change
 * state are refused unless {@code web.allowChanges} is set, and then need the session's token
 * in the {@value #TOKEN_HEADER} header (a custom header: a cross-origin page cannot send it
 * without a preflight, which this server never grants).
 */
final class Access {
    static final String TOKEN_HEADER = "X-Shadowbox-Token";

    private final Set<String> hosts;
    private final Set<String> origins;
    private final boolean allowChanges;
    private final String token;

    /** @param token the session's token, or null when changes are not allowed */
    Access(int port, boolean allowChanges, String token) {
        this.hosts = Set.of("127.0.0.1:" + port, "localhost:" + port);
        this.origins = Set.of("http://127.0.0.1:" + port, "http://localhost:" + port);
        this.allowChanges = allowChanges;
        this.token = allowChanges ? token : null;
        if (allowChanges && (token == null || token.isEmpty())) {
            throw new IllegalArgumentException("changes allowed without a token");
        }
    }

    /** A fresh token: 128 random bits, hex. */
    static String newToken() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    boolean allowChanges() {
        return allowChanges;
    }

    String token() {
        return token;
    }

    /** "read-only" or "changes allowed (token)". */
    String mode() {
        return allowChanges ? "changes allowed (token)" : "read-only";
    }

    /** Refuses (403) a request that does not name this server or comes from another origin. */
    void checkOrigin(String host, String origin, String fetchSite) {
        if (host == null || !hosts.contains(host.trim().toLowerCase(java.util.Locale.ROOT))) {
            throw HttpError.forbidden("refused: Host '" + (host == null ? "" : host.trim())
                    + "' is not this server; accepted " + String.join(" or ", hosts.stream().sorted().toList()));
        }
        if (origin != null && !origins.contains(origin.trim().toLowerCase(java.util.Locale.ROOT))) {
            throw HttpError.forbidden("refused: requests from origin '" + origin.trim()
                    + "' are not served; only pages of this server may call it");
        }
        if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
            throw HttpError.forbidden("refused: a " + fetchSite + " request; only pages of this server may call it");
        }
    }

    /** Refuses (403) a change when changes are off or the token is missing or wrong. */
    void checkChange(String given) {
        if (!allowChanges) {
            throw HttpError.forbidden("read-only: this web view changes nothing; set web.allowChanges=true in"
                    + " workspace/config/org.shadowbox.web.cfg to allow changes with a token");
        }
        if (given == null || given.isBlank()) {
            throw HttpError.forbidden("missing token: send the token the shell printed in the " + TOKEN_HEADER
                    + " header");
        }
        if (!MessageDigest.isEqual(given.trim().getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8))) {
            throw HttpError.forbidden("wrong token: accepted the token the shell printed at start");
        }
    }
}
