package dev.shapeshift.worker.sync;

import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Column;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether a change record's key values can be keys of the migration's key columns, and how a key
 * value that cannot is named. A value the refresh's cast ({@code ?::bigint}) would refuse makes
 * the record a poison record — stopped at its position, skippable by the operator — instead of a
 * refresh error, which retries until the row is fixed and can never be fixed.
 *
 * <p>Two paths find such values. At decode, {@link #problem} refuses only what is certain: integer
 * types (plain decimal text, checked against the type's range) and {@code uuid}. Any other value
 * reaches the refresh; if PostgreSQL's own cast refuses it (SQLState class 22), the sync consumer
 * isolates the key ({@link SliceRefresher}) and names it with {@link #describe}, the same words
 * and SQLState this class uses, so an operator sees one message whichever path caught the record.
 * The cdc-bridge always writes canonical text.
 */
final class KeyValues {
    /** invalid_text_representation, numeric_value_out_of_range: what PostgreSQL raises for the cases checked here. */
    static final String INVALID = "22P02";
    static final String OUT_OF_RANGE = "22003";
    /** How much of a key value a message shows (code points, before escaping). */
    static final int SHOWN = 64;

    private static final Pattern DECIMAL = Pattern.compile("\\s*[+-]?[0-9]+\\s*");
    /** PostgreSQL 16+ also reads 0x/0o/0b prefixes and '_' separators in integers: not refused here. */
    private static final Pattern INTEGER_ISH = Pattern.compile("\\s*[+-]?[0-9a-fA-FxXoObB_]+\\s*");
    private static final Pattern UUID_HEX = Pattern.compile("[0-9a-fA-F]{32}");

    private KeyValues() {
    }

    /** Why {@code key} cannot be a key of {@code columns}, or empty if it may be. */
    static Optional<String> problem(List<Column> columns, Key key) {
        for (int i = 0; i < columns.size() && i < key.size(); i++) {
            Column c = columns.get(i);
            Optional<String> sqlState = sqlState(c.type(), key.get(i));
            if (sqlState.isPresent()) {
                return Optional.of(describe(c, key.get(i), sqlState.get()));
            }
        }
        return Optional.empty();
    }

    /**
     * One key value PostgreSQL refuses for column {@code c}, with the SQLState of the refusal:
     * {@code key value for column id is out of range for bigint (SQLState 22003): '99999999999999999999'}.
     * The value is quoted, escaped and cut to {@value #SHOWN} characters: it came off the topic,
     * anyone could have written it.
     */
    static String describe(Column c, String value, String sqlState) {
        String what = switch (sqlState) {
            case OUT_OF_RANGE, "22008", "22009", "22015" -> "is out of range for " + c.type();
            case INVALID, "22007", "22P03" -> "is not a valid " + c.type();
            default -> "is refused by PostgreSQL's cast to " + c.type();
        };
        return "key value for column " + c.name() + " " + what + " (SQLState " + sqlState + "): " + quote(value);
    }

    /** {@code 'it''s'}: single-quoted, quotes doubled, control characters as \\uXXXX, at most {@value #SHOWN} characters shown. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder("'");
        int shown = 0;
        for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
            if (shown++ == SHOWN) {
                return out.append("'… (").append(value.codePointCount(0, value.length())).append(" characters)")
                        .toString();
            }
            int cp = value.codePointAt(i);
            if (cp == '\'') {
                out.append("''");
            } else if (Character.isISOControl(cp) || Character.getType(cp) == Character.LINE_SEPARATOR
                    || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR || Character.getType(cp) == Character.FORMAT) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
        }
        return out.append("'").toString();
    }

    private static Optional<String> sqlState(String type, String value) {
        return switch (type) {
            case "smallint" -> integer(value, 16);
            case "integer" -> integer(value, 32);
            case "bigint" -> integer(value, 64);
            case "uuid" -> uuid(value);
            default -> Optional.empty();
        };
    }

    private static Optional<String> integer(String value, int bits) {
        if (DECIMAL.matcher(value).matches()) {
            BigInteger n = new BigInteger(value.strip().replace("+", ""));
            return n.bitLength() < bits ? Optional.empty() : Optional.of(OUT_OF_RANGE);
        }
        return INTEGER_ISH.matcher(value).matches() ? Optional.empty() : Optional.of(INVALID);
    }

    private static Optional<String> uuid(String value) {
        String hex = value.strip();
        if (hex.startsWith("{") && hex.endsWith("}")) {
            hex = hex.substring(1, hex.length() - 1);
        }
        return UUID_HEX.matcher(hex.replace("-", "")).matches() ? Optional.empty() : Optional.of(INVALID);
    }
}
