package dev.shapeshift.examples.translation;

import java.util.Set;

/**
 * Turns a source-locale text into another locale. The service's fan-out job calls it for every
 * key with a source-locale value; implementations must be thread-safe and deterministic for a
 * given input (a key re-translated after a restart gets the same text).
 */
public interface Translator {

    /** The locales this translator can write (the service refuses to start with a configured locale outside them). */
    Set<String> targetLocales();

    /** The text in {@code targetLocale}; words the translator does not know are kept as they are. */
    String translate(String text, String sourceLocale, String targetLocale);
}
