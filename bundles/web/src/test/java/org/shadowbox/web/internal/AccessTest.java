package org.shadowbox.web.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AccessTest {
    private final Access readOnly = new Access(8081, false, null);
    private final Access changes = new Access(8081, true, "abc123");

    private static HttpError refused(Runnable r) {
        HttpError e = assertThrows(HttpError.class, r::run);
        assertEquals(403, e.status);
        return e;
    }

    @Test
    void acceptsThisServerByAddressOrName() {
        assertDoesNotThrow(() -> readOnly.checkOrigin("127.0.0.1:8081", null, null));
        assertDoesNotThrow(() -> readOnly.checkOrigin("localhost:8081", "http://localhost:8081", "same-origin"));
        assertDoesNotThrow(() -> readOnly.checkOrigin("LOCALHOST:8081", "http://127.0.0.1:8081", "none"));
    }

    @Test
    void refusesOtherHostsOriginsAndCrossSiteFetches() {
        assertTrue(refused(() -> readOnly.checkOrigin("evil.example:8081", null, null)).getMessage().contains("Host"));
        refused(() -> readOnly.checkOrigin(null, null, null));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8082", null, null));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8081", "http://127.0.0.1:8082", null));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8081", "null", null));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8081", "https://127.0.0.1:8081", null));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8081", null, "cross-site"));
        refused(() -> readOnly.checkOrigin("127.0.0.1:8081", null, "same-site"));
    }

    @Test
    void readOnlyRefusesEveryChange() {
        assertTrue(refused(() -> readOnly.checkChange("abc123")).getMessage().startsWith("read-only"));
        assertEquals("read-only", readOnly.mode());
    }

    @Test
    void changesNeedTheRightToken() {
        assertTrue(refused(() -> changes.checkChange(null)).getMessage().startsWith("missing token"));
        assertTrue(refused(() -> changes.checkChange(" ")).getMessage().startsWith("missing token"));
        assertTrue(refused(() -> changes.checkChange("abc124")).getMessage().startsWith("wrong token"));
        assertTrue(refused(() -> changes.checkChange("abc1234")).getMessage().startsWith("wrong token"));
        assertDoesNotThrow(() -> changes.checkChange("abc123"));
    }

    @Test
    void tokensAreFreshAndLong() {
        String a = Access.newToken();
        assertEquals(32, a.length());
        assertNotEquals(a, Access.newToken());
        assertThrows(IllegalArgumentException.class, () -> new Access(1, true, ""));
    }
}
