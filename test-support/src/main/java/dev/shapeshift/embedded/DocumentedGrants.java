package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SQL statements of the project's documented database set-up, {@code deploy/postgres/init/}
 * (the role Shapeshift connects as, its grants, the sample table), read from those files so that
 * tests run exactly what the docs and the compose stack give a user, for a role and database of
 * the test's own.
 */
public final class DocumentedGrants {
    private DocumentedGrants() {
    }

    /**
     * The statements of {@code 01-roles.sh} (its here-document) and {@code 02-users.sql} in order,
     * with the role {@code shapeshift} renamed to {@code role}, the psql variables for its password
     * and the database filled in, comment lines dropped.
     *
     * @param initDir  the {@code deploy/postgres/init} directory
     */
    public static List<String> statements(Path initDir, String role, String password, String database) {
        try {
            List<String> out = new ArrayList<>();
            out.addAll(split(heredoc(Files.readString(initDir.resolve("01-roles.sh")))));
            out.addAll(split(Files.readString(initDir.resolve("02-users.sql"))));
            return out.stream().map(sql -> sql.replaceAll("\\bshapeshift\\b", role)
                    .replace(":'pw'", "'" + password.replace("'", "''") + "'")
                    .replace(":\"db\"", "\"" + database + "\"")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the documented init scripts in " + initDir, e);
        }
    }

    private static String heredoc(String script) {
        Matcher m = Pattern.compile("<<'SQL'\\n(.*?)\\nSQL\\n", Pattern.DOTALL).matcher(script);
        if (!m.find()) {
            throw new IllegalStateException("01-roles.sh no longer holds its SQL in a <<'SQL' here-document");
        }
        return m.group(1);
    }

    /** SQL statements of a script: comment lines dropped, split at the semicolons that end a line. */
    private static List<String> split(String sql) {
        StringBuilder text = new StringBuilder();
        sql.lines().filter(l -> !l.strip().startsWith("--")).forEach(l -> text.append(l).append('\n'));
        List<String> out = new ArrayList<>();
        for (String s : text.toString().split(";\\s*\\n")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }
}
