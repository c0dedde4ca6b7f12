package dev.shapeshift.bridge.publish;

import dev.shapeshift.bridge.capture.KeyText;
import dev.shapeshift.bridge.capture.TableId;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.WorkerTransactions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Reads Debezium's PostgreSQL records (Kafka Connect structs): what kind of record it is, and for
 * a row change the keys it touches. Never looks at non-key column values.
 */
final class RecordReader {
    /** The kinds of record the bridge handles. */
    enum Kind { ROW_CHANGE, ECHO_MARK, OTHER_MESSAGE, IGNORED }

    private RecordReader() {
    }

    static Kind kind(SourceRecord r) {
        if (!(r.value() instanceof Struct value)) {
            return Kind.IGNORED; // tombstone or Debezium's own heartbeat without a struct
        }
        if (value.schema().field("message") != null) {
            Struct message = value.getStruct("message");
            String prefix = message == null ? null : message.getString("prefix");
            return WorkerTransactions.ECHO_MESSAGE_PREFIX.equals(prefix) ? Kind.ECHO_MARK : Kind.OTHER_MESSAGE;
        }
        if (value.schema().field("op") != null && value.schema().field("source") != null
                && value.getString("op") != null && "cudr".contains(value.getString("op"))) {
            return Kind.ROW_CHANGE;
        }
        return Kind.IGNORED;
    }

    /** The content of an echo mark: the migration whose worker wrote the transaction; null when absent. */
    static String echoMigration(SourceRecord r) {
        Struct message = ((Struct) r.value()).getStruct("message");
        if (message == null || message.schema().field("content") == null) {
            return null;
        }
        Object content = message.get("content");
        if (content instanceof byte[] b) {
            return b.length == 0 ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        if (content instanceof java.nio.ByteBuffer bb) {
            byte[] b = new byte[bb.remaining()];
            bb.duplicate().get(b);
            return b.length == 0 ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        return content == null ? null : content.toString();
    }

    static TableId table(SourceRecord r) {
        Struct source = ((Struct) r.value()).getStruct("source");
        return new TableId(source.getString("schema"), source.getString("table"));
    }

    static Long txId(SourceRecord r) {
        Struct source = ((Struct) r.value()).getStruct("source");
        return source.schema().field("txId") == null ? null : source.getInt64("txId");
    }

    /** The keys of a row change; key columns are looked up in the key struct, then in after/before. */
    static SourceChange change(SourceRecord r, TableId table, List<String> keyColumns) {
        Struct value = (Struct) r.value();
        Struct source = value.getStruct("source");
        char op = value.getString("op").charAt(0);
        Struct keyStruct = r.key() instanceof Struct k ? k : null;
        Struct after = value.getStruct("after");
        Struct before = value.getStruct("before");
        Key key = key(keyColumns, table, keyStruct, op == 'd' ? before : after);
        List<SourceChange.KeyOp> keys = new ArrayList<>(2);
        keys.add(new SourceChange.KeyOp(key, op));
        if (op == 'u' && before != null && hasAll(before, keyColumns)) {
            Key old = key(keyColumns, table, null, before);
            if (!old.equals(key)) {
                keys.add(0, new SourceChange.KeyOp(old, 'd'));
            }
        }
        Long lsn = source.schema().field("lsn") == null ? null : source.getInt64("lsn");
        return new SourceChange(table, keys, lsn == null ? 0L : lsn, commitMicros(source), txId(r));
    }

    /** Debezium's stand-in for a TOAST value an UPDATE left unchanged (its default {@code unavailable.value.placeholder}). */
    static final String UNAVAILABLE = "__debezium_unavailable_value";

    /**
     * In place after the write switch: whether this row change writes one of the old columns new code
     * stops writing — an old-shape write (docs/phases.md, "Old-shape writes after the switch"). Null
     * when the change cannot tell: an UPDATE without a before image holding those columns (the table's
     * replica identity is not FULL).
     * <ul>
     * <li>UPDATE: an old column whose new value differs from its before image's (pgoutput sends the
     * whole before image only with {@code REPLICA IDENTITY FULL}, which the write switch sets); a TOAST
     * value the UPDATE left unchanged (Debezium's placeholder) is unchanged. An UPDATE of the new
     * columns only is not one.</li>
     * <li>INSERT: an old column with a value, when the column has no default; with a default, a value
     * other than the default Debezium reports in the row schema (a constant; a column whose default it
     * cannot report, e.g. {@code now()}, tells nothing).</li>
     * <li>DELETE (and snapshot reads): never — old and new code delete the same way.</li>
     * </ul>
     */
    static Boolean writesOldColumns(SourceRecord r, List<String> oldColumns, java.util.Set<String> withDefault) {
        if (oldColumns.isEmpty()) {
            return false;
        }
        Struct value = (Struct) r.value();
        char op = value.getString("op").charAt(0);
        Struct after = value.getStruct("after");
        if (after == null || (op != 'u' && op != 'c')) {
            return false;
        }
        if (op == 'c') {
            for (String column : oldColumns) {
                Field f = after.schema().field(column);
                Object v = f == null ? null : after.get(f);
                if (v == null) {
                    continue;
                }
                if (withDefault.contains(column)) {
                    Object def = f.schema().defaultValue();
                    if (def == null || Objects.deepEquals(comparable(def), comparable(v))) {
                        continue;
                    }
                }
                return true;
            }
            return false;
        }
        Struct before = value.getStruct("before");
        if (before == null) {
            return null;
        }
        for (String column : oldColumns) {
            Field fa = after.schema().field(column);
            Field fb = before.schema().field(column);
            if (fa == null) {
                continue; // not in the row at all (dropped meanwhile): nothing written
            }
            if (fb == null) {
                return null;
            }
            Object a = after.get(fa);
            if (unavailable(a)) {
                continue;
            }
            if (!Objects.deepEquals(comparable(a), comparable(before.get(fb)))) {
                return true;
            }
        }
        return false;
    }

    private static Object comparable(Object v) {
        if (v instanceof java.nio.ByteBuffer bb) {
            byte[] b = new byte[bb.remaining()];
            bb.duplicate().get(b);
            return b;
        }
        return v;
    }

    private static boolean unavailable(Object v) {
        if (UNAVAILABLE.equals(v)) {
            return true;
        }
        Object c = comparable(v);
        if (c instanceof byte[] b) {
            return java.util.Arrays.equals(b, UNAVAILABLE.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return v instanceof List<?> l && l.size() == 1 && unavailable(l.get(0));
    }

    static long commitMicros(Struct source) {
        if (source.schema().field("ts_us") != null && source.get("ts_us") != null) {
            return source.getInt64("ts_us");
        }
        Object ms = source.get("ts_ms");
        return ms == null ? 0L : ((Number) ms).longValue() * 1000L;
    }

    private static Key key(List<String> columns, TableId table, Struct keyStruct, Struct row) {
        List<String> values = new ArrayList<>(columns.size());
        for (String column : columns) {
            Struct from = keyStruct != null && keyStruct.schema().field(column) != null ? keyStruct
                    : row != null && row.schema().field(column) != null ? row : null;
            if (from == null) {
                throw new ShapeshiftException(ErrorCode.SOURCE_CHANGED, "change of " + table + " carries no value for "
                        + "key column " + column + "; give the table a primary key on the migration's key columns "
                        + "or set REPLICA IDENTITY FULL");
            }
            Field f = from.schema().field(column);
            values.add(Objects.requireNonNull(KeyText.of(from.get(f), f.schema()),
                    () -> "key column " + column + " of " + table + " is null"));
        }
        return new Key(values);
    }

    private static boolean hasAll(Struct row, List<String> columns) {
        for (String c : columns) {
            if (row.schema().field(c) == null || row.get(c) == null) {
                return false;
            }
        }
        return true;
    }
}
