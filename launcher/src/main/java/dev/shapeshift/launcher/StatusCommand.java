package dev.shapeshift.launcher;

import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.api.Json;
import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.status.MigrationStatus;
import dev.shapeshift.coordinator.status.StatusReader;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift status [MIGRATION]}: phase, progress, lag, drift, flag and the next gate, read
 * from the catalog directly (the same view as {@code GET /api/migrations/{name}}). Without a name:
 * the list of {@code shapeshift list}.
 */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show migrations: phase, progress, lag, drift, gates.")
public final class StatusCommand extends DbCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "One migration (default: the list of all).")
    String migration;

    @Option(names = "--watch", description = "Print again every --interval until Ctrl-C, or until the migration is "
            + "contracted or rolled back (JSON: one object per line).")
    boolean watch;

    @Option(names = "--interval", paramLabel = "DURATION", description = "With --watch: how often (default 5s).")
    String interval = "5s";

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = command.commandLine().getOut();
        long every = dev.shapeshift.spec.DurationText.parse(interval).toMillis();
        StatusReader reader = migration == null ? null : new StatusReader(db.catalog(), GateWiring.gates(db.database()));
        while (true) {
            boolean finished;
            if (migration == null) {
                ListCommand.print(out, ListCommand.rows(db.catalog().list(), java.time.Instant.now()), output);
                finished = false;
            } else {
                MigrationStatus status = reader.read(migration);
                if (output.json()) {
                    out.println(Json.write(status));
                } else {
                    if (watch) {
                        out.println("--- " + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
                    }
                    print(out, status);
                    bridge(out, dev.shapeshift.coordinator.status.History.health(db.catalog(), db.catalog().get(migration)));
                    findings(out, status.findings());
                }
                finished = status.phase().terminal();
            }
            out.flush();
            if (!watch || finished) {
                return 0;
            }
            Thread.sleep(Math.max(100, every));
        }
    }

    static void print(PrintWriter out, MigrationStatus s) {
        MigrationStatus.Progress p = s.progress();
        out.println(s.name() + ": " + s.phase() + (s.message() == null ? "" : " — " + s.message()));
        out.println("  backfill chunks=" + p.chunksDone() + "/" + p.chunks() + " rows=" + p.rowsCopied() + "/~"
                + p.estimatedRows() + " eta=" + (p.etaSeconds() == null ? "?" : p.etaSeconds() + "s")
                + (s.settings().paused() ? " (paused)" : ""));
        String throttle = p.throttleSummary(s.now());
        if (throttle != null) {
            out.println("    " + throttle);
            for (var t : p.throttled()) {
                out.println("      chunk " + t.chunk() + " worker=" + t.owner() + " " + t.reason() + " since " + t.since());
            }
        }
        out.println("  sync " + s.sync().detail());
        if (s.sync().streams() != null) {
            for (SyncStream st : s.sync().streams()) {
                out.println("    partition " + st.partition() + " " + st.state() + " worker=" + st.owner()
                        + " offset=" + (st.appliedOffset() == null ? "-" : st.appliedOffset())
                        + " lsn=" + (st.appliedLsn() == null ? "-" : st.appliedLsn())
                        + (st.message() == null ? "" : " — " + st.message()));
            }
        }
        out.println("  drift open=" + s.drift().openTotal() + " " + s.drift().open());
        out.println("  flag " + (s.flag() == null ? "not set (reads old shape)"
                : s.flag().name() + "=" + s.flag().value() + " v" + s.flag().version()));
        writes(out, s.writes());
        for (GateReport g : s.gates()) {
            out.println("  gate -> " + g.to() + ": " + (g.open() ? "open" : "closed"));
            for (Check c : g.checks()) {
                out.println("    [" + (c.passed() ? "x" : " ") + "] " + c.evidence());
            }
        }
    }

    /**
     * The write switch (docs/phases.md): the sync's direction, what applications are asked to do,
     * the write flag, dual-write mismatches with a few keys, relaxed NOT NULL columns, and what a
     * rollback can still do. Nothing without a write switch.
     */
    static void writes(PrintWriter out, MigrationStatus.Writes w) {
        if (w == null) {
            return;
        }
        out.println("  writes sync=" + w.direction() + " (" + ("reverse".equals(w.direction())
                ? "old = reverse(new)" : "new = transform(old)") + "); applications " + w.applications());
        out.println("    write flag " + (w.writeFlag() == null ? w.writeFlagName() + " not set (writes the old shape)"
                : w.writeFlag().name() + "=" + w.writeFlag().value() + " v" + w.writeFlag().version()));
        out.println("    dual-write mismatches " + w.mismatches() + " key(s), " + w.recentMismatches()
                + " within writes.cleanFor" + (w.mismatchKeys().isEmpty() ? "" : "; latest keys "
                + String.join(" ", w.mismatchKeys())));
        if (!w.relaxedNotNull().isEmpty()) {
            out.println("    NOT NULL relaxed on " + String.join(", ", w.relaxedNotNull())
                    + " (restored, validated, if the write switch is undone)");
        }
        if (w.oldShapeWrites() != null) {
            MigrationStatus.OldShapeWrites o = w.oldShapeWrites();
            out.println("    old-shape writes after the write switch: " + (o.passed() ? "none" : "SEEN") + " — " + o.check());
        }
        out.println("    " + w.rollback());
    }

    /** Which cdc-bridge leads the migration's slot now (the session holding its lock), and how many are connected. */
    @SuppressWarnings("unchecked")
    static void bridge(PrintWriter out, java.util.Map<String, Object> health) {
        java.util.Map<String, Object> b = (java.util.Map<String, Object>) health.get("bridge");
        if (b.get("slot") == null) {
            return;
        }
        java.util.Map<String, Object> leader = (java.util.Map<String, Object>) b.get("leader");
        out.println("  bridge slot=" + b.get("slot") + " " + (leader == null ? "NO LEADER (no bridge holds the slot's lock)"
                : "leader pid=" + leader.get("pid") + " from " + leader.get("client") + " (session since "
                        + leader.get("sessionStart") + ")") + ", " + b.get("bridgeSessions") + " bridge session(s) connected");
    }

    /** Rows that violate the staged structure, by item (docs/constraints.md); at most 10 keys per item here. */
    static void findings(PrintWriter out, List<FindingStore.Finding> findings) {
        String item = null;
        int shown = 0;
        for (FindingStore.Finding f : findings) {
            if (!f.item().equals(item)) {
                item = f.item();
                shown = 0;
                out.println("  findings " + f.item() + ": " + f.total() + " " + f.kind() + "(s), not enforced");
            }
            if (shown++ < 10) {
                out.println("    key " + f.key() + (f.detail() == null ? "" : " " + f.detail()));
            }
        }
    }

    /** {@code shapeshift audit [MIGRATION]}: who did what, and why. */
    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Show the audit log.")
    public static final class Audit extends DbCommand implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "One migration (default: all).")
        String migration;

        @Option(names = "--after", paramLabel = "ID", description = "Only entries after this id.")
        long after;

        @Option(names = "--limit", paramLabel = "N", description = "At most this many entries (default 100).")
        int limit = 100;


        @Override
        public Integer call() {
            Catalog catalog = db.catalog();
            List<AuditEntry> entries = catalog.auditLog(migration, after, limit);
            PrintWriter out = command.commandLine().getOut();
            if (output.json()) {
                out.println(Json.write(entries));
            } else {
                for (AuditEntry e : entries) {
                    out.println(e.id() + " " + e.at() + " " + (e.migration() == null ? "-" : e.migration()) + " "
                            + e.actor() + " " + e.action()
                            + (e.toPhase() == null ? "" : " " + e.fromPhase() + " -> " + e.toPhase())
                            + (e.reason() == null ? "" : " \"" + e.reason() + "\""));
                }
            }
            out.flush();
            return 0;
        }
    }
}
