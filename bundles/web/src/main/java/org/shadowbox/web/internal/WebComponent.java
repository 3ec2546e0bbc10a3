package org.shadowbox.web.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.vm.Hypervisor;

/**
 * Starts the web view when the interactive shell starts and prints its URL. Its settings are
 * the Configuration Admin configuration {@value #PID} ({@link WebConfig}): a new port restarts
 * the server, {@code web.allowChanges} switches the mode at once (with a new token). The batch
 * modes of {@code ./shadowbox} ({@code -c}, a script file) start no server.
 */
@Component(immediate = true, configurationPid = WebComponent.PID, service = {})
@Designate(ocd = WebConfig.class)
public final class WebComponent {
    static final String PID = "org.shadowbox.web";

    private final BundleContext context;
    private final Shell shell;
    private final Hypervisor hypervisor;
    private final PrintStream console = System.out;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mmu mmu;

    private volatile Access access;
    private WebServer server;
    private WebConfig config;

    @Activate
    public WebComponent(BundleContext context, @Reference CommandProcessor processor, @Reference Hypervisor hypervisor,
            WebConfig config) {
        this.context = context;
        this.shell = new Shell(processor);
        this.hypervisor = hypervisor;
        apply(config);
    }

    @Modified
    synchronized void modified(WebConfig c) {
        apply(c);
    }

    @Deactivate
    synchronized void deactivate() {
        stop();
    }

    private synchronized void apply(WebConfig c) {
        WebConfig old = config;
        config = c;
        if (batch() || !c.web_enabled()) {
            stop();
            return;
        }
        if (server != null && old != null && old.web_port() == c.web_port()
                && old.web_port_attempts() == c.web_port_attempts()) {
            if (old.web_allowChanges() != c.web_allowChanges()) {
                access = access(server.port(), c);
                announce();
            }
            return;
        }
        stop();
        if (c.web_port() < 1 || c.web_port() > 65535) {
            console.println("Web view not started: bad web.port " + c.web_port() + ": accepted 1 to 65535");
            return;
        }
        Api api = new Api(shell, hypervisor, () -> mmu, () -> access, results());
        try {
            WebServer s = WebServer.bind(c.web_port(), c.web_port_attempts(), api, new LiveEvents(shell, api),
                    () -> access, new StaticFiles(WebComponent.class.getClassLoader()));
            access = access(s.port(), c);
            s.begin();
            server = s;
            announce();
        } catch (IOException e) {
            console.println("Web view not started: " + Shell.oneLine(e.getMessage()));
        }
    }

    private static Access access(int port, WebConfig c) {
        return new Access(port, c.web_allowChanges(), c.web_allowChanges() ? Access.newToken() : null);
    }

    /** The line the shell shows: where the view is and in which mode. */
    private void announce() {
        Access a = access;
        if (a.allowChanges()) {
            console.println("Web view: " + server.url() + "#token=" + a.token() + " (changes allowed with token "
                    + a.token() + ")");
        } else {
            console.println("Web view: " + server.url() + " (read-only; web.allowChanges=true in"
                    + " workspace/config/" + PID + ".cfg allows changes)");
        }
    }

    private void stop() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }

    private boolean batch() {
        return context.getProperty("shadowbox.batch.command") != null
                || context.getProperty("shadowbox.batch.file") != null;
    }

    private Path results() {
        String ws = context.getProperty("shadowbox.workspace");
        return ws == null ? null : Path.of(ws, "results");
    }
}
