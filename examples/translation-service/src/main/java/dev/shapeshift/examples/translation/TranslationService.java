package dev.shapeshift.examples.translation;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The translation service: its own PostgreSQL storage ({@link EntryStore}), the HTTP API
 * ({@link Routes}) and the background fan-out job ({@link FanOut}). {@link #start} returns once it
 * listens; {@link #close} stops the job, the server and the pool.
 */
public final class TranslationService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TranslationService.class);

    private final HikariDataSource pool;
    private final Vertx vertx;
    private final HttpServer server;
    private final ScheduledExecutorService job;
    private final FanOut fanOut;

    private TranslationService(HikariDataSource pool, Vertx vertx, HttpServer server, ScheduledExecutorService job,
                               FanOut fanOut) {
        this.pool = pool;
        this.vertx = vertx;
        this.server = server;
        this.job = job;
        this.fanOut = fanOut;
    }

    /**
     * Starts the service. The translator must cover every configured target locale.
     *
     * @throws IllegalArgumentException when the translator lacks a configured locale
     * @throws ServiceError             {@code STORE_UNAVAILABLE} when the database is not reachable within {@link #START_WAIT}
     */
    public static TranslationService start(ServiceConfig config, Translator translator) {
        if (!translator.targetLocales().containsAll(config.targetLocales())) {
            throw new IllegalArgumentException("--locales " + config.targetLocales() + ": the translator only writes "
                    + translator.targetLocales());
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.jdbcUrl());
        hc.setUsername(config.user());
        hc.setPassword(config.password());
        hc.setMaximumPoolSize(8);
        hc.setPoolName("translation-service");
        // Fail requests fast while the database is down (503, the client retries) instead of queueing them.
        hc.setConnectionTimeout(2_000);
        hc.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(hc);
        Vertx vertx = null;
        ScheduledExecutorService job = null;
        try {
            EntryStore store = new EntryStore(pool);
            createSchema(store);
            vertx = Vertx.vertx();
            // GET /keys?ids=… names up to 1,000 keys in the request line: allow 64 KB (Vert.x's default is 4 KB).
            HttpServer server = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
                            .setMaxInitialLineLength(64 * 1024)).requestHandler(new Routes(config, store).router(vertx))
                    .listen(config.port(), config.bindHost()).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            FanOut fanOut = new FanOut(store, translator, config.sourceLocale(), config.targetLocales(), config.fanOutBatch(),
                    config.fanOutPerSecond());
            job = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "translation-fan-out");
                t.setDaemon(true);
                return t;
            });
            job.scheduleWithFixedDelay(fanOut, 0, config.fanOutEvery().toMillis(), TimeUnit.MILLISECONDS);
            log.info("translation service listening port={} sourceLocale={} locales={}", server.actualPort(),
                    config.sourceLocale(), config.targetLocales());
            return new TranslationService(pool, vertx, server, job, fanOut);
        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
            if (job != null) {
                job.shutdownNow();
            }
            if (vertx != null) {
                vertx.close();
            }
            pool.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot listen on " + config.bindHost() + ":" + config.port() + ": "
                    + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
        }
    }

    /** How long a start waits for its database (a busy server may take seconds to hand out a connection). */
    static final java.time.Duration START_WAIT = java.time.Duration.ofSeconds(30);

    private static void createSchema(EntryStore store) throws InterruptedException {
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        while (true) {
            try {
                store.createSchema();
                return;
            } catch (ServiceError e) {
                if (e.code() != ServiceError.Code.STORE_UNAVAILABLE || System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("database not reachable yet, retrying: {}", e.getMessage());
                Thread.sleep(1000);
            }
        }
    }

    public int port() {
        return server.actualPort();
    }

    /** Entries the fan-out job wrote since this service started. */
    public long fanOutWritten() {
        return fanOut.written();
    }

    @Override
    public void close() {
        job.shutdownNow();
        try {
            job.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("vert.x did not close cleanly: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
    }
}
