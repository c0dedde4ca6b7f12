package dev.shapeshift.scenarios;

import dev.shapeshift.fixtures.KeyKind;
import java.util.Objects;

/**
 * A scenario's {@code workload.yaml}: what the seeded application does to the source table while
 * the migration runs. Every number is per run at scale 1; {@link #scaled} multiplies sizes and
 * durations for a soak run.
 *
 * @param table          the source table (schema public); columns: the key ({@link KeyKind}), a integer, b text, big text
 * @param key            int | text | uuid | composite
 * @param seed           seeds every random choice: the same seed writes the same statements in the same order
 * @param preloadRows    rows inserted before the migration starts (the backfill's work)
 * @param durationSeconds how long the application writes (at least; it also writes through any fault)
 * @param opsPerSecond   transaction rate cap, 0 = as fast as one connection goes
 * @param mix            weights of the transaction kinds
 * @param multiRowSize   statements in a multi-row transaction
 * @param hotKeyFraction share of updates that hit one of {@code hotKeys} keys
 * @param hotKeys        size of the hot set
 * @param toastFraction  share of rows written with a 3–6 kB incompressible {@code big} value (out of line)
 * @param nullFraction   share of a / b / big values written as NULL
 * @param zeroFraction   share of a values that are 0 (for transforms that divide by a)
 */
record Workload(String table, String key, Long seed, Integer preloadRows, Integer durationSeconds, Integer opsPerSecond,
                Mix mix, Integer multiRowSize, Double hotKeyFraction, Integer hotKeys, Double toastFraction,
                Double nullFraction, Double zeroFraction) {

    /** Weights of the transaction kinds; a multi-row transaction mixes the other kinds. */
    record Mix(Integer insert, Integer update, Integer delete, Integer keyUpdate, Integer multiRow) {
        Mix {
            insert = Objects.requireNonNullElse(insert, 30);
            update = Objects.requireNonNullElse(update, 40);
            delete = Objects.requireNonNullElse(delete, 10);
            keyUpdate = Objects.requireNonNullElse(keyUpdate, 5);
            multiRow = Objects.requireNonNullElse(multiRow, 15);
        }

        int total() {
            return insert + update + delete + keyUpdate + multiRow;
        }
    }

    Workload {
        Objects.requireNonNull(table, "workload.yaml: table is required");
        Objects.requireNonNull(key, "workload.yaml: key is required (int, text, uuid, composite)");
        seed = Objects.requireNonNullElse(seed, 1L);
        preloadRows = Objects.requireNonNullElse(preloadRows, 2000);
        durationSeconds = Objects.requireNonNullElse(durationSeconds, 10);
        opsPerSecond = Objects.requireNonNullElse(opsPerSecond, 100);
        mix = Objects.requireNonNullElseGet(mix, () -> new Mix(null, null, null, null, null));
        multiRowSize = Objects.requireNonNullElse(multiRowSize, 3);
        hotKeyFraction = Objects.requireNonNullElse(hotKeyFraction, 0.0);
        hotKeys = Objects.requireNonNullElse(hotKeys, 10);
        toastFraction = Objects.requireNonNullElse(toastFraction, 0.05);
        nullFraction = Objects.requireNonNullElse(nullFraction, 0.05);
        zeroFraction = Objects.requireNonNullElse(zeroFraction, 0.0);
        if (mix.total() <= 0) {
            throw new IllegalArgumentException("workload.yaml: mix: at least one weight must be positive");
        }
    }

    KeyKind keyKind() {
        return KeyKind.parse(key);
    }

    Workload scaled(int scale) {
        return new Workload(table, key, seed, preloadRows * scale, durationSeconds * scale, opsPerSecond, mix,
                multiRowSize, hotKeyFraction, hotKeys, toastFraction, nullFraction, zeroFraction);
    }

    Workload withSeed(long s) {
        return new Workload(table, key, s, preloadRows, durationSeconds, opsPerSecond, mix, multiRowSize,
                hotKeyFraction, hotKeys, toastFraction, nullFraction, zeroFraction);
    }
}
