package dev.shapeshift.examples.translation.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryableSinkException;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkException;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One migration's link to the translation service. A batch of rows becomes one
 * {@code POST /refs} (setting {@code batch}, the default): per row a write
 * {@code {"ref", "key", "text", "version"}} (the ref is the source key), or a delete for a
 * tombstone or a row without a key or a text; the service answers per row, and {@code stale} (a
 * newer version is held) is success here. With {@code batch: false} a live row becomes
 * {@code PUT /keys/{key}/{locale} {"text", "version", "ref"}} and a delete
 * {@code DELETE /refs/{ref}?version=}, one call each; the service's 409 is the same skip.
 * Read back is {@code GET /refs?ids=…}: the key each ref is bound to and that key's source-locale
 * text.
 *
 * <p>Known limit: the service is keyed by translation key, so two source rows whose texts map to
 * the same key share one entry; the newer version's text wins, and reconcile reads that text back
 * for both rows.
 */
final class TranslationSink implements Sink {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The service's limit of writes per {@code POST /refs}. */
    static final int MAX_BATCH = 1000;

    private final SinkSettings settings;
    private final SinkContext context;
    private final HttpClient http;

    TranslationSink(SinkSettings settings, SinkContext context) {
        this.settings = settings;
        this.context = context;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(settings.timeout()).build();
    }

    @Override
    public void apply(List<SinkRow> rows) throws SinkException {
        if (settings.batch()) {
            applyBatch(rows);
        } else {
            applyOneByOne(rows);
        }
    }

    /**
     * The rows in one {@code POST /refs} (at most {@link #MAX_BATCH} per call): the service
     * applies each under the version rule in one transaction and answers per row; {@code stale}
     * is the version rule's skip, {@code refused} names that row alone.
     */
    private void applyBatch(List<SinkRow> rows) throws SinkException {
        List<SinkKey> refused = new ArrayList<>();
        String firstReason = null;
        for (int from = 0; from < rows.size(); from += MAX_BATCH) {
            List<SinkRow> part = rows.subList(from, Math.min(rows.size(), from + MAX_BATCH));
            ArrayNode writes = JSON.createArrayNode();
            for (SinkRow row : part) {
                String key = row.isTombstone() ? null : row.values().get(settings.keyColumn());
                String text = row.isTombstone() ? null : row.values().get(settings.textColumn());
                ObjectNode w = writes.addObject().put("ref", ref(row.key())).put("version", row.version());
                if (key == null || text == null) {
                    w.put("delete", true);
                } else {
                    w.put("key", key).put("text", text);
                }
            }
            ObjectNode body = JSON.createObjectNode().put("locale", settings.locale());
            body.set("writes", writes);
            HttpResponse<String> r = call(HttpRequest.newBuilder(uri("/refs")).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
            if (r.statusCode() == 404 || r.statusCode() == 405) {
                throw new PermanentSinkException("translation service " + settings.url() + " has no batch endpoint "
                        + "(POST /refs answered HTTP " + r.statusCode() + "); set the sink setting batch: false");
            }
            if (r.statusCode() != 200) {
                throw new RetryableSinkException("translation service " + settings.url() + " answered HTTP " + r.statusCode()
                        + " " + errorCode(r) + " to a batch of " + part.size());
            }
            JsonNode results = parse(r).path("results");
            if (!results.isArray() || results.size() != part.size()) {
                throw new RetryableSinkException("translation service answered a batch of " + part.size() + " with "
                        + results.size() + " results");
            }
            for (int i = 0; i < part.size(); i++) {
                JsonNode res = results.get(i);
                if ("refused".equals(res.path("outcome").asText())) {
                    refused.add(part.get(i).key());
                    if (firstReason == null) {
                        firstReason = "translation service refused the row (" + res.path("error").asText("") + ")";
                    }
                }
            }
        }
        if (!refused.isEmpty()) {
            throw new PermanentSinkException(firstReason + "; " + refused.size() + " of " + rows.size() + " rows refused",
                    refused, null);
        }
    }

    /** One {@code PUT} or {@code DELETE} per row (setting {@code batch: false}). */
    private void applyOneByOne(List<SinkRow> rows) throws SinkException {
        List<SinkKey> refused = new ArrayList<>();
        String firstReason = null;
        for (SinkRow row : rows) {
            String ref = ref(row.key());
            String key = row.isTombstone() ? null : row.values().get(settings.keyColumn());
            String text = row.isTombstone() ? null : row.values().get(settings.textColumn());
            HttpResponse<String> r;
            if (key == null || text == null) {
                r = call(HttpRequest.newBuilder(uri("/refs/" + enc(ref) + "?version=" + row.version())).DELETE());
            } else {
                ObjectNode body = JSON.createObjectNode().put("text", text).put("version", row.version()).put("ref", ref);
                r = call(HttpRequest.newBuilder(uri("/keys/" + enc(key) + "/" + settings.locale()))
                        .header("content-type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body.toString())));
            }
            int status = r.statusCode();
            if (status == 200 || status == 409) {
                continue; // 409: the service holds a newer version of this ref; the version rule says skip
            }
            if (status == 400 || status == 422) {
                refused.add(row.key());
                if (firstReason == null) {
                    firstReason = "translation service refused the row (HTTP " + status + " " + errorCode(r) + ")";
                }
                continue;
            }
            throw new RetryableSinkException("translation service " + settings.url() + " answered HTTP " + status + " "
                    + errorCode(r));
        }
        if (!refused.isEmpty()) {
            throw new PermanentSinkException(firstReason + "; " + refused.size() + " of " + rows.size() + " rows refused",
                    refused, null);
        }
    }

    @Override
    public List<SinkRow> read(List<SinkKey> keys) throws SinkException {
        List<SinkRow> out = new ArrayList<>();
        for (int from = 0; from < keys.size(); from += 500) {
            List<SinkKey> page = keys.subList(from, Math.min(keys.size(), from + 500));
            Map<String, SinkKey> byRef = new LinkedHashMap<>();
            for (SinkKey k : page) {
                byRef.put(ref(k), k);
            }
            HttpResponse<String> r = call(HttpRequest.newBuilder(uri("/refs?locale=" + settings.locale() + "&ids="
                    + enc(String.join(",", byRef.keySet())))).GET());
            if (r.statusCode() != 200) {
                throw new RetryableSinkException("translation service " + settings.url() + " answered HTTP " + r.statusCode()
                        + " " + errorCode(r) + " to a read");
            }
            JsonNode refs = parse(r).path("refs");
            for (Iterator<Map.Entry<String, JsonNode>> it = refs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                SinkKey k = byRef.get(e.getKey());
                JsonNode b = e.getValue();
                long version = b.path("version").asLong();
                if (k == null) {
                    continue;
                }
                if (b.path("deleted").asBoolean()) {
                    out.add(SinkRow.tombstone(k, version));
                } else {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (SinkColumn c : context.columns()) {
                        JsonNode v = c.name().equals(settings.keyColumn()) ? b.path("key") : b.path("text");
                        values.put(c.name(), v.isTextual() ? v.asText() : null);
                    }
                    out.add(SinkRow.upsert(k, version, values));
                }
            }
        }
        return out;
    }

    /** The ref of a source key: its values joined with ':' (the service's refs allow A-Z a-z 0-9 _ . : -). */
    static String ref(SinkKey key) {
        return String.join(":", key.values());
    }

    private HttpResponse<String> call(HttpRequest.Builder request) throws RetryableSinkException {
        try {
            return http.send(request.timeout(settings.timeout()).build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new RetryableSinkException("translation service " + settings.url() + " did not answer within "
                    + settings.timeout().toMillis() + " ms", e);
        } catch (IOException e) {
            throw new RetryableSinkException("translation service " + settings.url() + " unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetryableSinkException("interrupted while calling the translation service", e);
        }
    }

    private URI uri(String pathAndQuery) {
        return URI.create(settings.url() + pathAndQuery);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static JsonNode parse(HttpResponse<String> r) throws RetryableSinkException {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new RetryableSinkException("translation service answered with a body that is not JSON", e);
        }
    }

    /** The service's error code (never the message: it may quote the row). */
    private static String errorCode(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body()).path("error").asText("");
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        // Nothing to release: Java 17's HttpClient has no close(); its selector thread ends with the client.
    }
}
