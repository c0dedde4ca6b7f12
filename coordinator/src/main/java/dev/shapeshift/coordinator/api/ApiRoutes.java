package dev.shapeshift.coordinator.api;

import dev.shapeshift.json.JsonMaps;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.coordinator.register.SpecsDir;
import dev.shapeshift.coordinator.status.History;
import dev.shapeshift.coordinator.status.ReconcileResults;
import dev.shapeshift.coordinator.status.StatusReader;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.SpecProblem;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's HTTP API (docs/api.md). Every handler runs on a worker thread (the catalog is
 * JDBC); every response is JSON, errors as {@code {"error": CODE, "message": ...}}.
 *
 * <p>Access: {@code /livez}, {@code /readyz}, {@code /metrics}, {@code GET /flags/{name}} (read-only) and
 * the dashboard's static files are open; every {@code /api} GET needs the read or the admin token; every PUT/POST needs the admin
 * token (401 without a valid token, 403 with the read token).
 *
 * <p>Why one class of ~380 lines: it is the route table and each route's handler, each handler a
 * few lines that call the catalog, the transitions or a store, so a reader sees the whole API
 * surface and its access rules in one place. Reading requests and writing answers is {@link Http}.
 */
public final class ApiRoutes {
    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
    private static final java.util.Set<String> YAML_TYPES = java.util.Set.of("application/yaml", "application/x-yaml",
            "text/yaml", "text/x-yaml", "text/plain");

    private final Catalog catalog;
    private final Transitions transitions;
    private final StatusReader status;
    private final History history;
    private final ReconcileResults reconcile;
    private final FlagStore flags;
    private final Auth auth;
    private final PrometheusMeterRegistry registry;
    private final Registrar registrar;
    private final SpecsDir specs;

    /**
     * @param registrar registers specs posted to {@code POST /api/migrations}
     * @param specs     the coordinator's specs directory, for {@code GET /api/specs}; null when none
     */
    public ApiRoutes(Catalog catalog, Transitions transitions, StatusReader status, History history,
                     PrometheusMeterRegistry registry,
                     String adminToken, String readToken, Registrar registrar, SpecsDir specs) {
        this.registrar = registrar;
        this.specs = specs;
        this.catalog = catalog;
        this.transitions = transitions;
        this.status = status;
        this.history = history;
        this.reconcile = new ReconcileResults(catalog);
        this.flags = new FlagStore(catalog);
        this.auth = new Auth(adminToken, readToken);
        this.registry = registry;
    }

    /** Serves the contract evidence ({@code GET /api/migrations/NAME/evidence}) through this watch's looks. */
    public ApiRoutes evidence(dev.shapeshift.coordinator.contract.AccessWatch watch, dev.shapeshift.db.Database db) {
        this.watch = watch;
        this.db = db;
        return this;
    }

    private dev.shapeshift.coordinator.contract.AccessWatch watch;
    private dev.shapeshift.db.Database db;

    /** One look of the access watch (the gate's), with every check the contract needs. */
    private Object evidence(RoutingContext ctx) {
        String name = migration(ctx).name();
        if (watch == null) {
            throw new ApiException(404, "NOT_FOUND", "this coordinator serves no contract evidence");
        }
        dev.shapeshift.coordinator.contract.AccessReport r = watch.evaluate(name);
        return dev.shapeshift.coordinator.contract.EvidenceJson.of(r, watch.checks(r));
    }

    /** {@code POST /api/migrations/NAME/brownout/end} with {@code {"reason": …}}: restore access now (a sign of trouble). */
    private Object endBrownout(RoutingContext ctx) {
        String name = migration(ctx).name();
        if (db == null) {
            throw new ApiException(404, "NOT_FOUND", "this coordinator serves no contract evidence");
        }
        JsonNode body = Http.body(ctx);
        String reason = Http.text(body, "reason", true);
        String by = Http.actor(body);
        dev.shapeshift.coordinator.contract.BrownoutReport b = new dev.shapeshift.coordinator.contract.Brownout(db)
                .end(name, by, "ended by " + by + ": " + reason, false);
        return Map.of("brownout", b == null ? "none" : b.summary());
    }

    @FunctionalInterface
    private interface Action {
        Object run(RoutingContext ctx) throws Exception;
    }

    public Router router(Vertx vertx) {
        Router r = Router.router(vertx);
        r.route("/api/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
        r.get("/livez").handler(ctx -> Http.send(ctx, 200, Map.of("status", "ok")));
        blocking(r.get("/readyz"), false, this::ready);
        r.get("/metrics").blockingHandler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()), false);

        blocking(r.get("/flags/:name"), false, this::publicFlag);
        blocking(r.get("/api/migrations"), false, ctx -> status.all());
        blocking(r.post("/api/migrations"), true, this::register);
        blocking(r.get("/api/specs"), false, ctx -> specs());
        blocking(r.get("/api/migrations/:name"), false, ctx -> status.read(ctx.pathParam("name")));
        blocking(r.post("/api/migrations/:name/transition"), true, this::transition);
        blocking(r.post("/api/migrations/:name/rollback"), true, this::rollback);
        blocking(r.get("/api/migrations/:name/settings"), false, ctx -> status.read(ctx.pathParam("name")).settings());
        blocking(r.put("/api/migrations/:name/settings"), true, this::putSettings);
        blocking(r.get("/api/migrations/:name/drift"), false, ctx -> reconcile.drift(migration(ctx).name(),
                Http.keyCursor(Http.query(ctx, "after")), Http.limit(ctx, 100), !"all".equals(Http.query(ctx, "status"))));
        blocking(r.get("/api/migrations/:name/history"), false,
                ctx -> history.read(migration(ctx), Http.window(Http.query(ctx, "window"))));
        blocking(r.get("/api/migrations/:name/reconcile-runs"), false,
                ctx -> reconcile.runs(migration(ctx).name(), Http.limit(ctx, 50)));
        blocking(r.get("/api/migrations/:name/evidence"), false, this::evidence);
        blocking(r.post("/api/migrations/:name/brownout/end"), true, this::endBrownout);
        blocking(r.post("/api/migrations/:name/backfill/retry"), true, this::retryChunks);
        blocking(r.get("/api/flags/:name"), false, ctx -> flags.get(ctx.pathParam("name")));
        blocking(r.put("/api/flags/:name"), true, this::putFlag);
        blocking(r.get("/api/audit"), false, this::audit);
        r.route("/api/*").handler(ctx -> Http.fail(ctx, 404, "NOT_FOUND", "no such endpoint: " + ctx.request().method()
                + " " + ctx.normalizedPath() + " (see docs/api.md)"));
        r.route("/vendor/uplot/*").handler(StaticHandler.create(uplotRoot()));
        r.route("/*").handler(StaticHandler.create("dashboard").setCachingEnabled(false));
        return r;
    }

    /**
     * The uPlot webjar's folder on the class path ({@code dist/uPlot.iife.min.js}, {@code dist/uPlot.min.css},
     * {@code LICENSE}), found from the version the webjar records, so the pom is the one place it is pinned.
     */
    static String uplotRoot() {
        java.util.Properties p = new java.util.Properties();
        try (java.io.InputStream in = ApiRoutes.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("the uPlot webjar (org.webjars.npm:uplot) is not on the class path");
            }
            p.load(in);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return "META-INF/resources/webjars/uplot/" + p.getProperty("version");
    }

    private void blocking(io.vertx.ext.web.Route route, boolean mutating, Action action) {
        route.blockingHandler(ctx -> {
            try {
                Auth.Grant grant = auth.grant(ctx.request().getHeader("Authorization"));
                boolean open = ctx.normalizedPath().equals("/readyz") || ctx.normalizedPath().startsWith("/flags/");
                if (!open && grant == Auth.Grant.NONE) {
                    throw new ApiException(401, "UNAUTHORIZED", "missing or invalid bearer token");
                }
                if (mutating && grant != Auth.Grant.ADMIN) {
                    throw new ApiException(403, "FORBIDDEN", "the read-only token may not change anything");
                }
                Object result = action.run(ctx);
                if (!ctx.response().ended()) {
                    Http.send(ctx, 200, result);
                }
            } catch (ApiException e) {
                Http.fail(ctx, e.status, e.code, e.getMessage());
            } catch (GateClosedException e) {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("error", e.code().name());
                body.put("message", e.getMessage());
                body.put("gate", e.report());
                Http.send(ctx, 409, body);
            } catch (ShapeshiftException e) {
                Http.fail(ctx, Http.httpStatus(e), e.code().name(), e.getMessage());
            } catch (Exception e) {
                log.error("API request failed method={} path={}", ctx.request().method(), ctx.normalizedPath(), e);
                Http.fail(ctx, 500, "INTERNAL", "internal error: " + e.getClass().getSimpleName());
            }
        }, false);
    }

    private Object ready(RoutingContext ctx) throws SQLException {
        try (Connection c = catalog.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1 FROM shapeshift.migration LIMIT 1");
        } catch (ShapeshiftException e) {
            Http.send(ctx, 503, JsonMaps.ordered("status", "unready", "message", e.getMessage()));
            return null;
        }
        return Map.of("status", "ready");
    }

    /**
     * {@code GET /flags/{name}}, open like {@code /metrics}: what an application in any language
     * needs to pick a shape, {@code {"name", "value", "version"}}; a flag never set is
     * {@code false} at version 0, as {@code FlagClient} and {@code shapeshift.flag(name)} answer.
     */
    private Object publicFlag(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        java.util.Optional<FlagStore.Flag> f = flags.find(name);
        body.put("value", f.map(FlagStore.Flag::value).orElse(false));
        body.put("version", f.map(FlagStore.Flag::version).orElse(0L));
        body.put("changedAt", f.map(FlagStore.Flag::changedAt).orElse(null));
        return body;
    }

    private Object transition(RoutingContext ctx) {
        JsonNode body = Http.body(ctx);
        String to = Http.text(body, "to", true);
        Phase phase;
        try {
            phase = Phase.fromLabel(to);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("unknown phase '" + to + "'; one of " + List.of(Phase.values()));
        }
        MigrationRecord m = transitions.advance(ctx.pathParam("name"), phase, Http.actor(body), Http.text(body, "reason", true));
        return status.read(m);
    }

    /** {@code POST /api/migrations}: the body is a YAML spec; 201 created, 200 unchanged, 400 invalid, 409 conflicting. */
    private Object register(RoutingContext ctx) {
        String type = ctx.request().getHeader("content-type");
        String mediaType = type == null ? "" : type.split(";")[0].strip().toLowerCase(java.util.Locale.ROOT);
        if (!YAML_TYPES.contains(mediaType)) {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "send the spec as YAML with content-type "
                    + "application/yaml (or text/plain), got '" + (type == null ? "none" : type) + "'");
        }
        String yaml = ctx.body().asString();
        if (yaml == null || yaml.isBlank()) {
            throw ApiException.badRequest("the body must be the migration spec (YAML, see docs/spec.md)");
        }
        String file = Http.query(ctx, "file");
        String who = Http.query(ctx, "actor") == null ? "api" : "api:" + Http.query(ctx, "actor");
        Registration r = registrar.withActor(who).register(file == null ? "request body" : file, yaml);
        log.info("spec posted migration={} outcome={} actor={}", r.migration(), r.outcome(), who);
        Http.send(ctx, httpStatus(r.outcome()), new Posted(r.accepted() ? null : r.outcome().error().name(), r.outcome(),
                r.migration(), r.phase(), r.message(), r.problems(), r.differences(), r.warnings()));
        return null;
    }

    /** The body of {@code POST /api/migrations}: a registration without its origin, {@code error} only when refused. */
    private record Posted(@JsonInclude(JsonInclude.Include.NON_NULL) String error, Registration.Outcome outcome,
                          String migration, Phase phase, String message, List<SpecProblem> problems,
                          List<String> differences, List<String> warnings) {
    }

    /** The status of {@code POST /api/migrations} for each outcome (docs/api.md). */
    private static int httpStatus(Registration.Outcome outcome) {
        return switch (outcome) {
            case CREATED -> 201;
            case UNCHANGED, KNOBS_CHANGED -> 200;
            case INVALID -> 400;
            case CONFLICT -> 409;
        };
    }

    private Object specs() {
        if (specs == null) {
            return JsonMaps.ordered("dir", "", "message", "no specs directory: start the coordinator with --specs-dir DIR",
                    "files", List.of(), "specProblems", List.of());
        }
        SpecsDir.Scan scan = specs.last();
        return new Scanned(scan.dir(), scan.scannedAt(), scan.error(), scan.files(), scan.specProblems());
    }

    /** The body of {@code GET /api/specs}: the latest scan, with the files that were refused. */
    private record Scanned(String dir, java.time.Instant scannedAt, String error, List<Registration> files,
                           List<Registration> specProblems) {
    }

    private Object rollback(RoutingContext ctx) {
        JsonNode body = Http.body(ctx);
        MigrationRecord m = transitions.rollback(ctx.pathParam("name"), Http.actor(body), Http.text(body, "reason", true));
        return status.read(m);
    }

    private Object putSettings(RoutingContext ctx) {
        MigrationRecord m = migration(ctx);
        JsonNode body = Http.body(ctx);
        String reason = Http.text(body, "reason", false);
        Map<Knob, String> values = new LinkedHashMap<>();
        for (Knob knob : Knob.values()) {
            JsonNode v = body.has(knob.jsonName()) ? body.get(knob.jsonName()) : body.get(knob.key());
            if (v == null) {
                continue;
            }
            boolean ok = knob.kind() == Knob.Kind.BOOLEAN ? v.isBoolean()
                    : v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0;
            if (!ok) {
                throw ApiException.badRequest(knob.jsonName() + (knob.kind() == Knob.Kind.BOOLEAN ? " must be true or false"
                        : " must be a whole number ≥ 0 (0 = off)"));
            }
            values.put(knob, v.asText());
        }
        if (values.isEmpty()) {
            throw ApiException.badRequest("give one or more of " + Arrays.stream(Knob.values()).map(k -> k.jsonName())
                    .toList() + " (paused: true/false; the others whole numbers, 0 = off)");
        }
        values.forEach((knob, v) -> catalog.putSetting(m.name(), knob.key(), knob.normalise(v), Http.actor(body), reason));
        return status.read(m).settings();
    }

    /**
     * {@code POST /api/migrations/NAME/backfill/retry} with {@code {"chunks": [N, …], "reason": …}} (both
     * optional; no chunks = every failed chunk): failed chunks back to pending, published at the driver's next tick.
     */
    private Object retryChunks(RoutingContext ctx) {
        MigrationRecord m = migration(ctx);
        JsonNode body = Http.body(ctx);
        List<Integer> only = new java.util.ArrayList<>();
        JsonNode chunks = body.get("chunks");
        if (chunks != null) {
            if (!chunks.isArray()) {
                throw ApiException.badRequest("chunks must be an array of chunk numbers");
            }
            for (JsonNode n : chunks) {
                if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                    throw ApiException.badRequest("chunks must be an array of chunk numbers, got " + n);
                }
                only.add(n.asInt());
            }
        }
        Map<Integer, String> retried = new dev.shapeshift.catalog.ChunkStore(catalog)
                .retryFailed(m.name(), only, Http.actor(body), Http.text(body, "reason", false));
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        retried.forEach((n, error) -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("chunk", n);
            one.put("error", error);
            out.add(one);
        });
        return Map.of("retried", out);
    }

    private Object putFlag(RoutingContext ctx) {
        JsonNode body = Http.body(ctx);
        JsonNode value = body.get("value");
        if (value == null || !value.isBoolean()) {
            throw ApiException.badRequest("value must be true or false");
        }
        return flags.set(ctx.pathParam("name"), null, value.asBoolean(), Http.actor(body), Http.text(body, "reason", true));
    }

    private Object audit(RoutingContext ctx) {
        String after = Http.query(ctx, "after");
        long afterId;
        try {
            afterId = after == null ? 0 : Long.parseLong(after);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("after must be an audit id (a whole number)");
        }
        List<AuditEntry> entries = catalog.auditLog(Http.query(ctx, "migration"), afterId, Http.limit(ctx, 100));
        return JsonMaps.ordered("items", entries, "next", entries.isEmpty() ? afterId : entries.get(entries.size() - 1).id());
    }

    private MigrationRecord migration(RoutingContext ctx) {
        return catalog.get(ctx.pathParam("name"));
    }
}
