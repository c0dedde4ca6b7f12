package dev.shapeshift.launcher;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import org.slf4j.LoggerFactory;

/**
 * Which Logback configuration a command runs with, and in which format: the roles and operator
 * commands use {@code logback.xml} (Kafka warnings shown), {@code demo} and {@code bench} the
 * quieter {@code logback-demo.xml}; {@code --log-format json} switches either to one JSON object
 * per line. An explicit {@code -Dlogback.configurationFile} or a test's {@code logback-test.xml}
 * is left alone.
 */
final class Logs {
    static final String PRODUCTION = "logback.xml";
    static final String DEMO = "logback-demo.xml";
    /** The system property the configurations read to pick their appender. */
    static final String APPENDER_PROPERTY = "shapeshift.log.appender";

    /** {@code --log-format}: lines for people, or JSON for log shippers. */
    enum Format {
        TEXT, JSON
    }

    private Logs() {
    }

    /** The configuration of a command: the demo's for {@code demo} and {@code bench}, else the production one. */
    static String configurationFor(String command) {
        return "demo".equals(command) || "bench".equals(command) ? DEMO : PRODUCTION;
    }

    /** Reconfigures Logback with {@code resource} in {@code format}; false when an explicit or test configuration is kept. */
    static boolean configure(String resource, Format format) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)
                || System.getProperty("logback.configurationFile") != null || configuredByTest(context)) {
            return false;
        }
        return apply(context, resource, format);
    }

    static boolean apply(LoggerContext context, String resource, Format format) {
        URL url = Logs.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " is missing from the jar");
        }
        System.setProperty(APPENDER_PROPERTY, format.name());
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(url);
        } catch (JoranException e) {
            throw new IllegalStateException("cannot configure logging from " + url, e);
        }
        return true;
    }

    /** Logback's own rule: a {@code logback-test.xml} on the class path wins over {@code logback.xml}. */
    private static boolean configuredByTest(LoggerContext context) {
        return Logs.class.getClassLoader().getResource("logback-test.xml") != null;
    }
}
