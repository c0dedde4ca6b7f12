package dev.shapeshift.examples.translation;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The service's own storage: one table {@code translation (key, locale, text, version, deleted,
 * origin)} in the service's PostgreSQL database. Every write goes through {@link #apply}, the one
 * place the version rule lives: a write lands only when its version is newer than the held one;
 * the same version with the same content again is a no-op (a client's retry); anything else is
 * stale and answered with the held version.
 *
 * <p>Why one class of ~590 lines: it is the example service's whole storage, and its one version
 * rule ({@link #apply}) is what every read and write around it must agree with.
 */
public final class EntryStore {

    /** What {@link #apply} did. */
    public enum Outcome { APPLIED, UNCHANGED }

    static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS translation (
              key        text    NOT NULL,
              locale     text    NOT NULL,
              text       text,
              version    bigint  NOT NULL,
              deleted    boolean NOT NULL DEFAULT false,
              origin     text    NOT NULL,
              updated_at timestamptz NOT NULL DEFAULT now(),
              PRIMARY KEY (key, locale),
              CHECK (deleted = (text IS NULL))
            );
            CREATE TABLE IF NOT EXISTS binding (
              ref        text    PRIMARY KEY,
              key        text,
              version    bigint  NOT NULL,
              deleted    boolean NOT NULL,
              updated_at timestamptz NOT NULL DEFAULT now(),
              CHECK (deleted = (key IS NULL))
            )""";

    private final DataSource ds;

    public EntryStore(DataSource ds) {
        this.ds = ds;
    }

    void createSchema() {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(SCHEMA);
        } catch (SQLException e) {
            throw unavailable("create the schema", e);
        }
    }

    /**
     * Writes {@code text} (null: a tombstone) for key and locale at {@code version} when that is
     * newer than what is held.
     *
     * @throws ServiceError {@code STALE_VERSION} (with the held version) when a newer or a
     *                      different same-version entry is held; {@code STORE_UNAVAILABLE} when the
     *                      database cannot be reached
     */
    public Outcome apply(String key, String locale, String text, long version, String origin) {
        try (Connection c = ds.getConnection()) {
            return apply(c, key, locale, text, version, origin);
        } catch (SQLException e) {
            throw unavailable("apply a write", e);
        }
    }

    private static Outcome apply(Connection c, String key, String locale, String text, long version, String origin)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO translation AS t (key, locale, text, version, deleted, origin) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (key, locale) DO UPDATE SET text = excluded.text, version = excluded.version,
                  deleted = excluded.deleted, origin = excluded.origin, updated_at = now()
                WHERE t.version < excluded.version
                RETURNING version""")) {
            ps.setString(1, key);
            ps.setString(2, locale);
            ps.setString(3, text);
            ps.setLong(4, version);
            ps.setBoolean(5, text == null);
            ps.setString(6, origin);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return Outcome.APPLIED;
                }
            }
        }
        // Rows are never removed, so the conflicting row is still there to name.
        Entry held = read(c, List.of(key), List.of(locale)).get(0);
        if (held.version() == version && java.util.Objects.equals(held.text(), text)) {
            return Outcome.UNCHANGED;
        }
        throw new ServiceError(ServiceError.Code.STALE_VERSION, "key " + key + " locale " + locale + " holds version "
                + held.version() + (held.version() == version ? " with different content" : "")
                + "; a write must carry a newer version than " + held.version(), held.version(), null);
    }

    /** One unit of work of {@link #inTransaction}. */
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws;
     * a database error is answered by {@link #unavailable} ("cannot {@code what}: ...").
     */
    private <T> T inTransaction(String what, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                T out = work.run(c);
                c.commit();
                return out;
            } catch (SQLException | RuntimeException x) {
                c.rollback();
                throw x;
            }
        } catch (SQLException e) {
            throw unavailable(what, e);
        }
    }

    /** One write of {@link #applyEach}: text null is a tombstone. */
    public record Write(String key, String locale, String text, long version) {
    }

    /**
     * Writes each in one transaction (one commit for the lot), each under {@link #apply}'s rule;
     * a write a newer version already holds is skipped. Returns how many were applied.
     */
    public int applyEach(List<Write> writes, String origin) {
        return inTransaction("apply writes", c -> {
            lockInOrder(c, List.of(), writes.stream().map(w -> entryLock(w.key(), w.locale())).toList());
            int applied = 0;
            for (Write w : writes) {
                try {
                    if (apply(c, w.key(), w.locale(), w.text(), w.version(), origin) == Outcome.APPLIED) {
                        applied++;
                    }
                } catch (ServiceError stale) {
                    if (stale.code() != ServiceError.Code.STALE_VERSION) {
                        throw stale;
                    }
                }
            }
            return applied;
        });
    }

    /** What {@link #applyRef} did to the binding and to the key's entry. */
    public record RefOutcome(Outcome binding, Outcome entry) {
    }

    /**
     * A write on behalf of a client's row {@code ref} (the sink's source key): binds the ref to
     * {@code key} and writes {@code text} for key and locale, both at {@code version} and both
     * under the version rule, in one transaction. The ref is the client's unit: the write is stale
     * (409) only when the binding is; an entry another ref wrote at a newer version is kept (entry
     * outcome {@code null}).
     */
    public RefOutcome applyRef(String ref, String key, String locale, String text, long version) {
        return inTransaction("apply a write", c -> {
            lockInOrder(c, List.of(ref), key == null ? List.of() : List.of(entryLock(key, locale)));
            Outcome b = bind(c, ref, key, version);
            Outcome e;
            try {
                e = apply(c, key, locale, text, version, "put");
            } catch (ServiceError stale) {
                if (stale.code() != ServiceError.Code.STALE_VERSION) {
                    throw stale;
                }
                e = null;
            }
            return new RefOutcome(b, e);
        });
    }

    /** One write of a batch on behalf of a client's row: {@code key} null is a delete of the ref. */
    public record RefWrite(String ref, String key, String text, long version) {
    }

    /**
     * What one write of a batch did: {@code outcome} applied, unchanged or stale (a newer version
     * of the ref is held, {@code heldVersion}); {@code entry} as in {@link RefOutcome} (null for a
     * delete or a stale write).
     */
    public record RefResult(String ref, String outcome, String entry, Long heldVersion) {
    }

    /**
     * Many client rows in one transaction, each under the version rule exactly as
     * {@link #applyRef} / {@link #deleteRef} apply one: a stale write is answered per write and
     * does not stop the others. Results in the order of {@code writes}.
     */
    public List<RefResult> applyRefs(List<RefWrite> writes, String locale) {
        return inTransaction("apply a batch", c -> {
            lockInOrder(c, writes.stream().map(RefWrite::ref).toList(), writes.stream()
                    .filter(w -> w.key() != null).map(w -> entryLock(w.key(), locale)).toList());
            List<RefResult> out;
            if (distinct(writes)) {
                out = applyAll(c, writes, locale);
            } else {
                out = new ArrayList<>(writes.size());
                for (RefWrite w : writes) {
                    out.add(applyOne(c, w, locale));
                }
            }
            return out;
        });
    }

    /**
     * Takes the transaction's advisory locks on every ref and every (key, locale) entry it is about to
     * write, all at once and in one global order, before it touches a row. Two writers that share a row
     * then meet at these locks, in the same order, instead of at the rows: without them, batches whose
     * refs share keys (many menu items, one label) locked bindings and entries in different orders and
     * deadlocked one another over and over under load (MenuSinkIT, two workers' sync and backfill
     * sending at once). Released at commit or rollback.
     */
    private static void lockInOrder(Connection c, List<String> refs, List<String> entries) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(pg_advisory_xact_lock(l.cls, l.h)) FROM (
                  SELECT DISTINCT cls, h FROM (
                    SELECT 1 AS cls, hashtext(r) AS h FROM unnest(?::text[]) AS r
                    UNION ALL SELECT 2, hashtext(e) FROM unnest(?::text[]) AS e) a
                  ORDER BY cls, h) l""")) {
            ps.setArray(1, c.createArrayOf("text", refs.toArray()));
            ps.setArray(2, c.createArrayOf("text", entries.toArray()));
            ps.executeQuery().close();
        }
    }

    private static String entryLock(String key, String locale) {
        return key + '\u001f' + locale;
    }

    /** Whether no ref and no key occurs twice: then one statement per table applies the whole batch. */
    private static boolean distinct(List<RefWrite> writes) {
        java.util.Set<String> refs = new java.util.HashSet<>();
        java.util.Set<String> keys = new java.util.HashSet<>();
        for (RefWrite w : writes) {
            if (!refs.add(w.ref()) || (w.key() != null && !keys.add(w.key()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The batch in four statements instead of two per write, with exactly {@link #applyOne}'s rule
     * and answers: the bindings upserted where the version is newer (in ref order, so two batches
     * lock in the same order), the ones not applied classified from what is held (unchanged: same
     * version and key; else stale); then the entries of the live writes not stale, upserted where
     * newer (in key order), the others classified (unchanged, or a newer entry held).
     */
    private static List<RefResult> applyAll(Connection c, List<RefWrite> writes, String locale) throws SQLException {
        int n = writes.size();
        String[] refs = new String[n];
        String[] keys = new String[n];
        Long[] versions = new Long[n];
        Boolean[] deleted = new Boolean[n];
        for (int i = 0; i < n; i++) {
            RefWrite w = writes.get(i);
            refs[i] = w.ref();
            keys[i] = w.key();
            versions[i] = w.version();
            deleted[i] = w.key() == null;
        }
        java.util.Set<String> bound = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO binding AS b (ref, key, version, deleted)
                SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::boolean[]) AS w(ref, key, version, deleted)
                ORDER BY ref
                ON CONFLICT (ref) DO UPDATE SET key = excluded.key, version = excluded.version, deleted = excluded.deleted,
                  updated_at = now()
                WHERE b.version < excluded.version
                RETURNING ref""")) {
            ps.setArray(1, c.createArrayOf("text", refs));
            ps.setArray(2, c.createArrayOf("text", keys));
            ps.setArray(3, c.createArrayOf("bigint", versions));
            ps.setArray(4, c.createArrayOf("boolean", deleted));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    bound.add(rs.getString(1));
                }
            }
        }
        Map<String, RefResult> result = new java.util.HashMap<>();
        List<String> notBound = java.util.Arrays.stream(refs).filter(r -> !bound.contains(r)).toList();
        if (!notBound.isEmpty()) {
            Map<String, RefWrite> byRef = new java.util.HashMap<>();
            writes.forEach(w -> byRef.put(w.ref(), w));
            try (PreparedStatement ps = c.prepareStatement("SELECT ref, key, version FROM binding WHERE ref = ANY (?)")) {
                ps.setArray(1, c.createArrayOf("text", notBound.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        RefWrite w = byRef.get(rs.getString(1));
                        long held = rs.getLong(3);
                        if (held == w.version() && java.util.Objects.equals(rs.getString(2), w.key())) {
                            result.put(w.ref(), new RefResult(w.ref(), "unchanged", null, null));
                        } else {
                            result.put(w.ref(), new RefResult(w.ref(), "stale", null, held));
                        }
                    }
                }
            }
        }
        // The entries of the live writes whose binding was applied or unchanged, as applyOne writes them.
        List<RefWrite> live = writes.stream().filter(w -> w.key() != null
                && (result.get(w.ref()) == null || !result.get(w.ref()).outcome().equals("stale"))).toList();
        java.util.Set<String> written = new java.util.HashSet<>();
        Map<String, String> entryOf = new java.util.HashMap<>();
        if (!live.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO translation AS t (key, locale, text, version, deleted, origin)
                    SELECT w.key, ?, w.text, w.version, false, 'put'
                    FROM unnest(?::text[], ?::text[], ?::bigint[]) AS w(key, text, version) ORDER BY w.key
                    ON CONFLICT (key, locale) DO UPDATE SET text = excluded.text, version = excluded.version,
                      deleted = excluded.deleted, origin = excluded.origin, updated_at = now()
                    WHERE t.version < excluded.version
                    RETURNING key""")) {
                ps.setString(1, locale);
                ps.setArray(2, c.createArrayOf("text", live.stream().map(RefWrite::key).toArray()));
                ps.setArray(3, c.createArrayOf("text", live.stream().map(RefWrite::text).toArray()));
                ps.setArray(4, c.createArrayOf("bigint", live.stream().map(RefWrite::version).toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        written.add(rs.getString(1));
                    }
                }
            }
            List<String> notWritten = live.stream().map(RefWrite::key).filter(k -> !written.contains(k)).toList();
            if (!notWritten.isEmpty()) {
                Map<String, Entry> held = new java.util.HashMap<>();
                for (Entry e : read(c, notWritten, List.of(locale))) {
                    held.put(e.key(), e);
                }
                for (RefWrite w : live) {
                    Entry e = held.get(w.key());
                    if (e != null) {
                        entryOf.put(w.key(), e.version() == w.version() && java.util.Objects.equals(e.text(), w.text())
                                ? "unchanged" : "newer held");
                    }
                }
            }
            written.forEach(k -> entryOf.put(k, "applied"));
        }
        List<RefResult> out = new ArrayList<>(n);
        for (RefWrite w : writes) {
            RefResult r = result.get(w.ref());
            if (r != null && r.outcome().equals("stale")) {
                out.add(r);
                continue;
            }
            String outcome = bound.contains(w.ref()) ? "applied" : "unchanged";
            out.add(new RefResult(w.ref(), outcome, w.key() == null ? null : entryOf.get(w.key()), null));
        }
        return out;
    }

    private static RefResult applyOne(Connection c, RefWrite w, String locale) throws SQLException {
        Outcome b;
        try {
            b = bind(c, w.ref(), w.key(), w.version());
        } catch (ServiceError stale) {
            if (stale.code() != ServiceError.Code.STALE_VERSION) {
                throw stale;
            }
            return new RefResult(w.ref(), "stale", null, stale.heldVersion());
        }
        String entry = null;
        if (w.key() != null) {
            try {
                entry = lower(apply(c, w.key(), locale, w.text(), w.version(), "put"));
            } catch (ServiceError stale) {
                if (stale.code() != ServiceError.Code.STALE_VERSION) {
                    throw stale;
                }
                entry = "newer held";
            }
        }
        return new RefResult(w.ref(), lower(b), entry, null);
    }

    private static String lower(Outcome o) {
        return o.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A tombstone for {@code ref} at {@code version}: the client's row is gone. Entries stay (other refs may share the key). */
    public Outcome deleteRef(String ref, long version) {
        try (Connection c = ds.getConnection()) {
            return bind(c, ref, null, version);
        } catch (SQLException e) {
            throw unavailable("delete a ref", e);
        }
    }

    private static Outcome bind(Connection c, String ref, String key, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO binding AS b (ref, key, version, deleted) VALUES (?, ?, ?, ?)
                ON CONFLICT (ref) DO UPDATE SET key = excluded.key, version = excluded.version, deleted = excluded.deleted,
                  updated_at = now()
                WHERE b.version < excluded.version
                RETURNING version""")) {
            ps.setString(1, ref);
            ps.setString(2, key);
            ps.setLong(3, version);
            ps.setBoolean(4, key == null);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return Outcome.APPLIED;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT key, version FROM binding WHERE ref = ?")) {
            ps.setString(1, ref);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long held = rs.getLong(2);
                if (held == version && java.util.Objects.equals(rs.getString(1), key)) {
                    return Outcome.UNCHANGED;
                }
                throw new ServiceError(ServiceError.Code.STALE_VERSION, "ref " + ref + " holds version " + held
                        + (held == version ? " with a different key" : "") + "; a write must carry a newer version than "
                        + held, held, null);
            }
        }
    }

    /** What one ref is bound to: its key's text in {@code locale} (null when none or a tombstone). */
    public record Binding(String ref, String key, long version, boolean deleted, String text, Long textVersion) {
    }

    /** The bindings of these refs (refs never written omitted), with the bound key's text in {@code locale}. */
    public List<Binding> readRefs(List<String> refs, String locale) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT b.ref, b.key, b.version, b.deleted, e.text, e.version FROM binding b
                LEFT JOIN translation e ON e.key = b.key AND e.locale = ?
                WHERE b.ref = ANY (?) ORDER BY b.ref""")) {
            ps.setString(1, locale);
            ps.setArray(2, c.createArrayOf("text", refs.toArray()));
            List<Binding> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long tv = rs.getLong(6);
                    out.add(new Binding(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getBoolean(4), rs.getString(5),
                            rs.wasNull() ? null : tv));
                }
            }
            return out;
        } catch (SQLException e) {
            throw unavailable("read refs", e);
        }
    }

    /** Every entry held for these keys (in the given locales; all locales when {@code locales} is empty), by key then locale. */
    public List<Entry> read(List<String> keys, List<String> locales) {
        try (Connection c = ds.getConnection()) {
            return read(c, keys, locales);
        } catch (SQLException e) {
            throw unavailable("read keys", e);
        }
    }

    private static List<Entry> read(Connection c, List<String> keys, List<String> locales) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT key, locale, text, version, deleted, origin FROM translation "
                + "WHERE key = ANY (?) AND (cardinality(?::text[]) = 0 OR locale = ANY (?)) ORDER BY key, locale")) {
            Array k = c.createArrayOf("text", keys.toArray());
            Array l = c.createArrayOf("text", locales.toArray());
            ps.setArray(1, k);
            ps.setArray(2, l);
            ps.setArray(3, l);
            return entries(ps);
        }
    }

    /** The entries {@code ps} selects (key, locale, text, version, deleted, origin), in its order. */
    private static List<Entry> entries(PreparedStatement ps) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Entry(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getBoolean(5),
                        rs.getString(6)));
            }
        }
        return out;
    }

    /**
     * Source-locale entries (tombstones included) that some target locale does not hold at their
     * version or newer: the fan-out job's work, oldest change first.
     */
    public List<Entry> pendingFanOut(String sourceLocale, List<String> targetLocales, int limit) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT s.key, s.locale, s.text, s.version, s.deleted, s.origin FROM translation s
                WHERE s.locale = ? AND EXISTS (SELECT 1 FROM unnest(?::text[]) AS l(locale)
                  WHERE NOT EXISTS (SELECT 1 FROM translation t WHERE t.key = s.key AND t.locale = l.locale
                                    AND t.version >= s.version))
                ORDER BY s.updated_at, s.key LIMIT ?""")) {
            ps.setString(1, sourceLocale);
            ps.setArray(2, c.createArrayOf("text", targetLocales.toArray()));
            ps.setInt(3, limit);
            return entries(ps);
        } catch (SQLException e) {
            throw unavailable("find pending fan-out", e);
        }
    }

    /** Live (not deleted) entries per locale, and the source entries still waiting for the fan-out. */
    public Map<String, Object> stats(String sourceLocale, List<String> targetLocales) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT locale, count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted) "
                        + "FROM translation GROUP BY locale ORDER BY locale")) {
            Map<String, Object> live = new LinkedHashMap<>();
            Map<String, Object> tombstones = new LinkedHashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    live.put(rs.getString(1), rs.getLong(2));
                    tombstones.put(rs.getString(1), rs.getLong(3));
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("sourceLocale", sourceLocale);
            out.put("live", live);
            out.put("tombstones", tombstones);
            out.put("pendingFanOut", pendingCount(c, sourceLocale, targetLocales));
            return out;
        } catch (SQLException e) {
            throw unavailable("count entries", e);
        }
    }

    private static long pendingCount(Connection c, String sourceLocale, List<String> targetLocales) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*) FROM translation s
                WHERE s.locale = ? AND EXISTS (SELECT 1 FROM unnest(?::text[]) AS l(locale)
                  WHERE NOT EXISTS (SELECT 1 FROM translation t WHERE t.key = s.key AND t.locale = l.locale
                                    AND t.version >= s.version))""")) {
            ps.setString(1, sourceLocale);
            ps.setArray(2, c.createArrayOf("text", targetLocales.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Whether the database answers (the health endpoint). */
    public void ping() {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1 FROM translation LIMIT 1");
        } catch (SQLException e) {
            throw unavailable("reach the database", e);
        }
    }

    /**
     * Classifies a database failure by SQLState, never by message: connection trouble, shutdown,
     * resource exhaustion and a deadlock or serialization failure between two batches (classes 08,
     * 57P, 53, 40, and the pool's transient timeout) are
     * {@code STORE_UNAVAILABLE} (retry); a data exception (class 22, e.g. a NUL character in a
     * text) is {@code TEXT_REJECTED} (retrying cannot help); anything else is {@code INTERNAL}.
     */
    private static ServiceError unavailable(String what, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String detail = "cannot " + what + ": " + e.getMessage() + " (SQLState " + (state.isEmpty() ? "none" : state) + ")";
        if (e instanceof java.sql.SQLTransientException || state.startsWith("08") || state.startsWith("57P")
                || state.startsWith("53") || state.startsWith("40")) {
            return new ServiceError(ServiceError.Code.STORE_UNAVAILABLE, detail + "; retry later", null, e);
        }
        if (state.startsWith("22")) {
            return new ServiceError(ServiceError.Code.TEXT_REJECTED, detail + "; the value cannot be stored", null, e);
        }
        return new ServiceError(ServiceError.Code.INTERNAL, detail, null, e);
    }
}
