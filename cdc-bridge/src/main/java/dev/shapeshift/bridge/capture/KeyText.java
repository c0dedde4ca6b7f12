package dev.shapeshift.bridge.capture;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import org.apache.kafka.connect.data.Schema;

/**
 * Turns a key column's value, as Debezium hands it over (a Kafka Connect value and its schema),
 * into the text PostgreSQL prints for {@code value::text}. The refresh casts that text back to the
 * column type, so the two must round-trip.
 *
 * <p>Exact for smallint, integer, bigint, text/varchar, uuid, boolean, numeric (the connector runs
 * with {@code decimal.handling.mode=string}), bytea, date (years 1-9999) and timestamp without time
 * zone. Not exact, but cast back to the same value: timestamptz (ISO-8601 in UTC, {@code 'Z'}) and
 * time types. Floating-point keys are not supported for exact text (Java and PostgreSQL print
 * doubles differently); see docs/cdc-bridge.md.
 */
public final class KeyText {
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private KeyText() {
    }

    public static String of(Object value, Schema schema) {
        if (value == null) {
            return null;
        }
        String logical = schema == null ? null : schema.name();
        if (logical != null) {
            switch (logical) {
                case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date":
                    return value instanceof java.util.Date d
                            ? LocalDate.ofInstant(d.toInstant(), ZoneOffset.UTC).toString()
                            : LocalDate.ofEpochDay(((Number) value).longValue()).toString();
                case "io.debezium.time.MicroTimestamp":
                    return timestamp(((Number) value).longValue());
                case "io.debezium.time.Timestamp":
                    return timestamp(((Number) value).longValue() * 1000L);
                case "io.debezium.time.NanoTimestamp":
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1000L));
                case "org.apache.kafka.connect.data.Timestamp":
                    return timestamp(((java.util.Date) value).getTime() * 1000L);
                case "org.apache.kafka.connect.data.Decimal":
                    return ((BigDecimal) value).toPlainString();
                default:
                    break;
            }
        }
        if (value instanceof byte[] bytes) {
            return "\\x" + HexFormat.of().formatHex(bytes);
        }
        if (value instanceof ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            return "\\x" + HexFormat.of().formatHex(bytes);
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        return value.toString();
    }

    /** PostgreSQL's ISO output of timestamp without time zone: fraction trimmed of trailing zeros. */
    static String timestamp(long epochMicros) {
        long seconds = Math.floorDiv(epochMicros, 1_000_000L);
        int micros = (int) Math.floorMod(epochMicros, 1_000_000L);
        LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(seconds), ZoneOffset.UTC);
        String text = t.format(TIMESTAMP);
        if (micros == 0) {
            return text;
        }
        String fraction = String.format("%06d", micros).replaceAll("0+$", "");
        return text + "." + fraction;
    }
}
