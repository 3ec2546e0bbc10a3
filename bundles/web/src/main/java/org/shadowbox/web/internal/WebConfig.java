package org.shadowbox.web.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The web view's settings: Configuration Admin PID {@value WebComponent#PID} (a file
 * {@code workspace/config/org.shadowbox.web.cfg} with {@code web.port = 8090}, for example).
 * Method names map to keys with {@code _} read as {@code .}.
 */
@ObjectClassDefinition(name = "Shadowbox web view", description = "The HTTP server of the web view, on 127.0.0.1 only")
public @interface WebConfig {

    @AttributeDefinition(description = "first port to try; when it is taken the next ones are tried, up to"
            + " web.port.attempts in all")
    int web_port() default 8080;

    @AttributeDefinition(description = "how many ports, from web.port up, to try before giving up")
    int web_port_attempts() default 20;

    @AttributeDefinition(description = "allow requests that change state (start or stop a run, track a gfn);"
            + " each needs the token the shell prints")
    boolean web_allowChanges() default false;

    @AttributeDefinition(description = "serve the web view at all; the batch modes of ./shadowbox (-c, FILE)"
            + " never start it")
    boolean web_enabled() default true;
}
