package dev.shapeshift.catalog;

import dev.shapeshift.spec.Labelled;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The live knobs of a migration's backfill: rows of {@code shapeshift.setting}, set by an operator
 * ({@code shapeshift backfill set|pause|resume}, {@code PUT /api/migrations/{name}/settings}),
 * audited, and re-read by every worker about once a second. One registry: the CLI, the API, the
 * workers' throttle and the status read the names, the parsing and the defaults from here, and
 * {@code docs/throttling.md} lists exactly these (KnobDocsTest).
 */
public enum Knob implements Labelled {
    PAUSED(Kind.BOOLEAN, "false",
            "the backfill waits (the sync goes on); `backfill pause` / `resume`"),
    MAX_ROWS_PER_SECOND(Kind.WHOLE, "0 (or `backfill.maxRowsPerSecond`)",
            "rows per second for the whole migration, shared by the live workers; 0 = no cap"),
    MAX_ACTIVE_BACKENDS(Kind.WHOLE, "0",
            "wait while more than this many sessions of others are running a statement (`pg_stat_activity`, "
                    + "state `active`, client backends not named `shapeshift-*`/`Debezium*`); 0 = off"),
    MAX_APP_LATENCY_MS(Kind.WHOLE, "0",
            "wait while the statements of roles other than Shapeshift's took longer than this many ms on average "
                    + "since the previous look (`pg_stat_statements`); 0 = off"),
    MAX_APP_LATENCY_PCT(Kind.WHOLE, "0",
            "the team's cap on the backfill's cost in %: wait while the statements of roles other than Shapeshift's "
                    + "took more than this % longer on average over the last 10 s than before the backfill copied "
                    + "(`app-latency-baseline-us`); 0 = off"),
    APP_LATENCY_BASELINE_US(Kind.WHOLE, "0 (measured)",
            "the application's mean statement time in µs that `max-app-latency-pct` compares with; 0 = measured by "
                    + "the workers over 5 s in which none copies, then stored here (audited); set it to 0 to measure again"),
    REINDEX_ABOVE_PCT(Kind.WHOLE, "115",
            "after the backfill, before the read switch, the driver rebuilds with `REINDEX INDEX CONCURRENTLY` each "
                    + "B-tree index of the written table larger than this % of its one-pass size; 0 = never");

    /** What a knob's value is. */
    public enum Kind { BOOLEAN, WHOLE }

    private final Kind kind;
    private final String defaultText;
    private final String meaning;
    private final String jsonName;

    Knob(Kind kind, String defaultText, String meaning) {
        this.jsonName = jsonName(label());
        this.kind = kind;
        this.defaultText = defaultText;
        this.meaning = meaning;
    }

    /**
     * The name in {@code shapeshift.setting}, the CLI's {@code NAME=VALUE} and the API's body: the
     * constant's {@link Labelled#label() label} ({@code MAX_ROWS_PER_SECOND} is {@code max-rows-per-second}).
     */
    public String key() {
        return label();
    }

    /** The name in a JSON body and the API's settings ({@code max-rows-per-second} → {@code maxRowsPerSecond}). */
    public String jsonName() {
        return jsonName;
    }

    private static String jsonName(String key) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : key.toCharArray()) {
            if (ch == '-') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    public Kind kind() {
        return kind;
    }

    public String defaultText() {
        return defaultText;
    }

    public String meaning() {
        return meaning;
    }

    public static Optional<Knob> byKey(String key) {
        return Arrays.stream(values()).filter(k -> k.key().equals(key)).findFirst();
    }

    /** The knobs {@code backfill set NAME=VALUE} takes: the whole numbers ({@code paused} has pause/resume). */
    public static List<Knob> settable() {
        return Arrays.stream(values()).filter(k -> k.kind == Kind.WHOLE).toList();
    }

    /** The value in its stored form; {@link IllegalArgumentException} with a message naming the knob and the fix. */
    public String normalise(String value) {
        String v = value == null ? "" : value.trim();
        if (kind == Kind.BOOLEAN) {
            if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                throw new IllegalArgumentException(key() + "=" + v + ": write true or false");
            }
            return v.toLowerCase(java.util.Locale.ROOT);
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Long.toString(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key() + "=" + v + ": write a whole number ≥ 0 (0 = off)");
        }
    }

    /** A stored whole-number value, or {@code fallback} when absent or unreadable. */
    public long whole(java.util.Map<String, String> settings, long fallback) {
        String v = settings.get(key());
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
