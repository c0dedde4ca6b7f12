package dev.shapeshift.examples.translation;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Word-by-word translation from a glossary (CSV: a header naming the source locale and the target
 * locales, then one word per line). Words are matched case-insensitively; a word that starts with
 * a capital keeps its capital in the translation; everything that is not a letter (digits,
 * punctuation, spaces) is copied; a word not in the glossary is kept as it is, so a label the
 * glossary does not cover comes out equal to its source text.
 */
public final class GlossaryTranslator implements Translator {

    /** The bundled glossary: the words the demo's menu labels are made of (see the README). */
    public static final String BUNDLED = "translation/glossary.csv";

    private static final Pattern WORD = Pattern.compile("\\p{L}+");

    private final String sourceLocale;
    private final Map<String, Map<String, String>> byLocale;

    private GlossaryTranslator(String sourceLocale, Map<String, Map<String, String>> byLocale) {
        this.sourceLocale = sourceLocale;
        this.byLocale = byLocale;
    }

    public static GlossaryTranslator bundled() {
        InputStream in = GlossaryTranslator.class.getClassLoader().getResourceAsStream(BUNDLED);
        if (in == null) {
            throw new IllegalStateException("the bundled glossary " + BUNDLED + " is not on the class path");
        }
        try (in) {
            return parse(BUNDLED, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static GlossaryTranslator load(Path file) {
        try {
            return parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read glossary " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a glossary; a malformed one fails naming the source, the line and what is wrong. */
    static GlossaryTranslator parse(String source, String csv) {
        List<String> lines;
        try (BufferedReader r = new BufferedReader(new java.io.StringReader(csv))) {
            lines = r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(source + ": empty glossary; the first line names the locales, e.g. en,de,fr");
        }
        String[] header = lines.get(0).split(",", -1);
        if (header.length < 2) {
            throw new IllegalArgumentException(source + " line 1: name the source locale and at least one target locale, e.g. en,de,fr");
        }
        Map<String, Map<String, String>> byLocale = new HashMap<>();
        for (int i = 1; i < header.length; i++) {
            byLocale.put(header[i].strip(), new HashMap<>());
        }
        for (int n = 1; n < lines.size(); n++) {
            String[] cells = lines.get(n).split(",", -1);
            if (cells.length != header.length) {
                throw new IllegalArgumentException(source + ": line " + (n + 1) + " has " + cells.length
                        + " cells, the header " + header.length);
            }
            String word = cells[0].strip().toLowerCase(Locale.ROOT);
            if (!WORD.matcher(word).matches()) {
                throw new IllegalArgumentException(source + ": line " + (n + 1) + ": '" + word + "' is not one word of letters");
            }
            for (int i = 1; i < header.length; i++) {
                String t = cells[i].strip();
                if (!t.isEmpty()) {
                    byLocale.get(header[i].strip()).put(word, t);
                }
            }
        }
        return new GlossaryTranslator(header[0].strip(), byLocale);
    }

    public String sourceLocale() {
        return sourceLocale;
    }

    @Override
    public Set<String> targetLocales() {
        return new LinkedHashSet<>(byLocale.keySet());
    }

    @Override
    public String translate(String text, String from, String to) {
        if (!from.equals(sourceLocale)) {
            throw new IllegalArgumentException("this glossary translates from " + sourceLocale + ", not " + from);
        }
        Map<String, String> words = byLocale.get(to);
        if (words == null) {
            throw new IllegalArgumentException("this glossary has no locale " + to + "; it has " + byLocale.keySet());
        }
        Matcher m = WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length() + 8);
        int at = 0;
        while (m.find()) {
            out.append(text, at, m.start());
            String word = m.group();
            String t = words.get(word.toLowerCase(Locale.ROOT));
            if (t == null) {
                out.append(word);
            } else if (Character.isUpperCase(word.charAt(0))) {
                out.append(Character.toUpperCase(t.charAt(0))).append(t, 1, t.length());
            } else {
                out.append(t);
            }
            at = m.end();
        }
        return out.append(text, at, text.length()).toString();
    }
}
