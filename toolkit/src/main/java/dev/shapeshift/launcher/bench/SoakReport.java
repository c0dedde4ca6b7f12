package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Writes a soak's results: {@code <date>-soak-<minutes>min[-label].md} (machine, command, the final
 * checks, the kills, memory and descriptors per role incarnation), {@code .html} (the same series
 * drawn as inline SVG, no script, no external file) and {@code .json} (every sample).
 */
final class SoakReport {
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

    private SoakReport() {
    }

    static Path write(SoakBench.Options o, Map<String, String> machine, OffsetDateTime started, int backfillRate,
                      List<SoakBench.Sample> samples, List<SoakBench.Event> events, SoakBench.Outcome outcome, Path work)
            throws IOException {
        Files.createDirectories(o.out());
        String base = LocalDate.now() + "-soak-" + o.minutes() + "min" + (o.label().isEmpty() ? "" : "-" + o.label());
        Path md = o.out().resolve(base + ".md");
        Files.writeString(md, markdown(o, machine, started, backfillRate, samples, events, outcome, work, base));
        Files.writeString(o.out().resolve(base + ".html"), html(o, samples, events, outcome, started));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", o.command());
        json.put("started", started.toString());
        json.put("machine", machine);
        json.put("note", o.note());
        json.put("backfillMaxRowsPerSecond", backfillRate);
        json.put("outcome", outcome);
        json.put("events", events);
        json.put("samples", samples);
        Files.writeString(o.out().resolve(base + ".json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
        return md;
    }

    private static String markdown(SoakBench.Options o, Map<String, String> machine, OffsetDateTime started, int backfillRate,
                                   List<SoakBench.Sample> samples, List<SoakBench.Event> events, SoakBench.Outcome r,
                                   Path work, String base) {
        StringBuilder b = new StringBuilder();
        b.append("# Soak: ").append(o.minutes()).append(" minutes of pgbench TPC-B load, a migration from start to ")
                .append("contract, a role killed every ~").append(o.killEverySeconds()).append(" s\n\n");
        b.append("**Result: ").append(r.failure() == null ? "passed" : "FAILED — " + r.failure()).append("**\n\n");
        b.append("- date: ").append(started).append(" (ended ").append(OffsetDateTime.now()).append(")\n");
        b.append("- command: `").append(o.command()).append("`\n");
        if (!o.note().isEmpty()) {
            b.append("- note: ").append(o.note()).append("\n");
        }
        machine.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append("\n"));
        b.append("- load average at end: ").append(Machine.loadAverage()).append("\n");
        b.append("- roles: coordinator, cdc-bridge, worker-1, worker-2, each a child JVM (`java -Xmx").append(o.heap())
                .append(" -XX:+UseSerialGC -cp shapeshift-all.jar dev.shapeshift.launcher.Main <role> …`); PostgreSQL ")
                .append("(embedded, fsync on) and Kafka (embedded KRaft broker) in the bench JVM's process tree, not killed\n");
        b.append("- migration: `pgbench_accounts` in place, `abalance_cents bigint = abalance::bigint * 100`, ")
                .append(String.format(Locale.ROOT, "%,d", 100_000L * o.scale())).append(" rows, backfill.maxRowsPerSecond ")
                .append(backfillRate).append(", contract drops `abalance`; registered with `shapeshift start`, driven by ")
                .append("the coordinator, read switch and contract approved with `shapeshift phase advance` and ")
                .append("`shapeshift contract`\n");
        b.append("- plots: [").append(base).append(".html](").append(base).append(".html); every sample: ")
                .append(base).append(".json; role logs were in ").append(work).append(" (not kept)\n\n");

        b.append("## Final checks\n\n");
        b.append("| check | value |\n|---|---|\n");
        if (r.pgbench() != null) {
            b.append(String.format(Locale.ROOT, "| pgbench (-c %d -R %d -T %d) | %.1f tps, %,d transactions, %d failed, "
                            + "latency avg %s ms, schedule lag avg %s ms (max %s) |%n", o.clients(), o.rate(), o.minutes() * 60,
                    r.pgbench().tps(), r.pgbench().transactions(), r.pgbench().failed(), r.pgbench().latencyAvgMs(),
                    r.pgbench().scheduleLagAvgMs(), r.pgbench().scheduleLagMaxMs()));
        } else {
            b.append("| pgbench | failed: ").append(r.pgbenchError()).append(" |\n");
        }
        b.append(String.format(Locale.ROOT, "| reached `verified` at | %s |%n",
                r.verifiedAtMinute() < 0 ? "—" : String.format(Locale.ROOT, "minute %.1f", r.verifiedAtMinute())));
        b.append("| rows with new ≠ transform(old) once `verified` (the load stopped; `").append(SoakBench.WRONG).append("`) | ")
                .append(r.wrongAtLoadEnd()).append(" |\n");
        b.append(String.format(Locale.ROOT, "| … after waiting for it to reach 0 (%.1f s later) | %d |%n", r.convergedSeconds(),
                r.wrongBeforeContract()));
        b.append("| new column before / after the contract (count / sum / hash) | ").append(r.fingerprintBefore())
                .append(" / ").append(r.fingerprintAfter()).append(" |\n");
        b.append("| phase at the end; old column dropped | ").append(r.phaseAtEnd()).append("; ").append(r.oldColumnDropped())
                .append(" |\n");
        b.append("| accounts whose `abalance_cents` ≠ 100 × sum of their `pgbench_history` deltas, after the contract | ")
                .append(r.wrongByHistory()).append(" |\n\n");

        b.append("## Kills and unplanned exits (seed ").append(o.seed()).append(")\n\n");
        b.append("| minute | role | incarnation | pid | what | phase then |\n|---:|---|---:|---:|---|---|\n");
        for (SoakBench.Event e : events) {
            b.append(String.format(Locale.ROOT, "| %.1f | %s | %d | %d | %s | %s |%n", e.minute(), e.role(), e.incarnation(),
                    e.pid(), e.what(), e.phase()));
        }
        b.append("\nA killed role was started again 5 s later with the same command.\n\n");

        b.append("## Memory and file descriptors per role incarnation\n\n");
        b.append("RSS from `/proc/<pid>/status` (VmRSS), descriptors = entries of `/proc/<pid>/fd`, every ")
                .append(o.sampleSeconds()).append(" s. \"At ¼\" is the sample a quarter into the incarnation's life (after ")
                .append("start-up), \"last\" its last sample: flat means last ≈ at ¼.\n\n");
        b.append("| role | incarnation | minutes | samples | RSS MB at ¼ | RSS MB max | RSS MB last | fds at ¼ | fds max | fds last | "
                + "threads at ¼ | threads last |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String role : roles(samples)) {
            for (List<Point> life : incarnations(samples, role)) {
                if (life.isEmpty()) {
                    continue;
                }
                Point q = life.get(life.size() / 4);
                Point last = life.get(life.size() - 1);
                b.append(String.format(Locale.ROOT, "| %s | %d | %.1f–%.1f | %d | %d | %d | %d | %d | %d | %d | %d | %d |%n",
                        role, life.get(0).incarnation, life.get(0).minute, last.minute, life.size(), q.usage.rssKb() / 1024,
                        life.stream().mapToLong(p -> p.usage.rssKb()).max().orElse(0) / 1024, last.usage.rssKb() / 1024,
                        q.usage.fds(), life.stream().mapToInt(p -> p.usage.fds()).max().orElse(0), last.usage.fds(),
                        q.usage.threads(), last.usage.threads()));
            }
        }
        b.append("\n## Slot retained WAL, database sessions, load\n\n");
        if (!samples.isEmpty()) {
            SoakBench.Sample max = samples.stream().max((x, y) -> Long.compare(x.slotRetainedBytes(), y.slotRetainedBytes())).get();
            SoakBench.Sample last = samples.get(samples.size() - 1);
            b.append(String.format(Locale.ROOT, "- slot retained WAL (`pg_current_wal_lsn() - restart_lsn`): max %.1f MB at "
                            + "minute %.1f, last %.1f MB%n", max.slotRetainedBytes() / 1048576.0, max.minute(),
                    last.slotRetainedBytes() / 1048576.0));
            b.append(String.format(Locale.ROOT, "- sessions on the database (`pg_stat_activity`): min %d, max %d, last %d%n",
                    samples.stream().mapToLong(SoakBench.Sample::backends).min().getAsLong(),
                    samples.stream().mapToLong(SoakBench.Sample::backends).max().getAsLong(), last.backends()));
            b.append("- phases seen (first sample in each): ");
            String seen = null;
            List<String> phases = new ArrayList<>();
            for (SoakBench.Sample s : samples) {
                if (s.phase() != null && !s.phase().equals(seen)) {
                    seen = s.phase();
                    phases.add(String.format(Locale.ROOT, "%s at %.1f", seen, s.minute()));
                }
            }
            b.append(String.join(", ", phases)).append("\n");
        }
        b.append("\n## CLI calls\n\n");
        r.cli().forEach(line -> b.append("- ").append(line.replace("|", "\\|")).append("\n"));
        return b.toString();
    }

    /** A role's sample: which incarnation it was (numbered by restarts), when, what /proc said. */
    private record Point(int incarnation, double minute, RoleJvms.Usage usage) {
    }

    private static Set<String> roles(List<SoakBench.Sample> samples) {
        Set<String> roles = new LinkedHashSet<>();
        samples.forEach(s -> roles.addAll(s.roles().keySet()));
        return roles;
    }

    /** A role's samples, one list per incarnation (numbered by its starts). */
    private static List<List<Point>> incarnations(List<SoakBench.Sample> samples, String role) {
        Map<Integer, List<Point>> out = new java.util.TreeMap<>();
        for (SoakBench.Sample s : samples) {
            RoleJvms.Usage u = s.roles().get(role);
            if (u != null && u.rssKb() >= 0) {
                int n = s.incarnations().get(role);
                out.computeIfAbsent(n, k -> new ArrayList<>()).add(new Point(n, s.minute(), u));
            }
        }
        return new ArrayList<>(out.values());
    }

    private static String html(SoakBench.Options o, List<SoakBench.Sample> samples, List<SoakBench.Event> events,
                               SoakBench.Outcome r, OffsetDateTime started) {
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Shapeshift soak ")
                .append(started.toLocalDate()).append("</title><style>body{font-family:sans-serif;max-width:980px}"
                        + "svg{background:#fff;border:1px solid #ccc}</style></head><body>");
        b.append("<h1>Shapeshift soak, ").append(o.minutes()).append(" minutes</h1><p>").append(escape(o.command()))
                .append("<br>started ").append(started).append("; result: <b>")
                .append(r.failure() == null ? "passed" : "FAILED — " + escape(r.failure())).append("</b>. Dashed lines: a role ")
                .append("killed (SIGKILL); dotted: a role that exited by itself.</p>");
        Set<String> roles = roles(samples);
        b.append(chart("Resident memory per role (MB)", samples, events, roles,
                role -> s -> s.roles().containsKey(role) && s.roles().get(role).rssKb() >= 0 ? s.roles().get(role).rssKb() / 1024.0 : Double.NaN));
        b.append(chart("Open file descriptors per role", samples, events, roles,
                role -> s -> s.roles().containsKey(role) && s.roles().get(role).fds() >= 0 ? s.roles().get(role).fds() : Double.NaN));
        b.append(chart("Threads per role", samples, events, roles,
                role -> s -> s.roles().containsKey(role) && s.roles().get(role).threads() >= 0 ? s.roles().get(role).threads() : Double.NaN));
        b.append(chart("Replication slot retained WAL (MB)", samples, events, Set.of("slot"),
                role -> s -> s.slotRetainedBytes() / 1048576.0));
        b.append(chart("Sessions on the database", samples, events, Set.of("pg_stat_activity"), role -> s -> s.backends()));
        List<Double> tps = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            SoakBench.Sample s = samples.get(i);
            SoakBench.Sample p = i == 0 ? null : samples.get(i - 1);
            tps.add(p == null || s.minute() <= p.minute() ? Double.NaN
                    : (s.historyRows() - p.historyRows()) / ((s.minute() - p.minute()) * 60));
        }
        b.append(chart("pgbench transactions per second (rows added to pgbench_history per second)", samples, events,
                Set.of("tps"), role -> s -> tps.get(samples.indexOf(s))));
        b.append(chart("Backfill chunks done", samples, events, Set.of("chunks done"), role -> s -> s.chunksDone()));
        return b.append("</body></html>\n").toString();
    }

    /** One line chart as inline SVG: minutes on x, one line per series, event markers. */
    private static String chart(String title, List<SoakBench.Sample> samples, List<SoakBench.Event> events, Set<String> series,
                                java.util.function.Function<String, ToDoubleFunction<SoakBench.Sample>> value) {
        int w = 940;
        int h = 260;
        int left = 60;
        int right = 130;
        int top = 30;
        int bottom = 30;
        double xMax = Math.max(1e-9, samples.isEmpty() ? 1 : samples.get(samples.size() - 1).minute());
        double yMax = 0;
        for (String s : series) {
            for (SoakBench.Sample sample : samples) {
                double v = value.apply(s).applyAsDouble(sample);
                if (!Double.isNaN(v)) {
                    yMax = Math.max(yMax, v);
                }
            }
        }
        yMax = yMax <= 0 ? 1 : yMax * 1.1;
        StringBuilder b = new StringBuilder();
        b.append("<h3>").append(escape(title)).append("</h3><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w)
                .append("\" height=\"").append(h).append("\">");
        int pw = w - left - right;
        int ph = h - top - bottom;
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", left, top + ph, left + pw, top + ph));
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", left, top, left, top + ph));
        for (int i = 0; i <= 4; i++) {
            double yv = yMax * i / 4;
            int y = top + ph - (int) Math.round(ph * i / 4.0);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>", left, y, left + pw, y, left - 4, y + 4,
                    yv >= 100 ? String.format(Locale.ROOT, "%.0f", yv) : String.format(Locale.ROOT, "%.1f", yv)));
            double xv = xMax * i / 4;
            int x = left + (int) Math.round(pw * i / 4.0);
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%.1f min</text>",
                    x, top + ph + 18, xv));
        }
        for (SoakBench.Event e : events) {
            int x = left + (int) Math.round(pw * Math.min(1, e.minute() / xMax));
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"%s\">"
                    + "<title>%s %s at %.1f min</title></line><text x=\"%d\" y=\"%d\" font-size=\"9\" fill=\"#666\">%s</text>",
                    x, top, x, top + ph, e.what().equals("SIGKILL") ? "4,3" : "1,2", escape(e.role()), escape(e.what()), e.minute(),
                    x + 2, top - 4, escape(e.role().replace("worker-", "w").replace("coordinator", "coord").replace("cdc-bridge", "bridge"))));
        }
        int i = 0;
        for (String s : series) {
            String colour = COLOURS[i % COLOURS.length];
            StringBuilder path = new StringBuilder();
            boolean pen = false;
            for (SoakBench.Sample sample : samples) {
                double v = value.apply(s).applyAsDouble(sample);
                if (Double.isNaN(v)) {
                    pen = false;
                    continue;
                }
                double x = left + pw * sample.minute() / xMax;
                double y = top + ph - ph * v / yMax;
                path.append(pen ? " L" : " M").append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
                pen = true;
            }
            b.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"").append(colour)
                    .append("\" stroke-width=\"1.5\"/>");
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>", left + pw + 10, top + 16 * i, colour,
                    left + pw + 24, top + 16 * i + 10, escape(s)));
            i++;
        }
        return b.append("</svg>").toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
