package dev.shapeshift.launcher.bench;

import dev.shapeshift.launcher.bench.AppCostBench.AppLoad;
import dev.shapeshift.launcher.bench.AppCostBench.Window;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of {@link AppCostBench}: each window's line as it ends, and the result files
 * ({@code <date>-backfill-app-cost-s<scale>-<rows>.md} and {@code .json}), every backfill's ratio
 * against the windows without Shapeshift next to it.
 */
final class AppCostReport {
    private AppCostReport() {
    }

    /** The mean of the windows without Shapeshift next to window i (before and after it). */
    private static double neighbourTps(List<Window> windows, int i) {
        return java.util.stream.IntStream.of(i - 1, i + 1).filter(j -> j >= 0 && j < windows.size())
                .mapToObj(windows::get).filter(w -> w.backfillRows() == null).mapToDouble(Window::tps).average()
                .orElse(Double.NaN);
    }

    private static double neighbourMs(List<Window> windows, int i) {
        return java.util.stream.IntStream.of(i - 1, i + 1).filter(j -> j >= 0 && j < windows.size())
                .mapToObj(windows::get).filter(w -> w.backfillRows() == null).mapToDouble(Window::appStatementMs)
                .average().orElse(Double.NaN);
    }

    private static double quietTps(List<Window> windows) {
        return windows.stream().filter(w -> w.backfillRows() == null).mapToDouble(Window::tps).average().orElse(Double.NaN);
    }

    private static double quietMs(List<Window> windows) {
        return windows.stream().filter(w -> w.backfillRows() == null).mapToDouble(Window::appStatementMs).average()
                .orElse(Double.NaN);
    }

    static Window print(PrintStream out, List<Window> windows, Window w) {
        out.printf(Locale.ROOT, "%-40s %6.1f s  %7.1f tps (%.2f x without)  app statements %.3f ms%s%n", w.name(),
                w.seconds(), w.tps(), w.tps() / quietTps(windows), w.appStatementMs(), w.backfillRows() == null ? ""
                        : String.format(Locale.ROOT, "  backfill %,.0f rows/s", w.backfillRows() / w.seconds()));
        return w;
    }

    static Path write(BenchOptions o, AppLoad a, Map<String, String> machine, OffsetDateTime started,
                              List<Window> windows) throws Exception {
        double tps0 = quietTps(windows);
        double ms0 = quietMs(windows);
        StringBuilder b = new StringBuilder("# Backfill cost to the application: pgbench throughput without Shapeshift, "
                + "during a backfill, during a backfill under max-app-latency-pct\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append(String.format(Locale.ROOT, "- application: `pgbench -n -c %d -j %d` (built-in TPC-B-like script) as role "
                + "`%s`, scale %d (%,d accounts), running all along; transactions counted as rows added to "
                + "pgbench_history per window%n", a.clients(), a.threads(), AppCostBench.APP_ROLE, a.scale(), a.scale() * 100_000L));
        b.append(String.format(Locale.ROOT, "- backfill: %s, %,d rows of bench_src (not pgbench's tables: no shared row "
                + "locks, no sync), %d worker(s), chunkRows %d%n", o.mode(), o.rows(), o.workers().get(0), o.chunkRows()));
        b.append("- baseline: the windows without Shapeshift of this same run, one right before each backfill (after its "
                + "table's reload) and one at the end; **each backfill's ratio is against the mean of the two windows "
                + "next to it** (the machine's other load drifts over minutes), the last column against all of them\n");
        b.append("- app statement ms: mean execution time per statement of role bench_app (pg_stat_statements) in the "
                + "window — what the cap compares; seen share: statements per transaction × that time ÷ the transaction "
                + "time pgbench's clients saw (clients ÷ tps), i.e. how much of the application's time the signal sees "
                + "(commit, WAL flush, client and network time are outside it)\n");
        b.append("- held: share of 200 ms samples in which a running chunk waited on a `load:` reason; baseline: the "
                + "`app-latency-baseline-us` the workers measured (5 s, no worker copying) and stored\n\n");
        b.append("| window | seconds | pgbench tps | tps ÷ without (next to it) | app statement ms | ÷ without (next to it) "
                + "| statements / txn | seen share | backfill rows/s | held | baseline (µs) | tps ÷ without (next to it), "
                + "after the baseline was stored | tps ÷ without (all) | load avg start → end |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<Map<String, Object>> json = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            Window w = windows.get(i);
            boolean bf = w.backfillRows() != null;
            double near = bf ? neighbourTps(windows, i) : tps0;
            double nearMs = bf ? neighbourMs(windows, i) : ms0;
            double perTxn = w.statements() / (double) w.transactions();
            double seen = perTxn * w.appStatementMs() / (a.clients() * 1000.0 / w.tps());
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %s | %.3f | %s | %.1f | %.1f%% | %s | %s | %s | %s | "
                            + "%.2f | %s → %s |%n",
                    w.name(), w.seconds(), w.tps(), bf ? String.format(Locale.ROOT, "**%.2f**", w.tps() / near) : "–",
                    w.appStatementMs(), bf ? String.format(Locale.ROOT, "%.2f", w.appStatementMs() / nearMs) : "–",
                    perTxn, seen * 100,
                    bf ? String.format(Locale.ROOT, "%,.0f", w.backfillRows() / w.seconds()) : "–",
                    w.heldShare() == null ? "–" : String.format(Locale.ROOT, "%.0f%%", w.heldShare() * 100),
                    w.baselineUs() == null ? "–" : w.baselineUs().toString(),
                    w.tpsAfterBaseline() == null ? "–" : String.format(Locale.ROOT, "%.2f", w.tpsAfterBaseline() / near),
                    w.tps() / tps0, Machine.load3(w.loadStart()), Machine.load3(w.loadEnd())));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("window", w.name());
            j.put("seconds", w.seconds());
            j.put("transactions", w.transactions());
            j.put("tps", w.tps());
            j.put("tpsRatioNextTo", bf ? w.tps() / near : null);
            j.put("tpsRatioAll", w.tps() / tps0);
            j.put("appStatementMs", w.appStatementMs());
            j.put("appStatementsPerTransaction", perTxn);
            j.put("seenShare", seen);
            j.put("backfillRows", w.backfillRows());
            j.put("backfillRowsPerSecond", bf ? w.backfillRows() / w.seconds() : null);
            j.put("heldShare", w.heldShare());
            j.put("baselineUs", w.baselineUs());
            j.put("tpsRatioNextToAfterBaseline", w.tpsAfterBaseline() == null ? null : w.tpsAfterBaseline() / near);
            j.put("loadAverageStart", w.loadStart());
            j.put("loadAverageEnd", w.loadEnd());
            json.add(j);
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("scale", a.scale());
        fields.put("clients", a.clients());
        fields.put("rows", o.rows());
        fields.put("mode", o.mode().toString());
        fields.put("workers", o.workers().get(0));
        fields.put("windows", json);
        String base = started.toLocalDate() + "-backfill-app-cost-s" + a.scale() + "-" + o.rows()
                + (o.label().isEmpty() ? "" : "-" + o.label());
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }
}
