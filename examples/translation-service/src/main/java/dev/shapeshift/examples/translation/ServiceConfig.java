package dev.shapeshift.examples.translation;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The service's configuration, validated once at start (a bad value fails naming the option).
 *
 * @param jdbcUrl       the service's own PostgreSQL database
 * @param port          HTTP port (0: any free port; {@link TranslationService#port()} tells which)
 * @param bindHost      address to listen on
 * @param sourceLocale  the locale clients seed (the menu's labels: {@code en})
 * @param targetLocales the locales the fan-out job writes
 * @param fanOutEvery   pause between two fan-out passes
 * @param fanOutBatch   source entries one pass reads at a time
 * @param maxTextLength longest text accepted (longer: 422 {@code TEXT_REJECTED})
 * @param fanOutPerSecond source entries the job translates per second at most (0: no limit), so a
 *                      demo or a test can watch reads before the fan-out finished
 */
public record ServiceConfig(String jdbcUrl, String user, String password, int port, String bindHost,
                            String sourceLocale, List<String> targetLocales, Duration fanOutEvery, int fanOutBatch,
                            int maxTextLength, double fanOutPerSecond) {

    static final Pattern LOCALE = Pattern.compile("[a-z]{2,3}(-[A-Z]{2})?");

    public ServiceConfig {
        require(jdbcUrl != null && jdbcUrl.startsWith("jdbc:postgresql:"), "--jdbc-url", "a jdbc:postgresql: URL", jdbcUrl);
        require(port >= 0 && port <= 65535, "--port", "0..65535", port);
        require(sourceLocale != null && LOCALE.matcher(sourceLocale).matches(), "--source-locale", "a locale like en or en-GB",
                sourceLocale);
        targetLocales = List.copyOf(targetLocales);
        require(!targetLocales.isEmpty(), "--locales", "at least one target locale", targetLocales);
        for (String l : targetLocales) {
            require(LOCALE.matcher(l).matches() && !l.equals(sourceLocale), "--locales",
                    "locales like de,fr, other than the source locale", targetLocales);
        }
        require(fanOutEvery != null && !fanOutEvery.isNegative() && !fanOutEvery.isZero(), "--fan-out-every-ms", "> 0",
                fanOutEvery);
        require(fanOutBatch > 0, "--fan-out-batch", "> 0", fanOutBatch);
        require(maxTextLength > 0, "--max-text-length", "> 0", maxTextLength);
        require(fanOutPerSecond >= 0, "--fan-out-per-second", ">= 0 (0: no limit)", fanOutPerSecond);
    }

    /** Defaults: any port on 127.0.0.1, en → de and fr, a pass every 200 ms, 200 entries a batch, texts up to 500 characters. */
    public static ServiceConfig of(String jdbcUrl, String user, String password) {
        return new ServiceConfig(jdbcUrl, user, password, 0, "127.0.0.1", "en", List.of("de", "fr"), Duration.ofMillis(200),
                200, 500, 0);
    }

    public ServiceConfig withPort(int port) {
        return new ServiceConfig(jdbcUrl, user, password, port, bindHost, sourceLocale, targetLocales, fanOutEvery,
                fanOutBatch, maxTextLength, fanOutPerSecond);
    }

    public ServiceConfig withFanOutEvery(Duration every) {
        return new ServiceConfig(jdbcUrl, user, password, port, bindHost, sourceLocale, targetLocales, every, fanOutBatch,
                maxTextLength, fanOutPerSecond);
    }

    public ServiceConfig withFanOutPerSecond(double perSecond) {
        return new ServiceConfig(jdbcUrl, user, password, port, bindHost, sourceLocale, targetLocales, fanOutEvery,
                fanOutBatch, maxTextLength, perSecond);
    }

    /** Whether the service holds texts in this locale. */
    boolean knows(String locale) {
        return sourceLocale.equals(locale) || targetLocales.contains(locale);
    }

    private static void require(boolean ok, String option, String expected, Object got) {
        if (!ok) {
            throw new IllegalArgumentException(option + " must be " + expected + ", got " + got);
        }
    }
}
