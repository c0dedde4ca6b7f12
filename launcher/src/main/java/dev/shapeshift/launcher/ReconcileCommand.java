package dev.shapeshift.launcher;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.catalog.DriftStore.Drift;
import dev.shapeshift.catalog.DriftStore.Kind;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.reconcile.Reconciler;
import dev.shapeshift.coordinator.reconcile.Repairer;
import dev.shapeshift.coordinator.reconcile.Repairer.RepairReport;
import dev.shapeshift.coordinator.reconcile.RunStore;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.coordinator.reconcile.SyncProgress;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.CatalogSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift reconcile run|status MIGRATION} and, registered as its own top-level command,
 * {@code shapeshift drift list MIGRATION} ({@link DriftCommand}). See docs/reconcile.md.
 */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = "Compare the new shape with transform(old shape); report and repair drift.",
        subcommands = {ReconcileCommand.RunCommand.class, ReconcileCommand.StatusCommand.class})
public final class ReconcileCommand extends GroupCommand {

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run (or continue) one reconcile pass now; with --repair, then repair the open drift.")
    static final class RunCommand extends DbCommand.OnMigration implements Callable<Integer> {
        @Option(names = "--repair", description = "After the pass, refresh every key with open drift and verify it.")
        boolean repair;

        @Mixin
        AuditOptions.Optional why = new AuditOptions.Optional();

        @Override
        public Integer call() {
            Database database = db.database();
            Catalog catalog = new Catalog(database, "coordinator");
            MigrationRecord record = catalog.get(migration);
            ResolvedSpec resolved = CatalogSpec.resolve(database, migration);
            SyncProgress sync = record.slotName() == null ? SyncProgress.NO_SYNC : SyncProgress.slot(database, record.slotName());
            Reconciler reconciler = new Reconciler(catalog, migration, resolved, sync, new SimpleMeterRegistry(),
                    Reconciler.Options.from(resolved.spec().reconcile()));
            // Ctrl-C leaves the run 'stopped' at its last checkpoint; the next `reconcile run` continues it.
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stop.set(true);
                try {
                    finished.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "reconcile-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            Run run;
            try {
                run = reconciler.runOnce(stop::get);
            } finally {
                finished.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            Map<Kind, Long> open = new DriftStore(catalog).openCounts(migration);
            RepairReport report = null;
            if (repair && !stop.get()) {
                report = new Repairer(catalog, resolved, new WorkerTransactions(WorkerTransactions.Policy.DEFAULT))
                        .repair(migration, why.actor, why.reason());
                open = new DriftStore(catalog).openCounts(migration);
            }
            print(command.commandLine().getOut(), output, Optional.of(run), migration, open, report);
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "The latest run's progress and the open drift.")
    static final class StatusCommand extends DbCommand.OnMigration implements Callable<Integer> {
        @Override
        public Integer call() {
            Catalog catalog = new Catalog(db.database(), "cli");
            catalog.get(migration);
            Optional<Run> run = new RunStore(catalog).latest(migration);
            print(command.commandLine().getOut(), output, run, migration, new DriftStore(catalog).openCounts(migration), null);
            return 0;
        }
    }

    /** A run (none: never run), the open drift and the repair if one ran, as text or JSON. */
    private static void print(PrintWriter out, OutputOptions output, Optional<Run> run, String migration,
            Map<Kind, Long> open, RepairReport report) {
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("run", run.map(ReconcileCommand::runJson).orElse(null));
            json.put("openDrift", kinds(open));
            if (report != null) {
                json.put("repair", report);
            }
            out.println(OutputFormat.json(json));
        } else {
            out.println(run.map(ReconcileCommand::statusLine).orElse("reconcile " + migration + ": never run"));
            out.println("open drift: " + openLine(open));
            if (report != null) {
                out.println("repair: refreshed " + report.refreshed() + " keys, wrote " + report.written()
                        + ", resolved " + report.resolved() + ", still different " + report.stillDifferent());
            }
        }
        out.flush();
    }

    /** {@code shapeshift drift list MIGRATION}: register this class as a top-level subcommand. */
    @Command(name = "drift", mixinStandardHelpOptions = true, description = "Inspect the drift reconcile found.",
            subcommands = {DriftCommand.ListCommand.class})
    public static final class DriftCommand extends GroupCommand {

        @Command(name = "list", mixinStandardHelpOptions = true,
                description = "Open drift rows, one per key, a page at a time (keys in the catalog's JSON form).")
        static final class ListCommand extends DbCommand.OnMigration implements Callable<Integer> {
            @Option(names = "--limit", paramLabel = "N", description = "Rows per page (default 100).")
            int limit = 100;

            @Option(names = "--after", paramLabel = "KEY", description = "Start after this key, e.g. '[\"42\"]' (from the previous page).")
            String after;

            @Option(names = "--all", description = "Include resolved drift.")
            boolean all;

            @Override
            public Integer call() {
                if (limit < 1) {
                    throw new ShapeshiftException(ErrorCode.USAGE, "--limit " + limit + ": write a positive number of rows");
                }
                Key afterKey;
                try {
                    afterKey = ChunkStore.key(after);
                } catch (ShapeshiftException e) {
                    throw new ShapeshiftException(ErrorCode.USAGE, "--after " + after
                            + ": write a key as a JSON array of its columns' text, e.g. '[\"42\"]' or '[\"eu\", \"7\"]'");
                }
                Catalog catalog = new Catalog(db.database(), "cli");
                catalog.get(migration);
                List<Drift> page = new DriftStore(catalog).page(migration, afterKey, limit, all);
                PrintWriter out = command.commandLine().getOut();
                String next = page.size() == limit ? ChunkStore.json(page.get(page.size() - 1).key()) : null;
                if (output.json()) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (Drift d : page) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("key", d.key().values());
                        row.put("kind", d.kind().label());
                        row.put("firstSeen", String.valueOf(d.firstSeen()));
                        row.put("lastSeen", String.valueOf(d.lastSeen()));
                        row.put("resolvedAt", d.resolvedAt() == null ? null : d.resolvedAt().toString());
                        row.put("run", d.runId());
                        rows.add(row);
                    }
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("drift", rows);
                    json.put("nextAfter", next);
                    out.println(OutputFormat.json(json));
                } else {
                    for (Drift d : page) {
                        out.println(ChunkStore.json(d.key()) + "  " + d.kind().label() + "  first " + d.firstSeen()
                                + "  last " + d.lastSeen() + (d.open() ? "" : "  resolved " + d.resolvedAt()));
                    }
                    out.println(page.isEmpty() ? "no " + (all ? "" : "open ") + "drift" + (after == null ? "" : " after " + after)
                            : next == null ? "(end)" : "more: --after '" + next + "'");
                }
                out.flush();
                return 0;
            }
        }
    }

    static String statusLine(Run run) {
        var p = run.progress(Instant.now());
        Duration eta = p.eta();
        return "reconcile " + run.migration() + " run " + run.id() + " " + run.status() + ": "
                + run.rangesDone() + " ranges, " + run.rowsChecked() + " rows checked ("
                + Math.round(p.fraction() * 100) + "%" + (eta == null || run.finished() ? "" : ", ETA " + eta.toSeconds() + "s")
                + "), re-checked " + run.keysRechecked() + " (lag " + run.transientKeys() + "), drift found "
                + run.driftFound() + (run.message() == null ? "" : " — " + run.message());
    }

    private static String openLine(Map<Kind, Long> open) {
        StringBuilder sb = new StringBuilder();
        for (var e : open.entrySet()) {
            sb.append(sb.length() == 0 ? "" : " ").append(e.getKey().label()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    private static Map<String, Long> kinds(Map<Kind, Long> open) {
        Map<String, Long> out = new LinkedHashMap<>();
        open.forEach((k, v) -> out.put(k.label(), v));
        return out;
    }

    private static Map<String, Object> runJson(Run run) {
        var p = run.progress(Instant.now());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", run.id());
        json.put("status", run.status());
        json.put("startedAt", String.valueOf(run.startedAt()));
        json.put("finishedAt", run.finishedAt() == null ? null : run.finishedAt().toString());
        json.put("lastKey", run.lastKey() == null ? null : run.lastKey().values());
        json.put("rangesDone", run.rangesDone());
        json.put("rowsChecked", run.rowsChecked());
        json.put("estimatedRows", run.estimatedRows());
        json.put("progress", p.fraction());
        json.put("etaSeconds", p.eta() == null ? null : p.eta().toSeconds());
        json.put("keysRechecked", run.keysRechecked());
        json.put("transient", run.transientKeys());
        json.put("driftFound", run.driftFound());
        json.put("message", run.message());
        return json;
    }
}
