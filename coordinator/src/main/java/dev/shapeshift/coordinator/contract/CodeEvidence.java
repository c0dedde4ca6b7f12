package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.contract.CodeSearch.Hit;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What the code search found for one look: the hits still open, the hits the team acknowledged
 * (with the reason, from {@code shapeshift.contract_code_ack}), and the directories that could not
 * be searched. Open hits and unsearchable directories keep the contract gate closed.
 *
 * @param roots        the directories searched, as given (spec {@code contract.codeSearch}, then {@code --code})
 * @param names        the identifiers searched for
 * @param open         hits nobody acknowledged
 * @param acknowledged hits covered by an acknowledgement
 * @param problems     directories that are missing or unreadable on this host
 */
public record CodeEvidence(List<String> roots, List<String> names, List<Hit> open, List<Acknowledged> acknowledged,
                           List<String> problems) {

    public CodeEvidence {
        roots = List.copyOf(roots);
        names = List.copyOf(names);
        open = List.copyOf(open);
        acknowledged = List.copyOf(acknowledged);
        problems = List.copyOf(problems);
    }

    /** A hit and the acknowledgement that covers it. */
    public record Acknowledged(Hit hit, String reason, String by) {
    }

    /** An acknowledgement as stored: a file (line 0: every hit in it) or one line of it. */
    public record Ack(String file, int line, String reason, String by) {
        boolean covers(Hit h) {
            return file.equals(h.file()) && (line == 0 || line == h.line());
        }
    }

    /** Searches {@code roots} for the old shape and sorts the hits by the stored acknowledgements; null when nothing is searched. */
    static CodeEvidence search(OldShape shape, List<String> roots, List<Ack> acks) {
        CodeSearch search = CodeSearch.of(shape);
        List<String> dirs = List.copyOf(new LinkedHashSet<>(roots));
        if (search == null || dirs.isEmpty()) {
            return null;
        }
        List<Hit> open = new ArrayList<>();
        List<Acknowledged> acknowledged = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String dir : dirs) {
            Path root = Path.of(dir).toAbsolutePath().normalize();
            if (!Files.isDirectory(root)) {
                problems.add(dir + " is not a directory on this host (" + root + "): fix contract.codeSearch or --code");
                continue;
            }
            try {
                for (Hit h : search.scan(root, dir)) {
                    Ack a = acks.stream().filter(x -> x.covers(h)).findFirst().orElse(null);
                    if (a == null) {
                        open.add(h);
                    } else {
                        acknowledged.add(new Acknowledged(h, a.reason(), a.by()));
                    }
                }
            } catch (IOException e) {
                problems.add(dir + " could not be searched: " + e.getMessage());
            }
        }
        return new CodeEvidence(dirs, search.names(), open, acknowledged, problems);
    }

    static List<Ack> acks(Connection c, String migration) throws SQLException {
        List<Ack> out = new ArrayList<>();
        out.addAll(Sql.list(c, "SELECT file, line, reason, acked_by FROM shapeshift.contract_code_ack "
                + "WHERE migration = ? ORDER BY file, line",
                rs -> new Ack(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4)), migration));
        return out;
    }

    /**
     * Records that the hits in {@code file} (relative to the searched directory; {@code path:LINE}
     * for one line) do not use the old shape, with the reason, and audits it in the same transaction.
     */
    public static Ack acknowledge(Database db, String migration, String fileAndLine, String actor, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new ShapeshiftException(ErrorCode.USAGE, "an acknowledgement needs --reason: say why this hit "
                    + "does not use the old shape (it goes to the audit log)");
        }
        String file = fileAndLine.replace('\\', '/');
        int line = 0;
        int colon = file.lastIndexOf(':');
        if (colon > 0 && file.substring(colon + 1).matches("[0-9]+")) {
            line = Integer.parseInt(file.substring(colon + 1));
            file = file.substring(0, colon);
        }
        while (file.startsWith("./")) {
            file = file.substring(2);
        }
        if (file.isBlank() || file.startsWith("/")) {
            throw new ShapeshiftException(ErrorCode.USAGE, "--file " + fileAndLine + ": name the file relative to "
                    + "the searched directory, as shapeshift evidence prints it after the directory (e.g. "
                    + "src/main/java/Report.java or src/main/java/Report.java:42)");
        }
        Ack ack = new Ack(file, line, reason, actor);
        new Catalog(db, AccessWatch.ROLE).get(migration);
        Tx.run(db, AccessWatch.ROLE, "acknowledging a code hit of " + migration, c -> {
            Sql.update(c, "INSERT INTO shapeshift.contract_code_ack (migration, file, line, "
                    + "reason, acked_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (migration, file, line) DO UPDATE SET "
                    + "reason = EXCLUDED.reason, acked_by = EXCLUDED.acked_by, acked_at = now()",
                    migration, ack.file(), ack.line(), reason, actor);
            Catalog.audit(c, migration, actor, "code-ack: " + ack.file() + (ack.line() == 0 ? " (every hit)" : ":" + ack.line()),
                    null, null, reason);
            return null;
        });
        return ack;
    }
}
