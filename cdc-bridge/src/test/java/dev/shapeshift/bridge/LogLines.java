package dev.shapeshift.bridge;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * The messages that named loggers (Debezium's, in these tests) log at a level or above while open, in
 * order: what a library tells only through its log (a refused start, an error while stopping) counted
 * instead of timed.
 */
final class LogLines implements AutoCloseable {
    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final Level at;
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(at)) {
                messages.add(e.getFormattedMessage());
            }
        }
    };

    LogLines(Level at, String... names) {
        this.at = at;
        for (String name : names) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            loggers.add(logger);
            levels.add(logger.getLevel());
            if (!logger.isEnabledFor(at)) {
                logger.setLevel(at);
            }
            logger.addAppender(appender);
            appender.setContext(logger.getLoggerContext());
        }
        appender.start();
    }

    List<String> messages() {
        return List.copyOf(messages);
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(levels.get(i));
        }
        appender.stop();
    }
}
