package org.shadowbox.shell.internal;

import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Component;

/**
 * Renders the records Shadowbox commands return. Gogo's {@code CommandSession.format}
 * asks every registered Converter before its own formatting, for the interactive shell
 * ({@code format(result, INSPECT)} after each command) and for anyone who calls it the same
 * way (the batch console), so both print the same text. Anything that is not a
 * {@link View} is left to Gogo (null); JSON output is a String, which Gogo prints as is.
 */
@Component(service = Converter.class)
public class ShellConverter implements Converter {

    /** Converts nothing: commands parse their own String arguments. */
    @Override
    public Object convert(Class<?> desiredType, Object in) {
        return null;
    }

    @Override
    public CharSequence format(Object target, int level, Converter escape) {
        if (!(target instanceof View)) {
            return null;
        }
        switch (level) {
            case INSPECT:
                return TextRenderer.render(target);
            case LINE:
                return TextRenderer.line(target);
            default:
                return part((View) target);
        }
    }

    /** PART level: the first component, enough to name the thing. */
    private static String part(View v) {
        if (v instanceof Table) {
            return TextRenderer.line(v);
        }
        Record r = (Record) v;
        var rcs = r.getClass().getRecordComponents();
        return rcs.length == 0 ? r.getClass().getSimpleName() : TextRenderer.scalar(Json.component(r, rcs[0]), rcs[0]);
    }
}
