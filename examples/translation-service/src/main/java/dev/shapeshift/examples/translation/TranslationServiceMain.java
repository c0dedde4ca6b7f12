package dev.shapeshift.examples.translation;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the service as its own process:
 * <pre>
 * java -cp … dev.shapeshift.examples.translation.TranslationServiceMain --jdbc-url jdbc:postgresql://…/translations
 *      --user u --password p [--port 8090] [--bind 127.0.0.1] [--source-locale en] [--locales de,fr]
 *      [--glossary FILE] [--fan-out-every-ms 200] [--fan-out-batch 200] [--max-text-length 500]
 *      [--fan-out-per-second 0]
 * </pre>
 * Prints {@code translation-service listening port=N} on standard output once it serves; exits 2
 * on a bad option, 1 when it cannot start.
 */
public final class TranslationServiceMain {

    private static final Set<String> OPTIONS = Set.of("--jdbc-url", "--user", "--password", "--port", "--bind",
            "--source-locale", "--locales", "--glossary", "--fan-out-every-ms", "--fan-out-batch", "--max-text-length", "--fan-out-per-second");

    private TranslationServiceMain() {}

    public static void main(String[] args) throws InterruptedException {
        ServiceConfig config;
        GlossaryTranslator translator;
        try {
            Map<String, String> o = options(args);
            translator = o.containsKey("--glossary") ? GlossaryTranslator.load(Path.of(o.get("--glossary")))
                    : GlossaryTranslator.bundled();
            config = new ServiceConfig(o.get("--jdbc-url"), o.get("--user"), o.get("--password"),
                    (int) number(o, "--port", "0"), o.getOrDefault("--bind", "127.0.0.1"),
                    o.getOrDefault("--source-locale", translator.sourceLocale()),
                    Arrays.stream(o.getOrDefault("--locales", "de,fr").split(",")).map(String::strip).toList(),
                    Duration.ofMillis((long) number(o, "--fan-out-every-ms", "200")),
                    (int) number(o, "--fan-out-batch", "200"),
                    (int) number(o, "--max-text-length", "500"),
                    number(o, "--fan-out-per-second", "0"));
            if (!translator.targetLocales().containsAll(config.targetLocales())) {
                throw new IllegalArgumentException("--locales " + config.targetLocales() + ": the translator only writes "
                        + translator.targetLocales());
            }
            if (!config.sourceLocale().equals(translator.sourceLocale())) {
                throw new IllegalArgumentException("--source-locale " + config.sourceLocale() + ": the glossary translates from "
                        + translator.sourceLocale());
            }
        } catch (IllegalArgumentException e) {
            System.err.println("translation-service: " + e.getMessage());
            System.exit(2);
            return;
        }
        TranslationService service;
        try {
            service = TranslationService.start(config, translator);
        } catch (RuntimeException e) {
            System.err.println("translation-service: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stopped.countDown();
        }, "translation-service-shutdown"));
        System.out.println("translation-service listening port=" + service.port());
        System.out.flush();
        stopped.await();
    }

    private static double number(Map<String, String> o, String option, String dflt) {
        String v = o.getOrDefault(option, dflt);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a number, got '" + v + "'");
        }
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!OPTIONS.contains(args[i])) {
                throw new IllegalArgumentException("unknown option '" + args[i] + "'; options: " + List.copyOf(OPTIONS));
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            o.put(args[i], args[++i]);
        }
        if (!o.containsKey("--jdbc-url")) {
            throw new IllegalArgumentException("--jdbc-url is required (the service's own PostgreSQL database)");
        }
        return o;
    }
}
