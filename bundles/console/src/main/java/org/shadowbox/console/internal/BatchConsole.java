package org.shadowbox.console.internal;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.Callable;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Batch mode of {@code ./shadowbox}: {@code -c 'CMD; CMD'} sets the framework property
 * {@value #COMMAND_PROPERTY}, {@code FILE.gosh} sets {@value #FILE_PROPERTY} (an absolute
 * path). With either one set, this component hands a {@link BatchRun} to the bnd launcher
 * as its main {@code Callable} ({@code main.thread=true}); the launcher runs it on its main
 * thread, then stops the framework and exits with the code it returned. With neither set
 * (interactive mode) it does nothing.
 *
 * <p>The script also passes {@code gosh.args=--nointeractive}, so that the Gogo JLine
 * console does not read the terminal, and {@code gosh.home=launcher/gosh}, whose
 * {@code etc/gosh_profile} replaces Gogo's interactive profile (a banner and line-editor
 * settings that fail without a line editor) for both that console and the batch session.
 */
@Component(immediate = true)
public final class BatchConsole {

    static final String COMMAND_PROPERTY = "shadowbox.batch.command";
    static final String FILE_PROPERTY = "shadowbox.batch.file";

    private final StartLevelWatch startLevel;
    private final ServiceRegistration<?> registration;

    @Activate
    public BatchConsole(BundleContext context, @Reference CommandProcessor processor) {
        String command = context.getProperty(COMMAND_PROPERTY);
        String file = context.getProperty(FILE_PROPERTY);
        if (command == null && file == null) {
            startLevel = null;
            registration = null;
            return;
        }
        startLevel = new StartLevelWatch(context);
        startLevel.open();
        Path script = command != null ? null : Paths.get(file).toAbsolutePath();
        BatchRun run = new BatchRun(context, processor, startLevel, new BatchRun.Program(command, script));
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put("main.thread", Boolean.TRUE);
        registration = context.registerService(Callable.class, run, properties);
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // already gone with the framework
            }
        }
        if (startLevel != null) {
            startLevel.close();
        }
    }
}
