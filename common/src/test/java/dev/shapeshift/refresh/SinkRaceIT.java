package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.embedded.ModelDiff;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.sinks.MemorySinkProvider;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The race of a sink (FAILURE-MODES.md, "external sink reorders"): the backfill reads rows and
 * applies them to the sink 150 ms later ({@code applyDelay} of its sink instance), while two
 * application writers update, delete, insert and re-key the same rows and a sync refreshes the
 * changed keys a few ms after each commit and applies them at once. Both go through the real
 * {@link SinkRefresh} (versions read under the row lock) and {@link SinkApplier}; the sink is the
 * in-memory {@link MemorySink}.
 *
 * <p>The check is an independent Java model of the transform over the final source rows, compared
 * key by key with the sink's live rows (missing, zombies, stale). With the version rule the sink
 * must equal the model; the negative control runs the same history with {@code checkVersions:
 * false} (apply blindly) and must be caught by the same check.
 */
@ExtendWith(PostgresExtension.class)
class SinkRaceIT {
    private static final Logger log = LoggerFactory.getLogger(SinkRaceIT.class);
    private static final Duration WINDOW = Duration.ofMillis(150);
    private static final int ROWS = 1500;
    private static final int CHUNK = 100;
    private static final int SUB_BATCH = 40;

    private final PostgresServer pg;

    SinkRaceIT(PostgresServer pg) {
        this.pg = pg;
    }

    static List<Arguments> cases() {
        return List.of(
                Arguments.of(KeyKind.BIGINT, 21L),
                Arguments.of(KeyKind.COMPOSITE, 22L),
                Arguments.of(KeyKind.UUID, 23L));
    }

    record Outcome(RowCheck check, long writes, long syncRows, long skippedOlder, long applicationFailures) {
    }

    @ParameterizedTest(name = "{0} seed={1}")
    @MethodSource("cases")
    void versionedSinkConvergesWhileBackfillAndSyncRace(KeyKind kind, long seed) throws Exception {
        Outcome o = run(kind, seed, true);
        assertThat(o.check).as("sink vs transform(source) after %s", o).isEqualTo(new RowCheck(0, 0, 0));
        assertThat(o.skippedOlder).as("the race happened: late backfill rows were refused as older (%s)", o).isPositive();
        assertThat(o.applicationFailures).as("application transactions aborted by the workers").isZero();
    }

    @ParameterizedTest(name = "{0} seed={1}")
    @MethodSource("cases")
    void negativeControlWithoutTheVersionCheckIsCaught(KeyKind kind, long seed) throws Exception {
        Outcome o = run(kind, seed, false);
        assertThat(o.check.stale() + o.check.extra())
                .as("a sink applying rows blindly must end with stale rows or zombies that the check finds: %s", o)
                .isPositive();
    }

    private Outcome run(KeyKind kind, long seed, boolean checkVersions) throws Exception {
        Race race = new Race(pg, "sinkrace", kind, Mode.TABLE, seed, ROWS);
        RefreshFixture f = race.f;
        String store = "race-" + race.database;
        SinkRefresh refresh = new SinkRefresh(f.resolved);
        AtomicBoolean closing = new AtomicBoolean();
        SinkApplier backfillSink = applier(f, store, checkVersions, WINDOW.toMillis(), closing);
        SinkApplier syncSink = applier(f, store, checkVersions, 0, closing);
        AtomicLong syncRows = new AtomicLong();
        Thread backfiller = race.backfill(CHUNK, (c, range) -> {
            while (true) {
                KeyRange current = range;
                SinkRefresh.RangeBatch batch = race.tx.run(c, conn -> refresh.forRange(conn, current, SUB_BATCH));
                if (batch.lastKey() == null) {
                    break;
                }
                backfillSink.apply(batch.rows()); // after the commit, 150 ms late
                range = range.resumeAfter(batch.lastKey());
            }
        });
        Thread syncer = race.sync((c, batch) -> {
            List<SinkRow> rows = race.tx.run(c, conn -> refresh.forKeys(conn, batch));
            syncSink.apply(rows);
            syncRows.addAndGet(rows.size());
        });
        race.writeUntilBackfilled(backfiller, syncer, () -> {
            closing.set(true);
            backfillSink.close();
            syncSink.close();
        });
        MemorySink.Store s = MemorySink.store(store);
        Outcome o = new Outcome(check(f, s.live()), race.writes.get(), syncRows.get(), s.skippedOlder.get(),
                race.appFailures.get());
        log.info("sink race outcome kind={} checkVersions={} outcome={}", kind, checkVersions, o);
        return o;
    }

    private static SinkApplier applier(RefreshFixture f, String store, boolean checkVersions, long delayMs,
                                       AtomicBoolean closing) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("store", store);
        settings.put("checkVersions", Boolean.toString(checkVersions));
        settings.put("applyDelay", Long.toString(delayMs));
        settings.put("maxBatchRows", "1000");
        List<SinkColumn> columns = f.resolved.spec().target().columns().stream()
                .map(c -> new SinkColumn(c.name(), c.type())).toList();
        SinkContext context = new SinkContext("sink-race", f.resolved.keyNames(), columns, settings);
        return new SinkApplier(new MemorySinkProvider(), context, SinkApplier.Listener.NONE, closing::get);
    }

    /** The independent model: transform(source) computed here, in Java, compared with the sink's live rows. */
    private static RowCheck check(RefreshFixture f, Map<SinkKey, SinkRow> sink) throws Exception {
        Map<SinkKey, List<String>> expected = new HashMap<>();
        String keySelect = String.join(", ", f.kind.columns.stream().map(k -> k.name() + "::text").toList());
        int w = f.kind.columns.size();
        try (Connection c = f.db.connect("test"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + keySelect + ", a, b, big FROM src")) {
            while (rs.next()) {
                List<String> k = new ArrayList<>();
                for (int i = 1; i <= w; i++) {
                    k.add(rs.getString(i));
                }
                int a = rs.getInt(w + 1);
                String b = rs.getString(w + 2);
                String big = rs.getString(w + 3);
                expected.put(new SinkKey(k), java.util.Arrays.asList(Integer.toString(a * 2),
                        a % 5 == 0 || b == null ? null : b.toUpperCase(Locale.ROOT), big == null ? null : RefreshFixture.md5(big)));
            }
        }
        Map<SinkKey, List<String>> live = new HashMap<>();
        sink.forEach((k, row) -> live.put(k, new ArrayList<>(row.values().values())));
        ModelDiff d = ModelDiff.compare(expected, live);
        return RowCheck.of(d);
    }
}
