package org.shadowbox.console.internal;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.jline.reader.impl.LineReaderImpl;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.shadowbox.vm.Hypervisor;

/**
 * Puts an {@link ArgumentCompleter} in front of the interactive console's completer. Gogo
 * builds its line reader before it runs the login profile, and the profile's statements go
 * through {@code beforeExecute}: the completer is in place before the first prompt.
 */
@Component(immediate = true, service = CommandSessionListener.class)
public final class Completion implements CommandSessionListener {
    /** Gogo's session variable that holds the console's line reader (interactive only). */
    static final String READER = ".reader";

    private final BundleContext context;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Hypervisor hypervisor;

    @Activate
    public Completion(BundleContext context) {
        this.context = context;
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        if (session.get(READER) instanceof LineReaderImpl reader
                && !(reader.getCompleter() instanceof ArgumentCompleter)) {
            reader.setCompleter(new ArgumentCompleter(reader.getCompleter(), session, context, () -> hypervisor));
        }
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
    }
}
