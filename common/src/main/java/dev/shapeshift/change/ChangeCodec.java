package dev.shapeshift.change;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire form of {@link ChangeEvent}: the Kafka record key is the JSON array of the key's text
 * values (so all changes of one source row land in one partition), the value is a JSON object
 * {@code {"m":..., "k":[...], "op":"u", "lsn":..., "ts":..., "tx":...}}, plus {@code "old":true} on a
 * change that writes the old shape of a write switch ({@link ChangeEvent#oldShape}). A record that does not
 * decode is a poison record: {@link #decode} throws {@link ErrorCode#POISON_RECORD}.
 */
public final class ChangeCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChangeCodec() {
    }

    public static byte[] encodeKey(Key key) {
        ArrayNode a = JSON.createArrayNode();
        if (key != null) {
            key.values().forEach(a::add);
        }
        return a.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] encodeValue(ChangeEvent e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("m", e.migration());
        ArrayNode k = o.putArray("k");
        if (e.key() != null) {
            e.key().values().forEach(k::add);
        }
        o.put("op", String.valueOf(e.op()));
        o.put("lsn", e.lsn());
        o.put("ts", e.commitTsMicros());
        o.put("tx", e.txId());
        if (e.oldShape()) {
            o.put("old", true); // absent otherwise: records written before the field existed decode the same
        }
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static ChangeEvent decode(byte[] value) {
        if (value == null) {
            throw poison("the record has no value");
        }
        JsonNode o;
        try {
            o = JSON.readTree(value);
        } catch (IOException e) {
            throw poison("the value is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (o == null || !o.isObject()) {
            throw poison("the value is not a JSON object");
        }
        String op = text(o, "op");
        if (op.length() != 1 || "cudrh".indexOf(op.charAt(0)) < 0) {
            throw poison("field op is '" + op + "', expected one of c, u, d, r, h");
        }
        JsonNode k = o.get("k");
        if (k == null || !k.isArray()) {
            throw poison("field k (the key) is missing or not an array");
        }
        List<String> values = new ArrayList<>();
        for (JsonNode v : k) {
            if (!v.isTextual()) {
                throw poison("key values must be strings");
            }
            values.add(v.asText());
        }
        Key key = values.isEmpty() ? null : new Key(values);
        if (key == null && op.charAt(0) != 'h') {
            throw poison("a change event must carry a key");
        }
        JsonNode old = o.get("old");
        if (old != null && !old.isBoolean()) {
            throw poison("field old is not a boolean");
        }
        return new ChangeEvent(text(o, "m"), key, op.charAt(0), number(o, "lsn"), number(o, "ts"), number(o, "tx"),
                old != null && old.asBoolean());
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            throw poison("field " + field + " is missing or not a string");
        }
        return v.asText();
    }

    private static long number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.canConvertToLong()) {
            throw poison("field " + field + " is missing or not an integer");
        }
        return v.asLong();
    }

    private static ShapeshiftException poison(String why) {
        return new ShapeshiftException(ErrorCode.POISON_RECORD, "undecodable change record: " + why);
    }
}
