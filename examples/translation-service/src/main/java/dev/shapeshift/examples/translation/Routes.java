package dev.shapeshift.examples.translation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API (examples/translation-service/README.md). Handlers run on worker threads (the store
 * is JDBC); every answer is JSON; errors are {@code {"error": CODE, "message": …}} plus
 * {@code heldVersion} on a 409.
 *
 * <p>Why one class of ~390 lines: the example service's route table and its handlers, so its whole
 * API reads in one file beside its README.
 */
final class Routes {

    private static final Logger log = LoggerFactory.getLogger(Routes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,1000}");
    static final int MAX_IDS = 1000;
    static final int MAX_BATCH = 1000;

    private final ServiceConfig config;
    private final EntryStore store;

    Routes(ServiceConfig config, EntryStore store) {
        this.config = config;
        this.store = store;
    }

    @FunctionalInterface
    private interface Action {
        Object run(RoutingContext ctx);
    }

    Router router(Vertx vertx) {
        Router r = Router.router(vertx);
        r.route("/keys/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
        // The batch: up to MAX_BATCH writes of up to maxTextLength characters each.
        r.post("/refs").handler(BodyHandler.create().setBodyLimit(8L * 1024 * 1024));
        handle(r.get("/health"), ctx -> {
            store.ping();
            return Map.of("status", "ok");
        });
        handle(r.get("/stats"), ctx -> store.stats(config.sourceLocale(), config.targetLocales()));
        handle(r.get("/keys"), this::get);
        handle(r.put("/keys/:key/:locale"), this::put);
        handle(r.delete("/keys/:key/:locale"), this::delete);
        handle(r.get("/refs"), this::getRefs);
        handle(r.post("/refs"), this::batch);
        handle(r.delete("/refs/:ref"), this::deleteRef);
        r.route().last().handler(ctx -> send(ctx, 404, error(ServiceError.Code.NOT_FOUND, "no such endpoint: "
                + ctx.request().method() + " " + ctx.normalizedPath())));
        return r;
    }

    /** {@code PUT /keys/{key}/{locale}} with {@code {"text": …, "version": n}}. */
    private Object put(RoutingContext ctx) {
        String key = key(ctx);
        String locale = locale(ctx);
        JsonNode body = jsonObject(ctx, "{\"text\": \"…\", \"version\": n}");
        String text = checkText(body.get("text"), "send DELETE /keys/" + key + "/" + locale + "?version=n");
        long version = version(body.get("version"));
        JsonNode ref = body.get("ref");
        if (ref == null || ref.isNull()) {
            return result(key, locale, version, store.apply(key, locale, text, version, "put"));
        }
        if (!ref.isTextual()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'ref' must be a string (the client's row id)");
        }
        EntryStore.RefOutcome o = store.applyRef(checkRef(ref.asText()), key, locale, text, version);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", key);
        out.put("locale", locale);
        out.put("version", version);
        out.put("ref", ref.asText());
        out.put("outcome", o.binding().name().toLowerCase(java.util.Locale.ROOT));
        out.put("entry", o.entry() == null ? "newer held" : o.entry().name().toLowerCase(java.util.Locale.ROOT));
        return out;
    }

    /**
     * {@code POST /refs} with {@code {"locale": "en", "writes": [{"ref", "key", "text", "version"}
     * | {"ref", "version", "delete": true}, …]}}: many client rows in one request and one
     * transaction, each under the version rule as its single PUT / DELETE would be. Answered per
     * write, in order: {@code applied}, {@code unchanged}, {@code stale} (with {@code heldVersion})
     * or {@code refused} (with the error code and message a single call would have got); a refused
     * or stale write does not stop the others.
     */
    private Object batch(RoutingContext ctx) {
        JsonNode body = jsonObject(ctx, "{\"writes\": [{\"ref\": \"3\", \"key\": \"k\", \"text\": \"…\", \"version\": n}]}");
        JsonNode loc = body.get("locale");
        if (loc != null && !loc.isTextual()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'locale' must be a string");
        }
        String locale = loc == null ? config.sourceLocale() : checkLocale(loc.asText());
        JsonNode writes = body.get("writes");
        if (writes == null || !writes.isArray() || writes.isEmpty()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'writes' must be a non-empty array of "
                    + "{\"ref\", \"key\", \"text\", \"version\"} or {\"ref\", \"version\", \"delete\": true}");
        }
        if (writes.size() > MAX_BATCH) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, writes.size() + " writes; at most " + MAX_BATCH
                    + " per request");
        }
        List<Map<String, Object>> results = new ArrayList<>();
        List<EntryStore.RefWrite> valid = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        for (JsonNode w : writes) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("ref", w.path("ref").isTextual() ? w.path("ref").asText() : null);
            r.put("version", w.path("version").isIntegralNumber() ? w.path("version").asLong() : null);
            try {
                valid.add(batchWrite(w));
                slots.add(results.size());
            } catch (ServiceError e) {
                r.put("outcome", "refused");
                r.put("error", e.code().name());
                r.put("message", e.getMessage());
            }
            results.add(r);
        }
        if (!valid.isEmpty()) {
            List<EntryStore.RefResult> applied = store.applyRefs(valid, locale);
            for (int i = 0; i < applied.size(); i++) {
                EntryStore.RefResult a = applied.get(i);
                Map<String, Object> r = results.get(slots.get(i));
                r.put("outcome", a.outcome());
                if (a.entry() != null) {
                    r.put("entry", a.entry());
                }
                if (a.heldVersion() != null) {
                    r.put("heldVersion", a.heldVersion());
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("locale", locale);
        out.put("results", results);
        return out;
    }

    /** One write of a batch, checked as its single PUT or DELETE would be. */
    private EntryStore.RefWrite batchWrite(JsonNode w) {
        if (!w.isObject()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "a write must be a JSON object");
        }
        JsonNode ref = w.get("ref");
        if (ref == null || !ref.isTextual()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'ref' must be a string (the client's row id)");
        }
        checkRef(ref.asText());
        long version = version(w.get("version"));
        if (w.path("delete").asBoolean(false)) {
            return new EntryStore.RefWrite(ref.asText(), null, null, version);
        }
        JsonNode key = w.get("key");
        if (key == null || !key.isTextual()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'key' must be a string (or send \"delete\": true)");
        }
        checkKey(key.asText());
        String text = checkText(w.get("text"), "send \"delete\": true");
        if (text.indexOf('\u0000') >= 0) {
            // Refused here, not by PostgreSQL (a single PUT gets SQLState 22): in a batch the database's error would
            // fail the whole transaction.
            throw new ServiceError(ServiceError.Code.TEXT_REJECTED, "text contains a NUL character, which the store "
                    + "cannot hold (SQLState 22 class)");
        }
        return new EntryStore.RefWrite(ref.asText(), key.asText(), text, version);
    }

    private String checkText(JsonNode text, String toDelete) {
        if (text == null || !text.isTextual()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'text' must be a string (to delete, " + toDelete + ")");
        }
        if (text.asText().length() > config.maxTextLength()) {
            throw new ServiceError(ServiceError.Code.TEXT_REJECTED, "text of " + text.asText().length()
                    + " characters is longer than the service's limit of " + config.maxTextLength());
        }
        return text.asText();
    }

    private static JsonNode jsonObject(RoutingContext ctx, String example) {
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body().asString() == null ? "" : ctx.body().asString());
        } catch (JsonProcessingException e) {
            throw new ServiceError(ServiceError.Code.BAD_JSON, "the body is not JSON: " + e.getOriginalMessage()
                    + "; send " + example);
        }
        if (body == null || !body.isObject()) {
            throw new ServiceError(ServiceError.Code.BAD_JSON, "the body must be a JSON object " + example);
        }
        return body;
    }

    /** {@code DELETE /refs/{ref}?version=n}: the client's row is gone (the key's entries stay). */
    private Object deleteRef(RoutingContext ctx) {
        String ref = checkRef(ctx.pathParam("ref"));
        long version = queryVersion(ctx);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ref", ref);
        out.put("version", version);
        out.put("outcome", store.deleteRef(ref, version).name().toLowerCase(java.util.Locale.ROOT));
        return out;
    }

    /** What {@code GET /refs} answers for one ref: a binding without the ref (the ref is its name in {@code refs}). */
    private record Bound(String key, long version, boolean deleted, String text, Long textVersion) {
    }

    /** {@code GET /refs?ids=3,6[&locale=en]}: what each ref is bound to, with the key's text in the locale (default: source). */
    private Object getRefs(RoutingContext ctx) {
        List<String> ids = ids(ctx);
        ids.forEach(Routes::checkRef);
        String locale = ctx.queryParams().get("locale") == null ? config.sourceLocale() : checkLocale(ctx.queryParams().get("locale"));
        Map<String, Object> refs = new LinkedHashMap<>();
        for (EntryStore.Binding b : store.readRefs(ids, locale)) {
            refs.put(b.ref(), new Bound(b.key(), b.version(), b.deleted(), b.text(), b.textVersion()));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("locale", locale);
        out.put("refs", refs);
        out.put("missing", ids.stream().distinct().filter(id -> !refs.containsKey(id)).toList());
        return out;
    }

    static final Pattern REF = Pattern.compile("[A-Za-z0-9_.:\\-]{1,200}");

    private static String checkRef(String ref) {
        if (ref == null || !REF.matcher(ref).matches()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "ref '" + ref + "' must be 1 to 200 of A-Z a-z 0-9 _ . : -");
        }
        return ref;
    }

    private static long queryVersion(RoutingContext ctx) {
        String v = ctx.queryParams().get("version");
        if (v == null) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "a delete needs ?version=n (a tombstone is versioned like a write)");
        }
        try {
            return checked(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "version must be a non-negative integer, got '" + v + "'");
        }
    }

    private static List<String> ids(RoutingContext ctx) {
        List<String> ids = list(ctx.queryParams().getAll("ids"));
        if (ids.isEmpty()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "name them: ?ids=a,b");
        }
        if (ids.size() > MAX_IDS) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, ids.size() + " ids; at most " + MAX_IDS + " per request");
        }
        return ids;
    }

    /** {@code DELETE /keys/{key}/{locale}?version=n}: a tombstone at that version. */
    private Object delete(RoutingContext ctx) {
        String key = key(ctx);
        String locale = locale(ctx);
        long version = queryVersion(ctx);
        return result(key, locale, version, store.apply(key, locale, null, version, "put"));
    }

    /** {@code GET /keys?ids=a,b[&locales=en,de]}: every entry held, with versions; ids not held listed as missing. */
    private Object get(RoutingContext ctx) {
        List<String> ids = ids(ctx);
        ids.forEach(Routes::checkKey);
        List<String> locales = list(ctx.queryParams().getAll("locales"));
        locales.forEach(this::checkLocale);
        Map<String, Map<String, Object>> byKey = new LinkedHashMap<>();
        for (Entry e : store.read(ids, locales)) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("text", e.text());
            v.put("version", e.version());
            v.put("deleted", e.deleted());
            v.put("origin", e.origin());
            byKey.computeIfAbsent(e.key(), k -> new LinkedHashMap<>()).put(e.locale(), v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("keys", byKey);
        out.put("missing", ids.stream().distinct().filter(id -> !byKey.containsKey(id)).toList());
        return out;
    }

    private static List<String> list(List<String> params) {
        List<String> out = new ArrayList<>();
        for (String p : params) {
            Arrays.stream(p.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
        }
        return out;
    }

    private String key(RoutingContext ctx) {
        return checkKey(ctx.pathParam("key"));
    }

    private static String checkKey(String key) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "key '" + key + "' must be 1 to 1000 of A-Z a-z 0-9 _ . -");
        }
        return key;
    }

    private String locale(RoutingContext ctx) {
        return checkLocale(ctx.pathParam("locale"));
    }

    private String checkLocale(String locale) {
        if (!config.knows(locale)) {
            throw new ServiceError(ServiceError.Code.UNKNOWN_LOCALE, "unknown locale '" + locale + "'; this service holds "
                    + config.sourceLocale() + " (source) and " + config.targetLocales());
        }
        return locale;
    }

    private static long version(JsonNode v) {
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "field 'version' must be a non-negative integer, got "
                    + (v == null ? "nothing" : v.toString()));
        }
        return checked(v.asLong());
    }

    private static long checked(long version) {
        if (version < 0) {
            throw new ServiceError(ServiceError.Code.BAD_REQUEST, "version must be a non-negative integer, got " + version);
        }
        return version;
    }

    private static Map<String, Object> result(String key, String locale, long version, EntryStore.Outcome outcome) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", key);
        out.put("locale", locale);
        out.put("version", version);
        out.put("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT));
        return out;
    }

    private void handle(io.vertx.ext.web.Route route, Action action) {
        route.blockingHandler(ctx -> {
            try {
                send(ctx, 200, action.run(ctx));
            } catch (ServiceError e) {
                Map<String, Object> body = error(e.code(), e.getMessage());
                if (e.heldVersion() != null) {
                    body.put("heldVersion", e.heldVersion());
                }
                if (e.code().status >= 500) {
                    log.warn("request failed method={} path={} code={} message={}", ctx.request().method(),
                            ctx.normalizedPath(), e.code(), e.getMessage());
                }
                send(ctx, e.code().status, body);
            } catch (RuntimeException e) {
                log.error("request failed method={} path={}", ctx.request().method(), ctx.normalizedPath(), e);
                send(ctx, 500, error(ServiceError.Code.INTERNAL, "internal error: " + e.getClass().getSimpleName()));
            }
        }, false);
    }

    private static Map<String, Object> error(ServiceError.Code code, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code.name());
        body.put("message", message);
        return body;
    }

    private static void send(RoutingContext ctx, int status, Object body) {
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(json);
    }
}
