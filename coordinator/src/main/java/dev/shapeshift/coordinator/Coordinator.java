package dev.shapeshift.coordinator;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.api.ApiRoutes;
import dev.shapeshift.coordinator.api.ApiTls;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.drive.DriveLoop;
import dev.shapeshift.coordinator.gate.ContractGate;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.SpecsDir;
import dev.shapeshift.coordinator.contract.AwaitingContract;
import dev.shapeshift.coordinator.contract.ContractMetrics;
import dev.shapeshift.coordinator.status.History;
import dev.shapeshift.coordinator.status.StatusMetrics;
import dev.shapeshift.coordinator.status.StatusReader;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator role: upgrades the catalog schema, serves the HTTP API, the dashboard and
 * {@code /metrics}, refreshes the per-migration gauges every {@code statusEvery} (and stores the
 * dashboard's history, {@link History}), and registers
 * the spec files of {@code specsDir} (if given) at start and every {@link #SPECS_EVERY}, and — with
 * the driver on ({@link Config#drive()}) — drives every active migration through its phases
 * ({@link DriveLoop}; one driving instance per catalog, the others stand by). Start with
 * {@link #start}, stop with {@link #close}; callers observe progress in the catalog.
 */
public final class Coordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
    /** How often the specs directory is scanned. */
    public static final Duration SPECS_EVERY = Duration.ofSeconds(5);

    /**
     * Validated at construction and frozen.
     *
     * @param bindHost    interface to listen on (default 127.0.0.1: expose deliberately)
     * @param port        0 = any free port (see {@link #port()})
     * @param adminToken  bearer token for every call, including changes (required, ≥ 16 characters)
     * @param readToken   bearer token for GETs only (optional; null = none)
     * @param statusEvery how often the gauges are refreshed from the catalog (default 2s)
     * @param specsDir    a directory of spec files registered at start and every {@link #SPECS_EVERY}
     *                    (null = none; docs/operations.md)
     * @param drive       the migration driver: Kafka, partitions, on/off (default {@link DriveConfig#OFF})
     * @param tls         HTTPS certificate and key (null = plain HTTP)
     */
    public record Config(String bindHost, int port, Database database, String adminToken, String readToken,
                         Duration statusEvery, Path specsDir, DriveConfig drive, ApiTls tls) {
        /** The API, dashboard and metrics only: no specs directory, no driver. */
        public Config(String bindHost, int port, Database database, String adminToken, String readToken, Duration statusEvery) {
            this(bindHost, port, database, adminToken, readToken, statusEvery, null, null, null);
        }

        public Config(String bindHost, int port, Database database, String adminToken, String readToken,
                      Duration statusEvery, Path specsDir, DriveConfig drive) {
            this(bindHost, port, database, adminToken, readToken, statusEvery, specsDir, drive, null);
        }

        public Config withDrive(DriveConfig d) {
            return new Config(bindHost, port, database, adminToken, readToken, statusEvery, specsDir, d, tls);
        }

        public Config withSpecsDir(Path dir) {
            return new Config(bindHost, port, database, adminToken, readToken, statusEvery, dir, drive, tls);
        }

        public Config withTls(ApiTls t) {
            return new Config(bindHost, port, database, adminToken, readToken, statusEvery, specsDir, drive, t);
        }

        /** {@code http} or {@code https}. */
        public String scheme() {
            return tls == null ? "http" : "https";
        }

        public Config {
            if (specsDir != null && !Files.isDirectory(specsDir)) {
                throw invalid("--specs-dir " + specsDir + " is not a directory — mount the spec files there, or leave "
                        + "the option out");
            }
            bindHost = bindHost == null ? "127.0.0.1" : bindHost;
            statusEvery = statusEvery == null ? Duration.ofSeconds(2) : statusEvery;
            drive = drive == null ? DriveConfig.OFF : drive;
            if (port < 0 || port > 65535) {
                throw invalid("port must be 0..65535 (0 = any free port), got " + port);
            }
            if (database == null) {
                throw invalid("a database is required");
            }
            if (adminToken == null || adminToken.strip().length() < 16) {
                throw invalid("the admin token must be at least 16 characters (set it with --admin-token-file or "
                        + "SHAPESHIFT_ADMIN_TOKEN)");
            }
            if (readToken != null && readToken.strip().length() < 16) {
                throw invalid("the read token must be at least 16 characters");
            }
            if (readToken != null && readToken.strip().equals(adminToken.strip())) {
                throw invalid("the read token must differ from the admin token");
            }
            if (statusEvery.isNegative() || statusEvery.isZero()) {
                throw invalid("statusEvery must be positive");
            }
        }

        private static ShapeshiftException invalid(String message) {
            return new ShapeshiftException(ErrorCode.CONFIG_INVALID, "coordinator config: " + message);
        }

        @Override
        public String toString() {
            return "Config[bind=" + bindHost + ":" + port + ", database=" + database + ", readToken="
                    + (readToken != null) + ", specsDir=" + specsDir + ", drive=" + drive.enabled() + ", tls=" + (tls != null)
                    + "]";
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final ScheduledExecutorService statusLoop;
    private final DriveLoop driver;

    private Coordinator(Vertx vertx, HttpServer server, ScheduledExecutorService statusLoop, DriveLoop driver) {
        this.vertx = vertx;
        this.server = server;
        this.statusLoop = statusLoop;
        this.driver = driver;
    }

    public static Coordinator start(Config config, PrometheusMeterRegistry registry) {
        return start(config, registry, ContractGate.DEFAULT);
    }

    public static Coordinator start(Config config, PrometheusMeterRegistry registry, ContractGate contractGate) {
        CatalogSchema.migrate(config.database());
        Catalog catalog = new Catalog(config.database(), "coordinator");
        Gates gates = new Gates(contractGate);
        StatusReader status = new StatusReader(catalog, gates);
        SpecsDir specs = config.specsDir() == null ? null
                : new SpecsDir(config.specsDir(), new Registrar(config.database(), "specs-dir"));
        Transitions transitions = new Transitions(catalog, gates);
        History history = new History(catalog);
        ApiRoutes routes = new ApiRoutes(catalog, transitions, status, history, registry,
                config.adminToken().strip(), config.readToken() == null ? null : config.readToken().strip(),
                new Registrar(config.database(), "api"), specs)
                .evidence(new dev.shapeshift.coordinator.contract.AccessWatch(config.database()), config.database());
        Vertx vertx = Vertx.vertx();
        HttpServer server;
        try {
            HttpServerOptions options = new HttpServerOptions();
            if (config.tls() != null) {
                options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                        .setCertPath(config.tls().certificate().toString()).setKeyPath(config.tls().key().toString()));
            }
            server = vertx.createHttpServer(options).requestHandler(routes.router(vertx))
                    .listen(config.port(), config.bindHost()).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            vertx.close();
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot listen on " + config.bindHost() + ":"
                    + config.port() + ": " + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            vertx.close();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while starting the HTTP server", e);
        }
        StatusMetrics metrics = new StatusMetrics(registry);
        ContractMetrics contractMetrics = new ContractMetrics(registry);
        ScheduledExecutorService loop = Executors.newScheduledThreadPool(specs == null ? 1 : 2, r -> {
            Thread t = new Thread(r, "shapeshift-coordinator-loop");
            t.setDaemon(true);
            return t;
        });
        loop.scheduleWithFixedDelay(() -> {
            try {
                java.util.List<dev.shapeshift.coordinator.status.MigrationStatus> all = status.all();
                java.util.Map<String, Duration> maxLag = new java.util.HashMap<>();
                for (dev.shapeshift.catalog.MigrationRecord m : catalog.list()) {
                    try {
                        maxLag.put(m.name(), dev.shapeshift.coordinator.gate.StoredSpec.of(m).readSwitch().maxLag());
                    } catch (ShapeshiftException e) {
                        // an unreadable stored spec shows in the status; its bound stays NaN
                    }
                }
                metrics.update(all, maxLag);
                history.record(all);
                contractMetrics.update(AwaitingContract.read(config.database()));
            } catch (RuntimeException e) {
                log.warn("status refresh failed error={}", e.toString());
            }
        }, 0, config.statusEvery().toMillis(), TimeUnit.MILLISECONDS);
        if (specs != null) {
            Gauge.builder("shapeshift.specs.refused", specs, d -> d.last().specProblems().size())
                    .description("spec files of --specs-dir refused (invalid or conflicting) at the latest scan")
                    .register(registry);
            loop.scheduleWithFixedDelay(() -> {
                try {
                    specs.scan();
                } catch (RuntimeException e) {
                    log.warn("specs dir scan failed dir={} error={}", config.specsDir(), e.toString());
                }
            }, 0, SPECS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            log.info("coordinator scans specs dir={} every={}s", config.specsDir(), SPECS_EVERY.toSeconds());
        }
        DriveLoop driver = config.drive().enabled()
                ? DriveLoop.start(config.database(), transitions, config.drive(), registry) : null;
        log.info("coordinator listening host={} port={} readToken={} driving={}", config.bindHost(), server.actualPort(),
                config.readToken() != null, driver != null);
        return new Coordinator(vertx, server, loop, driver);
    }

    /** The port the HTTP server listens on (the free port chosen when configured with 0). */
    public int port() {
        return server.actualPort();
    }

    /**
     * Whether this instance drives the migrations now: the driver is on and holds the leadership
     * (one per catalog; the others are standbys that serve the API).
     */
    public boolean driving() {
        return driver != null && driver.leading();
    }

    @Override
    public void close() {
        if (driver != null) {
            driver.close();
        }
        statusLoop.shutdownNow();
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordinator did not stop cleanly error={}", e.toString());
        }
        log.info("coordinator stopped");
    }
}
