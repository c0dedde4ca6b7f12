package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.spec.SpecJson;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Migrations whose reads are switched but whose contract is not done: the old shape still costs
 * storage and dual writes, and a forgotten one is how an old column lives for years. Each has the
 * time since its read switch and, with {@code contract.deadline}, when the contract is due.
 *
 * <p>The read switch time is the latest audited move into {@code reads-switched} (a flip back to
 * {@code verified} and forward again restarts it); without one (phases set by hand) the phase's
 * own start, the late side.
 */
public final class AwaitingContract {
    /** The phases between the read switch and the contract (a write-switch phase, where there is one, too). */
    static final List<String> PHASES = List.of("reads-switched", "writes-switched", "contract-ready");

    private AwaitingContract() {
    }

    /**
     * One migration awaiting its contract.
     *
     * @param readsSwitchedAt when reads switched (see the class comment)
     * @param deadline        {@code contract.deadline}; null when the spec sets none
     * @param dueAt           {@code readsSwitchedAt + deadline}; null without a deadline
     */
    public record Awaiting(String migration, String phase, Instant readsSwitchedAt, Instant now, Duration deadline,
                           Instant dueAt) {
        public Duration awaiting() {
            return readsSwitchedAt.isAfter(now) ? Duration.ZERO : Duration.between(readsSwitchedAt, now);
        }

        public boolean pastDeadline() {
            return dueAt != null && now.isAfter(dueAt);
        }

        static Awaiting of(String migration, String phase, Instant readsSwitchedAt, Instant now, Duration deadline) {
            return new Awaiting(migration, phase, readsSwitchedAt, now, deadline,
                    deadline == null ? null : readsSwitchedAt.plus(deadline));
        }
    }

    /** Every migration awaiting its contract, by name, as the catalog has them now. */
    public static List<Awaiting> read(Database db) {
        return Tx.run(db, AccessWatch.ROLE, "reading migrations awaiting their contract", c -> {
            List<Awaiting> out = new ArrayList<>();
            Sql.each(c, "SELECT m.name, m.phase, m.spec::text, coalesce("
                    + "(SELECT max(a.at) FROM shapeshift.audit a WHERE a.migration = m.name AND a.to_phase = 'reads-switched'), "
                    + "m.phase_changed_at), clock_timestamp() FROM shapeshift.migration m WHERE m.phase = ANY (?) ORDER BY m.name", rs -> {
                    Duration deadline = SpecJson.read(rs.getString(3)).contract().deadline();
                    out.add(Awaiting.of(rs.getString(1), rs.getString(2), rs.getTimestamp(4).toInstant(),
                            rs.getTimestamp(5).toInstant(), deadline));
                }, c.createArrayOf("text", PHASES.toArray()));
            return out;
        });
    }
}
