package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * {@code /metrics} (Prometheus text) and {@code /livez} for the worker and bridge roles, so every
 * pod can be scraped, not only the coordinator. Off unless {@code --metrics-port} is given.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final Vertx vertx;
    private final HttpServer server;

    private MetricsEndpoint(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    static MetricsEndpoint start(String bind, int port, PrometheusMeterRegistry registry) {
        Vertx vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
        router.get("/livez").handler(ctx -> ctx.response().end("ok"));
        try {
            HttpServer server = vertx.createHttpServer().requestHandler(router).listen(port, bind)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return new MetricsEndpoint(vertx, server);
        } catch (Exception e) {
            vertx.close();
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot serve metrics on " + bind + ":" + port + ": "
                    + e.getMessage(), e);
        }
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        vertx.close();
    }
}
