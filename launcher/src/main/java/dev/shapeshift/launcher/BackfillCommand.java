package dev.shapeshift.launcher;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.json.JsonMaps;
import dev.shapeshift.worker.backfill.BackfillProgress;
import dev.shapeshift.worker.throttle.SignalCollector;
import java.io.PrintWriter;
import java.time.Instant;
import dev.shapeshift.coordinator.api.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift backfill pause|resume|status|set|retry MIGRATION}: the backfill's live knobs, as
 * catalog settings every worker re-reads within about a second, and the retry of failed chunks.
 * Every change is audited with the actor and the reason. See docs/throttling.md and docs/backfill.md.
 */
@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = "Pause, resume, rate-limit or inspect a migration's backfill.",
        subcommands = {BackfillCommand.Pause.class, BackfillCommand.Resume.class, BackfillCommand.Status.class,
                BackfillCommand.Set.class, BackfillCommand.Retry.class})
public final class BackfillCommand extends GroupCommand {
    /** The settings {@code backfill set} accepts. */
    static final List<String> SETTABLE = Knob.settable().stream().map(Knob::key).toList();

    abstract static class Change extends AuditedCommand.OnMigration<AuditOptions.Optional> {
        Change() {
            super(new AuditOptions.Optional());
        }

        int put(String setting, String value) {
            Catalog catalog = db.catalog();
            catalog.get(migration);
            catalog.putSetting(migration, setting, value, why.actor, why.reason());
            say("backfill " + migration + ": " + setting + "=" + value
                    + " (workers apply it within about a second)");
            return 0;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stop copying after the current sub-batch.")
    static final class Pause extends Change {
        @Override
        public Integer call() {
            return put(SignalCollector.PAUSED, "true");
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Continue a paused backfill.")
    static final class Resume extends Change {
        @Override
        public Integer call() {
            return put(SignalCollector.PAUSED, "false");
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Change a live knob (docs/throttling.md): max-rows-per-second=N (0 = no cap; shared by all workers), "
                    + "max-active-backends=N (wait while more of others' sessions are active; 0 = off), "
                    + "max-app-latency-ms=N (wait while others' statements average more; 0 = off), "
                    + "max-app-latency-pct=N (the cost cap: wait while others' statements average more than N% above "
                    + "their time before the backfill copied; 0 = off), "
                    + "app-latency-baseline-us=N (that time; 0 = measured by the workers), "
                    + "reindex-above-pct=N (after the backfill, rebuild concurrently an index above N% of its one-pass "
                    + "size; 0 = measure only)."})
    static final class Set extends Change {
        @Parameters(index = "1", paramLabel = "NAME=VALUE", description = "e.g. max-rows-per-second=5000")
        String assignment;

        @Override
        public Integer call() {
            int eq = assignment.indexOf('=');
            String name = eq < 0 ? assignment : assignment.substring(0, eq).trim();
            if (eq < 0 || !SETTABLE.contains(name)) {
                throw new ShapeshiftException(ErrorCode.USAGE, "'" + assignment + "': write NAME=VALUE with NAME one of "
                        + SETTABLE + " (use `backfill pause`/`resume` for pausing)");
            }
            String value;
            try {
                value = Knob.byKey(name).orElseThrow().normalise(assignment.substring(eq + 1));
            } catch (IllegalArgumentException e) {
                throw new ShapeshiftException(ErrorCode.USAGE, e.getMessage());
            }
            return put(name, value);
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = {"Put failed chunks back to pending; the driver publishes their tasks again at its next "
                    + "tick and a worker resumes each from its last checkpoint (docs/backfill.md)."})
    static final class Retry extends Change {
        @Option(names = "--chunk", paramLabel = "N", split = ",",
                description = "Retry only these chunks (repeat or comma-separate); default: every failed chunk.")
        List<Integer> chunks = new java.util.ArrayList<>();

        @Override
        public Integer call() {
            Catalog catalog = db.catalog();
            catalog.get(migration);
            Map<Integer, String> retried = new ChunkStore(catalog).retryFailed(migration, chunks, why.actor, why.reason());
            PrintWriter out = command.commandLine().getOut();
            if (retried.isEmpty()) {
                out.println("backfill " + migration + ": no failed chunks, nothing to retry");
            } else {
                retried.forEach((n, error) -> out.println("chunk " + n + " put back to pending (it had failed: "
                        + (error == null ? "no error recorded" : error) + ")"));
                out.println("backfill " + migration + ": " + retried.size() + " chunk(s) retried; the driver publishes "
                        + "their tasks at its next tick (`shapeshift backfill status " + migration + "` shows progress)");
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Chunks, rows, rate, ETA and settings.")
    static final class Status extends DbCommand.OnMigration implements Callable<Integer> {
        @Override
        public Integer call() throws InterruptedException {
            Catalog catalog = db.catalog();
            catalog.get(migration);
            ChunkStore store = new ChunkStore(catalog);
            var first = new BackfillProgress.Sample(store.totals(migration), Instant.now());
            Thread.sleep(1000);
            var second = new BackfillProgress.Sample(store.totals(migration), Instant.now());
            boolean paused = catalog.setting(migration, SignalCollector.PAUSED).map(Boolean::parseBoolean).orElse(false);
            String cap = catalog.setting(migration, SignalCollector.MAX_ROWS_PER_SECOND).orElse("spec default");
            String backends = catalog.setting(migration, Knob.MAX_ACTIVE_BACKENDS.key()).orElse("0");
            String latency = catalog.setting(migration, Knob.MAX_APP_LATENCY_MS.key()).orElse("0");
            String pct = catalog.setting(migration, Knob.MAX_APP_LATENCY_PCT.key()).orElse("0");
            String baseline = catalog.setting(migration, Knob.APP_LATENCY_BASELINE_US.key()).orElse("0");
            List<ChunkStore.Throttled> throttled = store.throttled(migration);
            String reason = paused ? "paused by operator" : throttled.isEmpty() ? "none"
                    : throttled.get(0).reason() + " (" + throttled.size() + " chunk(s) waiting)";
            BackfillProgress p = BackfillProgress.of(migration, second, first, reason);
            PrintWriter out = command.commandLine().getOut();
            List<Chunk> failed = store.chunks(migration).stream().filter(c -> "failed".equals(c.status())).toList();
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("progress", p);
                json.put("settings", JsonMaps.ordered("paused", paused, SignalCollector.MAX_ROWS_PER_SECOND, cap,
                        Knob.MAX_ACTIVE_BACKENDS.key(), backends, Knob.MAX_APP_LATENCY_MS.key(), latency,
                        Knob.MAX_APP_LATENCY_PCT.key(), pct, Knob.APP_LATENCY_BASELINE_US.key(), baseline));
                json.put("throttled", throttled);
                json.put("failedChunks", failed.stream().map(c -> JsonMaps.ordered("chunk", c.number(),
                        "attempts", c.attempts(), "error", String.valueOf(c.error()))).toList());
                out.println(Json.write(json));
            } else {
                out.println(p.statusLine());
                out.println("settings: paused=" + paused + " max-rows-per-second=" + cap + " max-active-backends=" + backends
                        + " max-app-latency-ms=" + latency + " max-app-latency-pct=" + pct + " app-latency-baseline-us="
                        + baseline);
                for (ChunkStore.Throttled t : throttled) {
                    out.println("running chunk " + t.chunk() + " worker=" + t.owner() + " waits: " + t.reason() + " since " + t.since());
                }
                for (Chunk c : failed) {
                    out.println("failed chunk " + c.number() + " (attempts " + c.attempts() + "): " + c.error());
                }
                if (!failed.isEmpty()) {
                    out.println("failed chunks wait for an operator: fix the cause, then `shapeshift backfill retry "
                            + migration + "`");
                }
            }
            out.flush();
            return 0;
        }
    }
}
