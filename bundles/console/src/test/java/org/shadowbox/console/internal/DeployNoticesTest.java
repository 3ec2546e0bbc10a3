package org.shadowbox.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;

/**
 * FileInstall's own records (logger {@code fileinstall}) become one line: its report of a
 * deployed bundle that did not start is replaced by our notice, told once (none for the resolver
 * hook's refusal, which the hook tells); any other record
 * keeps its message with the exception's first line and no backtrace.
 */
class DeployNoticesTest {
    private static final String DIR = new File("/tmp/sb-deploy").getAbsolutePath();
    private static final String LOCATION = "file:" + DIR + File.separator + "copied.jar";

    @Test
    void fileInstallsRecordsAreOneLineAndAFailedStartIsToldOnce() {
        Bundle bundle = (Bundle) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Bundle.class},
                (p, m, a) -> switch (m.getName()) {
                    case "getLocation" -> LOCATION;
                    case "getSymbolicName" -> "org.shadowbox.audit";
                    case "getBundleId" -> 42L;
                    default -> null;
                });
        BundleContext context = (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, a) -> switch (m.getName()) {
                    case "getProperty" -> "felix.fileinstall.dir".equals(a[0]) ? DIR : null;
                    case "getBundle" -> a != null && a.length == 1 && LOCATION.equals(a[0]) ? bundle : null;
                    default -> null;
                });
        List<String> platform = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                platform.add(r.getMessage() + (r.getThrown() == null ? "" : " +thrown"));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger deploy = Logger.getLogger("org.shadowbox.deploy");
        deploy.addHandler(h);
        DeployNotices n = new DeployNotices(context);
        try {
            Logger fileInstall = Logger.getLogger(DeployNotices.FILEINSTALL_LOGGER);
            List<LogRecord> shown = new ArrayList<>();
            Handler fh = new Handler() {
                @Override
                public void publish(LogRecord r) {
                    if (isLoggable(r) && (fileInstall.getFilter() == null || fileInstall.getFilter().isLoggable(r))) {
                        shown.add(r);
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            LogRecord hook = new LogRecord(Level.WARNING, "Error while starting bundle: " + LOCATION);
            hook.setThrown(new BundleException("Resolver hook prevented resolution. Unresolved requirements: []"));
            fh.publish(hook);
            assertEquals(List.of(), shown, "FileInstall's own report is not shown");
            assertEquals(List.of(), platform, "the resolver hook told the refusal itself");
            BundleException missing = new BundleException("Unable to resolve org.shadowbox.audit [42]:\n  missing"
                    + " requirement");
            for (int i = 0; i < 2; i++) {
                LogRecord r = new LogRecord(Level.WARNING, "Error while starting bundle: " + LOCATION);
                r.setThrown(missing);
                fh.publish(r);
            }
            assertEquals(List.of(), shown, "FileInstall's own report is not shown");
            assertEquals(List.of("deploy: org.shadowbox.audit from copied.jar did not start: Unable to resolve"
                    + " org.shadowbox.audit [42]: missing requirement (plugin:diag 42 explains)"), platform, "told once");

            LogRecord other = new LogRecord(Level.SEVERE, "Failed to install artifact: " + DIR + "/x.jar");
            other.setThrown(new java.io.IOException("zip END header not found"));
            fh.publish(other);
            assertEquals(1, shown.size());
            assertEquals("deploy: Failed to install artifact: " + DIR + "/x.jar: zip END header not found",
                    shown.get(0).getMessage());
            assertNull(shown.get(0).getThrown(), "no backtrace");
            assertFalse(shown.get(0).getMessage().contains("\n"));
        } finally {
            n.deactivate();
            deploy.removeHandler(h);
        }
        assertTrue(Logger.getLogger(DeployNotices.FILEINSTALL_LOGGER).getFilter() == null, "deactivate removes the filter");
    }
}
