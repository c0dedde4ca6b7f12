package dev.shapeshift.spec;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A small lexical scan of SQL text that knows PostgreSQL's quoting: {@code '…'} (with
 * {@code ''}), {@code E'…'} (with backslash escapes), {@code $tag$…$tag$}, {@code "…"}, line
 * comments and nested block comments. It finds what must never appear outside quotes in a
 * transform — a {@code ;}, an unbalanced parenthesis, an unterminated quote or comment — and the
 * names that are called like functions, so their volatility can be looked up.
 *
 * <p>This is the first of two guards; the second is that a transform is only ever parsed by the
 * server inside a wrapper ({@code SELECT (\n<expr>\n)::type FROM … WHERE false}) that a second
 * statement cannot complete, and never executed.
 */
final class SqlScanner {

    /**
     * @param problem   what is lexically wrong, if anything
     * @param functions lower-cased names that appear directly before {@code (}
     * @param trailingSemicolon whether the text ended with one {@code ;} (allowed in DDL only)
     */
    record Scan(Optional<String> problem, Set<String> functions, boolean trailingSemicolon) {
    }

    private SqlScanner() {
    }

    /** Scans one transform expression: no {@code ;} at all, balanced parentheses. */
    static Scan expression(String sql) {
        return scan(sql, false);
    }

    /** Scans one DDL statement: a single trailing {@code ;} is allowed, any other is not. */
    static Scan statement(String sql) {
        return scan(sql, true);
    }

    private static Scan scan(String sql, boolean allowTrailingSemicolon) {
        Set<String> functions = new LinkedHashSet<>();
        int depth = 0;
        String lastWord = null;
        int i = 0;
        int n = sql.length();
        boolean trailing = false;
        String parenProblem = null;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int end;
            if (c == '-' && next(sql, i) == '-') {
                end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
                continue;
            }
            if (c == '/' && next(sql, i) == '*') {
                end = blockCommentEnd(sql, i);
                if (end < 0) {
                    return problem("an unterminated /* comment");
                }
                i = end;
                continue;
            }
            if (c == '\'' ) {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)));
                end = quoteEnd(sql, i, '\'', escapes);
                if (end < 0) {
                    return problem("an unterminated string literal");
                }
                i = end;
                lastWord = null;
                continue;
            }
            if (c == '"') {
                end = quoteEnd(sql, i, '"', false);
                if (end < 0) {
                    return problem("an unterminated quoted identifier");
                }
                lastWord = sql.substring(i + 1, end - 1).replace("\"\"", "\"");
                i = end;
                continue;
            }
            if (c == '$' && (i == 0 || !isWordChar(sql.charAt(i - 1)))) {
                int tagEnd = dollarTagEnd(sql, i);
                if (tagEnd > 0) {
                    String tag = sql.substring(i, tagEnd + 1);
                    end = sql.indexOf(tag, tagEnd + 1);
                    if (end < 0) {
                        return problem("an unterminated " + tag + " quoted string");
                    }
                    i = end + tag.length();
                    lastWord = null;
                    continue;
                }
            }
            if (isWordStart(c)) {
                end = i;
                while (end < n && isWordChar(sql.charAt(end))) {
                    end++;
                }
                lastWord = sql.substring(i, end).toLowerCase(Locale.ROOT);
                i = end;
                continue;
            }
            if (c == ';') {
                if (allowTrailingSemicolon && onlyCommentsAfter(sql.substring(i + 1))) {
                    trailing = true;
                    break;
                }
                return problem("a ';' outside quotes — a transform is one expression, never a statement list");
            }
            if (c == '(') {
                if (lastWord != null) {
                    functions.add(lastWord);
                }
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth < 0 && parenProblem == null) {
                    parenProblem = "a ')' without its '(' — parentheses must balance inside the expression";
                }
            }
            lastWord = c == '.' ? lastWord : null;
            i++;
        }
        if (parenProblem != null) {
            return problem(parenProblem);
        }
        if (depth != 0) {
            return problem(depth + " '(' without its ')' — parentheses must balance inside the expression");
        }
        return new Scan(Optional.empty(), functions, trailing);
    }

    private static boolean onlyCommentsAfter(String rest) {
        return scan(rest, false).problem().isEmpty() && stripComments(rest).isBlank();
    }

    private static String stripComments(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("--[^\n]*", " ");
    }

    private static Scan problem(String what) {
        return new Scan(Optional.of(what), Set.of(), false);
    }

    private static char next(String s, int i) {
        return i + 1 < s.length() ? s.charAt(i + 1) : '\0';
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    /** Index after the closing quote, or -1. A doubled quote is an escaped quote. */
    private static int quoteEnd(String s, int open, char q, boolean backslashEscapes) {
        int i = open + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
                continue;
            }
            if (c == q) {
                if (i + 1 < s.length() && s.charAt(i + 1) == q) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return -1;
    }

    /** Index after the end of a (nested) block comment, or -1. */
    private static int blockCommentEnd(String s, int open) {
        int depth = 0;
        int i = open;
        while (i < s.length() - 1) {
            if (s.charAt(i) == '/' && s.charAt(i + 1) == '*') {
                depth++;
                i += 2;
            } else if (s.charAt(i) == '*' && s.charAt(i + 1) == '/') {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    /** For {@code $tag$}, the index of the closing {@code $} of the opening tag, or -1 if not a tag. */
    private static int dollarTagEnd(String s, int open) {
        int i = open + 1;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
            if (i == open + 1 && Character.isDigit(s.charAt(i))) {
                return -1; // $1 is a parameter, not a tag
            }
            i++;
        }
        return i < s.length() && s.charAt(i) == '$' ? i : -1;
    }
}
