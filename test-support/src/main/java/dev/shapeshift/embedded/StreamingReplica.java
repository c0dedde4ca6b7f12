package dev.shapeshift.embedded;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real hot standby of an {@link EmbeddedPostgres}, streaming from it through a physical
 * replication slot: read-only, {@code pg_is_in_recovery()} true, with pg_stat_statements of its own.
 *
 * <p>The zonky distribution has no {@code pg_basebackup}, so the base backup is taken the way
 * {@code pg_basebackup} takes it, with the server's low-level backup API: {@code pg_backup_start},
 * a copy of the data directory (without {@code pg_wal}, {@code pg_replslot}, the pid file and the
 * logs), {@code pg_backup_stop} whose label file becomes {@code backup_label}; then
 * {@code standby.signal}, {@code primary_conninfo} and {@code primary_slot_name}. The standby
 * fetches the WAL from the backup's start onwards from the slot (reserved before the backup).
 * Same host only: the copy reads the primary's data directory.
 */
public record StreamingReplica(EmbeddedPostgres primary, EmbeddedPostgres standby, Path dir, String slot)
        implements PostgresServer, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamingReplica.class);
    private static final Set<String> SKIP = Set.of("postmaster.pid", "postmaster.opts", "pg_wal", "pg_replslot", "log",
            "pg_stat_tmp", "backup_label", "standby.signal", "recovery.signal");

    /** Takes a base backup of {@code primary} and starts it as a streaming hot standby on a free port. */
    public static StreamingReplica start(EmbeddedPostgres primary) {
        String slot = "replica_" + Long.toHexString(System.nanoTime());
        Path dir = FileTree.privateTempDirectory("shapeshift-replica-", "the replica's directory");
        Path data = dir.resolve("data");
        long t0 = System.nanoTime();
        try (Connection c = primary.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_create_physical_replication_slot('" + slot + "', true)");
            s.execute("SELECT pg_backup_start('shapeshift-replica', true)");
            copy(primary.dataDir(), data);
            try (ResultSet rs = s.executeQuery("SELECT labelfile, spcmapfile FROM pg_backup_stop(false)")) {
                rs.next();
                Files.writeString(data.resolve("backup_label"), rs.getString(1));
                String map = rs.getString(2);
                if (map != null && !map.isEmpty()) {
                    Files.writeString(data.resolve("tablespace_map"), map);
                }
            }
            Files.createDirectories(data.resolve("pg_wal").resolve("archive_status"));
            Files.createDirectories(data.resolve("pg_replslot"));
            Files.createDirectories(data.resolve("pg_stat_tmp"));
            Files.writeString(data.resolve("standby.signal"), "");
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        } catch (SQLException | IOException e) {
            FileTree.deleteQuietly(dir);
            throw new EmbeddedServerException("base backup of " + primary + " failed: " + e.getMessage(), e);
        }
        EmbeddedPostgres standby = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests().withDataDir(data)
                .withSetting("primary_conninfo", "host=" + primary.host() + " port=" + primary.port() + " user="
                        + primary.user() + " password=" + primary.password() + " application_name=" + slot)
                .withSetting("primary_slot_name", slot)
                .withSetting("hot_standby", "on"));
        log.info("streaming replica started primary_port={} replica_port={} slot={} ms={}", primary.port(), standby.port(),
                slot, (System.nanoTime() - t0) / 1_000_000);
        return new StreamingReplica(primary, standby, dir, slot);
    }

    @Override
    public String host() {
        return standby.host();
    }

    @Override
    public int port() {
        return standby.port();
    }

    @Override
    public String user() {
        return standby.user();
    }

    @Override
    public String password() {
        return standby.password();
    }

    /** The primary's current WAL position has been replayed here (e.g. after creating a table there). */
    public boolean caughtUp(String primaryLsn) throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_last_wal_replay_lsn() >= '" + primaryLsn + "'::pg_lsn")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * Promotes the standby to a primary ({@code pg_promote()}, waiting until it left recovery): what
     * a failover does. Its logical replication slots are those it had as a standby: none before
     * PostgreSQL 17's failover slots (logical slots are not copied by a base backup).
     */
    public void promote() throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_promote(true, 60)")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new EmbeddedServerException("the replica on port " + port() + " was not promoted within 60 s");
            }
        }
        log.info("streaming replica promoted replica_port={}", port());
    }

    /** Stops the standby, deletes its copy and drops its slot on the primary. */
    @Override
    public void close() {
        try {
            standby.close();
        } finally {
            FileTree.deleteQuietly(dir);
            try (Connection c = primary.connect("postgres"); Statement s = c.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot('" + slot + "') FROM pg_replication_slots "
                        + "WHERE slot_name = '" + slot + "' AND NOT active");
            } catch (SQLException | RuntimeException e) {
                log.warn("dropping the replica's slot failed slot={} error={}", slot, e.toString());
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new FileTree.LiveTreeVisitor() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                if (!d.equals(from) && from.relativize(d).getNameCount() == 1 && SKIP.contains(d.getFileName().toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(d).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(f);
                if (rel.getNameCount() == 1 && SKIP.contains(f.getFileName().toString())) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(f, to.resolve(rel.toString()), StandardCopyOption.REPLACE_EXISTING);
                } catch (NoSuchFileException gone) {
                    // a file removed while copying (a temp file): the WAL replay does not need it
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
