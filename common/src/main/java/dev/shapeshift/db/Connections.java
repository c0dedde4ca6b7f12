package dev.shapeshift.db;

import dev.shapeshift.error.Quietly;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;

/** Closing a session a component keeps open between calls (and reopens on the next call). */
public final class Connections {
    private Connections() {
    }

    /**
     * Closes {@code c}; nothing when it is null. A failure means the session is broken already: it is
     * logged on the caller's {@code log} at debug as {@code closing <what> failed sqlstate=…}.
     */
    public static void closeQuietly(Connection c, Logger log, String what) {
        Quietly.close(c, e -> {
            if (e instanceof RuntimeException bug) {
                throw bug; // not a failed close of a broken session: the caller hears of it
            }
            log.debug("closing {} failed sqlstate={}", what, ((SQLException) e).getSQLState());
        });
    }
}
