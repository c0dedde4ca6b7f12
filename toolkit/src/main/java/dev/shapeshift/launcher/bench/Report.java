package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shapeshift.spec.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes one benchmark's results as {@code <date>-backfill-<mode>-<rows>.md} and {@code .json}:
 * the machine, the command, and every measurement with its ratio to the same run's bulk baseline.
 */
final class Report {
    private Report() {
    }

    static Path write(BenchOptions o, Map<String, String> machine, Measurement bulk, List<Measurement> peers,
                      List<Measurement> runs, List<Measurement> shapes, List<String> plans, OffsetDateTime started)
            throws IOException {
        Files.createDirectories(o.out());
        String base = LocalDate.now() + "-backfill-" + (o.mode() == Mode.TABLE ? "table" : "in-place") + "-" + o.rows()
                + (o.label().isEmpty() ? "" : "-" + o.label());
        Path md = o.out().resolve(base + ".md");
        String text = markdown(o, machine, bulk, peers, runs, shapes, started);
        if (!plans.isEmpty()) {
            text += "\n## Plan of one backfill sub-batch\n\n```\n" + String.join("\n", plans) + "\n```\n";
        }
        Files.writeString(md, text);
        Files.writeString(o.out().resolve(base + ".json"), json(o, machine, bulk, peers, runs, shapes, started));
        return md;
    }

    private static String markdown(BenchOptions o, Map<String, String> machine, Measurement bulk,
                                   List<Measurement> peers, List<Measurement> runs, List<Measurement> shapes, OffsetDateTime started) {
        StringBuilder b = new StringBuilder();
        b.append("# Backfill benchmark: ").append(o.mode() == Mode.TABLE ? "table" : "in-place").append(" mode, ")
                .append(String.format(Locale.ROOT, "%,d", o.rows())).append(" rows\n\n");
        b.append("- date: ").append(started).append("\n");
        b.append("- command: `").append(o.command()).append("`\n");
        b.append("- chunkRows=").append(o.chunkRows()).append(" batchRows=").append(o.batchRows())
                .append(" partitions=").append(o.partitions()).append(" maxHeapGrowth=").append(o.maxHeapGrowth()).append("\n");
        machine.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append("\n"));
        b.append("\nEvery row is a fresh copy of the table (dropped, reloaded, VACUUM ANALYZE, CHECKPOINT). "
                + "Ratio = rows/s ÷ rows/s of the bulk statement of this same run. Transaction times are per "
                + "sub-batch (Shapeshift: statement + checkpoint + commit) or per range (statement shapes).\n\n");
        b.append("Bloat = size after ÷ the size of a compact copy of the same final rows (`CREATE UNLOGGED TABLE … AS "
                + "SELECT *` and its primary key built in one pass): the growth that is dead space, not wider rows. "
                + (o.workerJvms() ? "Workers ran as child JVMs (`shapeshift worker --no-sync`, -Xmx" + o.workerHeap() + "); worker "
                + "peak RSS is each child's VmHWM, the last column the bench JVM's (it also hosts the Kafka broker); "
                + "JVM CPU is the bench JVM plus the children. Child workers report no sub-batch times.\n\n"
                : "Workers ran as threads of the bench JVM; its peak RSS includes the Kafka broker.\n\n"));
        if (!peers.isEmpty()) {
            b.append("Peers (same run, one connection, one transaction per batch, nothing else): "
                    + "**pgroll-style** repeats `" + PeerRuns.pgroll(o.mode()) + "` with ($last, "
                    + PeerRuns.PGROLL_BATCH + "); the **naive keyset loop** repeats `" + PeerRuns.naive(o.mode())
                    + "` with ($last, " + o.naiveBatchRows() + "), committing each.\n\n");
        }
        b.append("## Shapeshift backfill (plan → Kafka → workers → catalog)\n\n");
        table(b, bulk, prepend(bulk, java.util.stream.Stream.concat(peers.stream(), runs.stream()).toList()), true);
        if (!shapes.isEmpty()) {
            b.append("\n## Statement shapes (JDBC only: no Kafka, no catalog, no checkpoint)\n\n");
            table(b, bulk, prepend(bulk, shapes), false);
        }
        return b.toString();
    }

    private static List<Measurement> prepend(Measurement bulk, List<Measurement> rest) {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(bulk), rest.stream()).toList();
    }

    private static void table(StringBuilder b, Measurement bulk, List<Measurement> ms, boolean workers) {
        b.append("| run | ").append(workers ? "workers" : "connections")
                .append(" | rows | s | rows/s | ratio | txns | p50 ms | p99 ms | max ms | WAL MB | WAL B/row | heap MB before→after | index MB before→after | DB CPU s | DB CPU µs/row | JVM CPU s |")
                .append(workers ? " plan+publish s | idle ms/chunk | vacuums | re-leases | compact heap / index MB | heap bloat | index bloat | worker peak RSS MB | peak RSS MB |" : "").append("\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|").append(workers ? "---|---|---|---|---|---|---|---|---|" : "").append("\n");
        for (Measurement m : ms) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.2f | %,.0f | %.2f | %s | %s | %s | %s | %.1f | %.0f | %.1f→%.1f | %.1f→%.1f | %.2f | %.1f | %.2f |",
                    m.name(), m.workers(), m.rows(), m.seconds(), m.rowsPerSecond(),
                    m.rowsPerSecond() / bulk.rowsPerSecond(), str(m.transactions()), ms(m.p50Ms()), ms(m.p99Ms()),
                    ms(m.maxMs()), m.walBytes() / 1e6, (double) m.walBytes() / Math.max(1, m.rows()),
                    m.heapBefore() / 1e6, m.heapAfter() / 1e6, m.indexBefore() / 1e6, m.indexAfter() / 1e6,
                    m.dbCpuSeconds(), m.dbCpuSeconds() * 1e6 / Math.max(1, m.rows()), m.jvmCpuSeconds()));
            if (workers) {
                b.append(" ").append(ms(m.setupSeconds())).append(" | ").append(ms(m.idleMsPerChunk())).append(" | ")
                        .append(str(m.vacuums())).append(" | ").append(str(m.reLeases())).append(" | ")
                        .append(m.compactHeap() == null ? "–" : String.format(Locale.ROOT, "%.1f / %.1f",
                                m.compactHeap() / 1e6, m.compactIndex() / 1e6)).append(" | ")
                        .append(ratio(m.heapBloat())).append(" | ").append(ratio(m.indexBloat())).append(" | ")
                        .append(m.workerPeakRssMb() == null ? "–" : String.join(", ",
                                m.workerPeakRssMb().stream().map(Report::str).toList())).append(" | ")
                        .append(str(m.peakRssMb())).append(" |");
            }
            b.append("\n");
        }
    }

    private static String ms(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String ratio(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String str(Object v) {
        return v == null ? "–" : v.toString();
    }

    private static String json(BenchOptions o, Map<String, String> machine, Measurement bulk, List<Measurement> peers,
                               List<Measurement> runs,
                               List<Measurement> shapes, OffsetDateTime started) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("date", started.toString());
        root.put("command", o.command());
        root.put("mode", o.mode() == Mode.TABLE ? "table" : "in-place");
        root.put("rows", o.rows());
        root.put("chunkRows", o.chunkRows());
        root.put("batchRows", o.batchRows());
        root.put("partitions", o.partitions());
        root.put("maxHeapGrowth", o.maxHeapGrowth());
        root.put("workerJvms", o.workerJvms());
        root.put("workerHeap", o.workerJvms() ? o.workerHeap() : null);
        root.set("machine", mapper.valueToTree(machine));
        root.set("baseline", node(mapper, bulk, bulk));
        ArrayNode p = root.putArray("peers");
        peers.forEach(m -> p.add(node(mapper, m, bulk)));
        ArrayNode r = root.putArray("shapeshift");
        runs.forEach(m -> r.add(node(mapper, m, bulk)));
        ArrayNode s = root.putArray("statementShapes");
        shapes.forEach(m -> s.add(node(mapper, m, bulk)));
        return mapper.writeValueAsString(root) + "\n";
    }

    private static ObjectNode node(ObjectMapper mapper, Measurement m, Measurement bulk) {
        ObjectNode n = mapper.valueToTree(m);
        n.put("rowsPerSecond", Math.round(m.rowsPerSecond()));
        n.put("ratioToBulk", Math.round(m.rowsPerSecond() / bulk.rowsPerSecond() * 1000) / 1000.0);
        if (m.heapBloat() != null) {
            n.put("heapBloat", Math.round(m.heapBloat() * 1000) / 1000.0);
            n.put("indexBloat", Math.round(m.indexBloat() * 1000) / 1000.0);
        }
        return n;
    }
}
