package dev.shapeshift.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Statement shapes of a custom {@code expand.ddl} known to lock a busy table for the length of a
 * scan or a rewrite (or to leave a retried expand stuck), each with the safe alternative. Checked
 * on the text alone, after comments and the contents of string literals are blanked out, so a
 * keyword inside a literal or a comment never trips it. A statement on a table created earlier in
 * the same {@code expand.ddl} is exempt: that table is new and empty.
 *
 * <p>{@code expand.unsafe.reason} in the spec lets the statements through (e.g. a small table, or a
 * maintenance window); nothing else does.
 */
final class DdlSafety {
    /** One refused shape: what it does to the table, and what to write instead. */
    record Finding(String what, String instead) {
    }

    private static final String IDENT = "(?:\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*)";
    private static final String QUALIFIED = IDENT + "(?:\\s*\\.\\s*" + IDENT + ")?";
    private static final Pattern CREATE_TABLE = Pattern.compile("^create\\s+(?:(?:global|local)\\s+)?(?:(?:temp|temporary|unlogged)\\s+)?table\\s+(?:if\\s+not\\s+exists\\s+)?(" + QUALIFIED + ")");
    private static final Pattern CREATE_INDEX = Pattern.compile("^create\\s+(unique\\s+)?index\\s+(concurrently\\s+)?(if\\s+not\\s+exists\\s+)?(?:(" + IDENT + ")\\s+)?on\\s+(?:only\\s+)?(" + QUALIFIED + ")");
    private static final Pattern ALTER_TABLE = Pattern.compile("^alter\\s+table\\s+(?:if\\s+exists\\s+)?(?:only\\s+)?(" + QUALIFIED + ")\\s+(.*)$", Pattern.DOTALL);
    /** Functions whose value differs per row: a column default calling one is evaluated for every existing row (a rewrite). */
    static final Set<String> VOLATILE_DEFAULTS = Set.of("random", "gen_random_uuid", "uuid_generate_v1",
            "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "clock_timestamp", "timeofday", "nextval",
            "txid_current", "pg_current_xact_id", "setseed");

    private DdlSafety() {
    }

    /** The refused shapes of every statement of {@code ddl}, by index. Statements that do not scan are not listed. */
    static List<List<Finding>> check(List<String> ddl) {
        List<String> created = new ArrayList<>();
        List<List<Finding>> out = new ArrayList<>();
        for (String statement : ddl) {
            String s = normalise(statement == null ? "" : statement);
            Matcher t = CREATE_TABLE.matcher(s);
            if (t.find()) {
                created.add(lastPart(t.group(1)));
            }
            out.add(check(s, created));
        }
        return out;
    }

    private static List<Finding> check(String s, List<String> created) {
        List<Finding> found = new ArrayList<>();
        Matcher index = CREATE_INDEX.matcher(s);
        if (index.find()) {
            if (created.contains(lastPart(index.group(5)))) {
                return found;
            }
            if (index.group(2) == null) {
                found.add(new Finding("CREATE " + (index.group(1) == null ? "" : "UNIQUE ") + "INDEX without "
                        + "CONCURRENTLY blocks every write to the table for the whole build",
                        "CREATE " + (index.group(1) == null ? "" : "UNIQUE ") + "INDEX CONCURRENTLY IF NOT EXISTS "
                                + "<name> ON … (run on its own, outside a transaction)"
                                + (index.group(1) == null ? "" : ", or target.indexes with unique: true (built after "
                                + "the backfill, duplicates listed first)")));
            } else if (index.group(3) == null || index.group(4) == null) {
                found.add(new Finding("CREATE INDEX CONCURRENTLY without a name and IF NOT EXISTS cannot be run "
                        + "again when a retried expand repeats it", "CREATE INDEX CONCURRENTLY IF NOT EXISTS <name> ON …"));
            }
            return found;
        }
        if (s.matches("^(vacuum\\s+(\\(.*\\bfull\\b.*\\)|full\\b).*|cluster\\b.*)")) {
            found.add(new Finding("VACUUM FULL / CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock",
                    "leave them out of the expand (pg_repack runs them online)"));
        }
        if (s.matches("^lock\\s+(table\\s+)?.*") || s.matches("^truncate\\b.*")) {
            found.add(new Finding(s.startsWith("lock") ? "LOCK TABLE holds the lock for the whole expand transaction"
                    : "TRUNCATE empties the table under an ACCESS EXCLUSIVE lock", "leave it out of the expand"));
        }
        Matcher alter = ALTER_TABLE.matcher(s);
        if (alter.find() && !created.contains(lastPart(alter.group(1)))) {
            for (String action : splitTopLevel(alter.group(2))) {
                alterAction(action.strip(), found);
            }
        }
        return found;
    }

    private static void alterAction(String a, List<Finding> found) {
        boolean notValid = a.matches(".*\\bnot\\s+valid\\s*$");
        if (a.matches("^alter\\s+(column\\s+)?" + IDENT + "\\s+(set\\s+data\\s+)?type\\b.*")) {
            found.add(new Finding("ALTER COLUMN … TYPE rewrites the table (and its indexes) under an ACCESS "
                    + "EXCLUSIVE lock unless the types are binary-coercible",
                    "add a new column of the new type as a target column: Shapeshift backfills it and switches reads to it"));
        }
        if (a.matches("^alter\\s+(column\\s+)?" + IDENT + "\\s+set\\s+not\\s+null\\b.*")) {
            found.add(new Finding("SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a valid "
                    + "CHECK (col IS NOT NULL) proves it",
                    "target.columns[].notNull: true (staged after the backfill: CHECK … NOT VALID, VALIDATE, SET NOT "
                            + "NULL, drop the check), or ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID here"));
        }
        if (a.matches("^add\\s+(constraint\\s+" + IDENT + "\\s+)?(check|foreign\\s+key)\\b.*") && !notValid) {
            found.add(new Finding("ADD CONSTRAINT … " + (a.contains("check") ? "CHECK" : "FOREIGN KEY") + " without NOT "
                    + "VALID scans the whole table to validate it while holding its lock",
                    "append NOT VALID (new writes are checked at once); validate after the backfill with target.check "
                            + "/ target.columns[].references, or ALTER TABLE … VALIDATE CONSTRAINT later"));
        }
        if (a.matches("^add\\s+(constraint\\s+" + IDENT + "\\s+)?(unique|primary\\s+key|exclude)\\b.*")
                && !a.matches(".*\\busing\\s+index\\s+" + IDENT + ".*")) {
            found.add(new Finding("ADD CONSTRAINT … UNIQUE / PRIMARY KEY / EXCLUDE builds its index under an ACCESS "
                    + "EXCLUSIVE lock", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS <name> …, then ADD CONSTRAINT … "
                    + "UNIQUE USING INDEX <name> (or target.indexes with unique: true)"));
        }
        if (a.matches("^(set\\s+(tablespace|logged|unlogged|access\\s+method)\\b|set\\s+without\\s+oids).*")) {
            found.add(new Finding("SET TABLESPACE / LOGGED / UNLOGGED / ACCESS METHOD rewrites the table under an "
                    + "ACCESS EXCLUSIVE lock", "leave it out of the expand"));
        }
        if (a.matches("^add\\s+(?!constraint\\b|check\\b|foreign\\b|unique\\b|primary\\b|exclude\\b).*")) {
            addColumn(a, found);
        }
    }

    private static void addColumn(String a, List<Finding> found) {
        if (a.matches(".*\\b(small|big)?serial\\d?\\b.*") || a.matches(".*\\bgenerated\\s+(always|by\\s+default)\\s+as\\s+identity\\b.*")) {
            found.add(new Finding("ADD COLUMN of a serial or identity type fills every existing row (a rewrite under "
                    + "an ACCESS EXCLUSIVE lock)", "add a plain column and fill it through a target column transform"));
        }
        if (a.matches(".*\\bgenerated\\s+always\\s+as\\s*\\(.*\\)\\s*stored\\b.*")) {
            found.add(new Finding("ADD COLUMN … GENERATED ALWAYS AS … STORED computes every existing row (a rewrite)",
                    "make it a target column with that expression as its transform"));
        }
        Matcher d = Pattern.compile("\\bdefault\\b(.*)").matcher(a);
        if (d.find()) {
            Matcher fn = Pattern.compile("(" + IDENT + ")\\s*\\(").matcher(d.group(1));
            while (fn.find()) {
                String name = lastPart(fn.group(1));
                if (VOLATILE_DEFAULTS.contains(name)) {
                    found.add(new Finding("ADD COLUMN with the volatile default " + name + "() writes a value into "
                            + "every existing row (a rewrite under an ACCESS EXCLUSIVE lock)",
                            "add the column without that default, let a target column transform fill existing rows, "
                                    + "then SET DEFAULT " + name + "() (SET DEFAULT does not rewrite)"));
                    break;
                }
            }
        }
        if (a.matches(".*\\breferences\\b.*") && !a.matches(".*\\bnot\\s+valid\\s*$")) {
            found.add(new Finding("ADD COLUMN … REFERENCES validates the new foreign key with a scan under the lock",
                    "add the column, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID (or target.columns[].references)"));
        }
        if (a.matches(".*\\bcheck\\s*\\(.*")) {
            found.add(new Finding("ADD COLUMN … CHECK validates the check with a scan under the lock",
                    "add the column, then ADD CONSTRAINT … CHECK (…) NOT VALID (or target.check)"));
        }
    }

    /** Lower case, comments removed, literal contents blanked, whitespace collapsed, no trailing ';'. */
    static String normalise(String sql) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
                out.append(' ');
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int depth = 0;
                while (i < n) {
                    if (sql.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (sql.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                        if (depth == 0) {
                            break;
                        }
                    } else {
                        i++;
                    }
                }
                out.append(' ');
            } else if (c == '\'') {
                int j = i + 1;
                while (j < n) {
                    if (sql.charAt(j) == '\'' && j + 1 < n && sql.charAt(j + 1) == '\'') {
                        j += 2;
                    } else if (sql.charAt(j) == '\'') {
                        break;
                    } else {
                        j++;
                    }
                }
                out.append("''");
                i = j + 1;
            } else if (c == '$' && sql.indexOf('$', i + 1) > 0 && sql.substring(i, sql.indexOf('$', i + 1) + 1)
                    .matches("\\$[A-Za-z_]*\\$")) {
                String tag = sql.substring(i, sql.indexOf('$', i + 1) + 1);
                int end = sql.indexOf(tag, i + tag.length());
                out.append("''");
                i = end < 0 ? n : end + tag.length();
            } else {
                out.append(c);
                i++;
            }
        }
        String s = out.toString().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
        return s.endsWith(";") ? s.substring(0, s.length() - 1).strip() : s;
    }

    /** The actions of an ALTER TABLE, split at commas outside parentheses. */
    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
            } else if (!quoted && c == ')') {
                depth--;
            } else if (!quoted && depth == 0 && c == ',') {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static String lastPart(String qualified) {
        String[] parts = qualified.split("\\s*\\.\\s*(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
        String last = parts[parts.length - 1].strip();
        return last.startsWith("\"") ? last.substring(1, last.length() - 1).replace("\"\"", "\"") : last;
    }
}
