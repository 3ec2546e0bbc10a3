package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** plugin:diag states a requirement's version range as people write it, from the resolver's filter. */
class BundleDiagTest {
    @Test
    void rangesReadFromResolverFilters() {
        assertEquals("[1.0.0,2.0.0)", BundleDiag.range("(&(osgi.wiring.package=a.b)(version>=1.0.0)(!(version>=2.0.0)))"));
        assertEquals("[1.2.0,1.2.0]", BundleDiag.range("(&(osgi.wiring.package=a.b)(version>=1.2.0)(version<=1.2.0))"));
        assertEquals("1.5.0 or later", BundleDiag.range("(&(osgi.wiring.package=a.b)(version>=1.5.0))"));
        assertEquals("(any version)", BundleDiag.range("(osgi.wiring.package=a.b)"));
    }
}
