package dev.shapeshift.worker.sync;

import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Column;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether a change record's key values can be keys of the migration's key columns, checked before
 * the refresh casts them ({@code ?::bigint}). A value the cast would refuse makes the record a
 * poison record — stopped at its position, skippable by the operator — instead of failing the
 * whole batch's refresh, which retries until the row is fixed and can never be fixed.
 *
 * <p>Only what is certain is refused: integer types (plain decimal text, checked against the
 * type's range) and {@code uuid}. Any other type passes here; a value its cast refuses still stops
 * sync as a refresh error (docs/sync.md). The cdc-bridge always writes canonical text.
 */
final class KeyValues {
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
            String v = key.get(i);
            Optional<String> p = problem(c.type(), v);
            if (p.isPresent()) {
                return Optional.of("key value for column " + c.name() + " is " + p.get());
            }
        }
        return Optional.empty();
    }

    private static Optional<String> problem(String type, String value) {
        return switch (type) {
            case "smallint" -> integer(value, 16, type);
            case "integer" -> integer(value, 32, type);
            case "bigint" -> integer(value, 64, type);
            case "uuid" -> uuid(value);
            default -> Optional.empty();
        };
    }

    private static Optional<String> integer(String value, int bits, String type) {
        if (DECIMAL.matcher(value).matches()) {
            BigInteger n = new BigInteger(value.strip().replace("+", ""));
            return n.bitLength() < bits ? Optional.empty() : Optional.of("out of range for " + type);
        }
        return INTEGER_ISH.matcher(value).matches() ? Optional.empty() : Optional.of("not a valid " + type);
    }

    private static Optional<String> uuid(String value) {
        String hex = value.strip();
        if (hex.startsWith("{") && hex.endsWith("}")) {
            hex = hex.substring(1, hex.length() - 1);
        }
        return UUID_HEX.matcher(hex.replace("-", "")).matches() ? Optional.empty() : Optional.of("not a valid uuid");
    }
}
