package dev.shapeshift.spec;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as spec authors write them: {@code 300ms}, {@code 5s}, {@code 5m}, {@code 24h},
 * {@code 7d}, or ISO-8601 ({@code PT5M}). {@link #format} writes the shortest exact form back.
 */
public final class DurationText {
    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /** The accepted forms, for error messages. */
    public static final String FORMS = "a number with a unit (300ms, 5s, 5m, 24h, 7d) or ISO-8601 (PT5M)";

    private DurationText() {
    }

    /** Parses one duration; throws {@link IllegalArgumentException} naming the accepted forms. */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.trim();
        Matcher m = SHORT.matcher(t.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + t + "' is too large");
            }
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (t.startsWith("P") || t.startsWith("p") || t.startsWith("-P")) {
            try {
                return Duration.parse(t);
            } catch (DateTimeParseException e) {
                // fall through to the common message
            }
        }
        throw new IllegalArgumentException("'" + t + "' is not a duration; write " + FORMS);
    }

    /** The shortest exact short form: {@code 300ms}, {@code 5m}, {@code 7d}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && d.toNanos() % 1_000_000 != 0) {
            return d.toString();
        }
        long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1_000L};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < sizes.length; i++) {
            if (ms != 0 && ms % sizes[i] == 0) {
                return ms / sizes[i] + units[i];
            }
        }
        return ms + "ms";
    }
}
