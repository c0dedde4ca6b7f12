package dev.shapeshift.coordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.coordinator.status.History;
import dev.shapeshift.error.ShapeshiftException;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading an API request (a JSON object body, its fields, query parameters, cursors, windows,
 * limits) with a 400 that names what is wrong, and writing an answer: JSON, never cached, errors as
 * {@code {"error": CODE, "message": …}} with the HTTP status of the error code.
 */
final class Http {
    static final int MAX_LIMIT = 1000;

    private Http() {
    }

    static JsonNode body(RoutingContext ctx) {
        String text = ctx.body().asString();
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest("a JSON object body is required");
        }
        try {
            JsonNode node = Json.MAPPER.readTree(text);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest("the body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw ApiException.badRequest("the body is not valid JSON");
        }
    }

    static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull() || n.asText().isBlank()) {
            if (required) {
                throw ApiException.badRequest("'" + field + "' is required");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest("'" + field + "' must be a string");
        }
        return n.asText();
    }

    /** Who did it: {@code api} or {@code api:<actor>} when the body names one. */
    static String actor(JsonNode body) {
        JsonNode a = body.get("actor");
        return a != null && a.isTextual() && !a.asText().isBlank() ? "api:" + a.asText() : "api";
    }

    static String query(RoutingContext ctx, String name) {
        List<String> values = ctx.queryParam(name);
        return values.isEmpty() || values.get(0).isBlank() ? null : values.get(0);
    }

    /** A drift page cursor: a stored key, i.e. a JSON array of text. */
    static String keyCursor(String after) {
        if (after == null) {
            return null;
        }
        try {
            JsonNode n = Json.MAPPER.readTree(after);
            if (n != null && n.isArray()) {
                return after;
            }
        } catch (IOException e) {
            // fall through
        }
        throw ApiException.badRequest("after must be a drift key as returned in 'next', e.g. [\"42\"]");
    }

    /** {@code window=15m} etc. (default 1h), at most {@link History#KEEP}. */
    static java.time.Duration window(String text) {
        if (text == null) {
            return java.time.Duration.ofHours(1);
        }
        java.time.Duration d;
        try {
            d = dev.shapeshift.spec.DurationText.parse(text);
        } catch (RuntimeException e) {
            throw ApiException.badRequest("window must be a duration such as 15m, 1h or 3d, got '" + text + "'");
        }
        if (d.isNegative() || d.isZero() || d.compareTo(History.KEEP) > 0) {
            throw ApiException.badRequest("window must be more than 0 and at most " + History.KEEP.toDays()
                    + "d (the history kept), got '" + text + "'");
        }
        return d;
    }

    static int limit(RoutingContext ctx, int dflt) {
        String text = query(ctx, "limit");
        if (text == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(text);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ApiException.badRequest("limit must be a whole number from 1 to " + MAX_LIMIT);
    }

    static int httpStatus(ShapeshiftException e) {
        return switch (e.code()) {
            case NOT_FOUND -> 404;
            case CONFLICT, GATE_CLOSED, ILLEGAL_TRANSITION -> 409;
            case SPEC_INVALID, SPEC_MALFORMED, USAGE, CONFIG_INVALID -> 400;
            case UNAUTHORIZED -> 401;
            case UNREACHABLE, TRANSIENT -> 503;
            default -> 500;
        };
    }

    static void fail(RoutingContext ctx, int status, String code, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", message);
        send(ctx, status, body);
    }

    static void send(RoutingContext ctx, int status, Object body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json; charset=utf-8")
                .putHeader("cache-control", "no-store").end(Json.write(body));
    }
}
