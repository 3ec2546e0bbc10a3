package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.CommandSessionImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.Converter;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The real Gogo 1.1.6 runtime, outside OSGi: command objects are registered under the scope
 * and functions that their generated DS component XML declares (what Gogo's whiteboard
 * would see), the {@link ShellConverter} is added, and lines are executed and printed as the
 * interactive shell prints them: {@code session.format(result, Converter.INSPECT)}.
 */
final class GogoShell implements AutoCloseable {

    private final ThreadIOImpl tio = new ThreadIOImpl();
    private final CommandProcessorImpl processor;
    private final CommandSessionImpl session;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    GogoShell(Object... commands) throws Exception {
        tio.start();
        processor = new CommandProcessorImpl(tio);
        processor.addConverter(new ShellConverter());
        for (Object c : commands) {
            String scope = null;
            List<String> functions = new ArrayList<>();
            Document doc = componentXml(c.getClass());
            NodeList props = doc.getElementsByTagName("property");
            for (int i = 0; i < props.getLength(); i++) {
                Element p = (Element) props.item(i);
                if ("osgi.command.scope".equals(p.getAttribute("name"))) {
                    scope = p.getAttribute("value");
                } else if ("osgi.command.function".equals(p.getAttribute("name"))) {
                    for (String f : p.getTextContent().trim().split("\\s+")) {
                        functions.add(f);
                    }
                }
            }
            assertNotNull(scope, c.getClass() + " has no osgi.command.scope");
            assertFalse(functions.isEmpty(), c.getClass() + " has no osgi.command.function");
            for (String f : functions) {
                processor.addCommand(scope, c, f);
            }
        }
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), out, new ByteArrayOutputStream());
    }

    /** The generated {@code OSGI-INF/<class>.xml} of a DS component. */
    static Document componentXml(Class<?> type) throws Exception {
        String name = "OSGI-INF/" + type.getName() + ".xml";
        try (InputStream in = type.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, name + " was not generated");
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in);
        }
    }

    /** The functions a component registers. */
    static List<String> functions(Class<?> type) throws Exception {
        List<String> out = new ArrayList<>();
        NodeList props = componentXml(type).getElementsByTagName("property");
        for (int i = 0; i < props.getLength(); i++) {
            Element p = (Element) props.item(i);
            if ("osgi.command.function".equals(p.getAttribute("name"))) {
                for (String f : p.getTextContent().trim().split("\\s+")) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    Object execute(String line) throws Exception {
        return session.execute(line);
    }

    /** What commands printed to the session's output themselves (not their results), then forgets it. */
    String takeOutput() {
        String s = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        out.reset();
        return s;
    }

    /** What the interactive shell prints for {@code line}. */
    String print(String line) throws Exception {
        return session.format(execute(line), Converter.INSPECT).toString();
    }

    /** The message of the exception {@code line} fails with; fails if it succeeds or is not one line. */
    String error(String line) {
        try {
            Object r = execute(line);
            return fail(line + " should have failed but returned " + r);
        } catch (Exception e) {
            String m = e.getMessage();
            assertNotNull(m, line + ": " + e);
            assertEquals(-1, m.indexOf('\n'), "not one line: " + m);
            return m;
        }
    }

    @Override
    public void close() {
        session.close();
        processor.stop();
        tio.stop();
    }
}
