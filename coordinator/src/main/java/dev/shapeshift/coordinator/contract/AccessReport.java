package dev.shapeshift.coordinator.contract;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the access watch found at one look: the evidence behind the contract gates, and what
 * {@code shapeshift evidence} prints.
 *
 * @param watched     the old shape, for people ({@code public.users(legacy_verified_at)})
 * @param dropsNothing what the contract does when the spec drops nothing ({@link OldShape#dropsNothing()}); null
 *                    when it drops something
 * @param baselineAt  when the watch started (the first look); statements before it do not count
 * @param quietSince  from when nothing but Shapeshift touched the old shape (as far as the watch can see)
 * @param offenders   statements of others that touched the old shape within the quiet period, newest first
 * @param excluded    statements that touched the old shape but are Shapeshift's own (by role or by sampled identity)
 * @param dependents  views, rules, functions and other objects that use the old shape now ({@link Dependents})
 * @param readers     who touched the old shape, by identity, with when last seen (kept across looks, {@link Readers})
 * @param code        what the code search found; null when no directory was searched (or nothing is dropped)
 * @param exclusion   how Shapeshift's own statements were told apart, for people
 * @param notes       limitations and warnings that apply to this look
 * @param problem     why there is no evidence at all (e.g. pg_stat_statements missing); null when there is
 * @param replicas    what each configured read replica showed ({@link ReplicaWatch}); empty when none is configured
 * @param brownoutWindow {@code contract.brownout}; null when the spec has no brownout
 * @param brownout    the latest brownout since the migration became {@code contract-ready}; null when none
 * @param readCounter table mode: what the old table's read counter counted ({@link ReadCounter}); null when the
 *                    migration never had one (in place, or before the write switch)
 */
public record AccessReport(String migration, String watched, String dropsNothing, Instant baselineAt, Instant evaluatedAt,
                           Instant quietSince, Duration quietPeriod, List<Statement> offenders,
                           List<Statement> excluded, TableCounters table, List<Dependent> dependents, List<Reader> readers, CodeEvidence code, String exclusion, List<String> notes,
                           String problem, List<ReplicaEvidence> replicas, Duration brownoutWindow, BrownoutReport brownout,
                           ReadCounter.Evidence readCounter) {

    /** A report without replicas or brownout. */
    public AccessReport(String migration, String watched, String dropsNothing, Instant baselineAt, Instant evaluatedAt,
                        Instant quietSince, Duration quietPeriod, List<Statement> offenders, List<Statement> excluded,
                        TableCounters table, List<Dependent> dependents, List<Reader> readers, CodeEvidence code,
                        String exclusion, List<String> notes, String problem) {
        this(migration, watched, dropsNothing, baselineAt, evaluatedAt, quietSince, quietPeriod, offenders, excluded, table,
                dependents, readers, code, exclusion, notes, problem, List.of(), null, null, null);
    }

    /**
     * What one read replica showed at this look.
     *
     * @param name       as configured ({@code shapeshift replica add NAME URL})
     * @param url        its JDBC URL, without any password
     * @param baselineAt when the watch of this replica started; null when it could not be read
     * @param offenders  statements of others on the replica that touched the old shape within the quiet period
     * @param problem    why the replica could not be read (unreachable, no pg_stat_statements); null when it could
     */
    public record ReplicaEvidence(String name, String url, Boolean inRecovery, Instant baselineAt, List<Statement> offenders,
                                  String problem) {
        public ReplicaEvidence {
            offenders = List.copyOf(offenders);
        }
    }

    public AccessReport {
        replicas = replicas == null ? List.of() : List.copyOf(replicas);
        offenders = List.copyOf(offenders);
        excluded = List.copyOf(excluded);
        dependents = List.copyOf(dependents);
        readers = List.copyOf(readers);
        notes = List.copyOf(notes);
    }

    /**
     * One statement from {@code pg_stat_statements}, as the watch saw it.
     *
     * @param calls            calls at this look (since the statistics were last reset)
     * @param callsSinceBaseline calls since the watch started
     * @param lastSeen         the look at which its calls were last seen to grow (null: not since the baseline)
     * @param why              how it touches the old shape
     */
    public record Statement(long queryId, String role, String query, long calls, long callsSinceBaseline,
                            Instant lastSeen, String why) {
    }

    /**
     * A database object that uses the old shape.
     *
     * @param name {@code schema.name} as PostgreSQL prints it (a function with its argument types)
     * @param kind view, materialized view, rule, function, procedure, trigger, policy, constraint
     * @param how  what ties it to the old shape, e.g. {@code depends on column(s) legacy_email (pg_depend)}
     */
    public record Dependent(String name, String kind, String how) {
    }

    /**
     * One identity that touched the old shape (not Shapeshift's).
     *
     * @param applicationName null when known from pg_stat_statements only (it keeps the role alone)
     * @param clientAddr      the client's address, {@code local} for a Unix socket; null when not known
     * @param lastSeen        a session's {@code query_start}, or the look that saw a statement's calls grow
     * @param lastQuery       the statement last seen from it
     */
    public record Reader(String role, String applicationName, String clientAddr, Instant firstSeen, Instant lastSeen,
                         String lastQuery) {
        /** {@code role export_job, application nightly-export, from 10.0.0.5}, for people. */
        public String identity() {
            return "role " + role + (applicationName == null ? "" : ", application " + applicationName)
                    + (clientAddr == null ? "" : ", from " + clientAddr)
                    + (applicationName == null && clientAddr == null ? " (pg_stat_statements)" : "");
        }
    }

    /** Table mode: the old table's counters from {@code pg_stat_user_tables} (everyone's, Shapeshift's too). */
    public record TableCounters(long writes, long reads, Instant writesSeenAt) {
    }

    public Duration quietFor() {
        return quietSince == null ? Duration.ZERO : Duration.between(quietSince, evaluatedAt);
    }

    /** This report with the code search's findings. */
    public AccessReport withCode(CodeEvidence found) {
        return new AccessReport(migration, watched, dropsNothing, baselineAt, evaluatedAt, quietSince, quietPeriod,
                offenders, excluded, table, dependents, readers, found, exclusion, notes, problem, replicas, brownoutWindow,
                brownout, readCounter);
    }

    /** This report with what the read replicas showed. */
    public AccessReport withReplicas(List<ReplicaEvidence> found) {
        return new AccessReport(migration, watched, dropsNothing, baselineAt, evaluatedAt, quietSince, quietPeriod,
                offenders, excluded, table, dependents, readers, code, exclusion, notes, problem, found, brownoutWindow,
                brownout, readCounter);
    }

    /** This report with the spec's brownout and the latest brownout. */
    public AccessReport withBrownout(Duration window, BrownoutReport latest) {
        return new AccessReport(migration, watched, dropsNothing, baselineAt, evaluatedAt, quietSince, quietPeriod,
                offenders, excluded, table, dependents, readers, code, exclusion, notes, problem, replicas, window, latest, readCounter);
    }

    /** This report with what the old table's read counter counted. */
    public AccessReport withReadCounter(ReadCounter.Evidence counted) {
        return new AccessReport(migration, watched, dropsNothing, baselineAt, evaluatedAt, quietSince, quietPeriod,
                offenders, excluded, table, dependents, readers, code, exclusion, notes, problem, replicas, brownoutWindow,
                brownout, counted);
    }

    /** Zero foreign access for the whole quiet period; always, when there is nothing to watch (in place, nothing dropped). */
    public boolean quiet() {
        return problem == null && (nothingWatched() || quietFor().compareTo(quietPeriod) >= 0);
    }

    /** In place with nothing to drop: no old column exists, so there was no look at all. */
    public boolean nothingWatched() {
        return dropsNothing != null && baselineAt == null && problem == null;
    }
}
