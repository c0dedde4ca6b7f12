package dev.shapeshift.openfeature;

import dev.openfeature.sdk.ErrorCode;
import dev.openfeature.sdk.EvaluationContext;
import dev.openfeature.sdk.FeatureProvider;
import dev.openfeature.sdk.ImmutableMetadata;
import dev.openfeature.sdk.Metadata;
import dev.openfeature.sdk.ProviderEvaluation;
import dev.openfeature.sdk.Reason;
import dev.openfeature.sdk.Value;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.flag.FlagClient.FlagValue;
import java.util.Objects;

/**
 * Serves Shapeshift's flags ({@code <migration>.read-new}, {@code <migration>.write-new}, or the
 * names a spec chose) as OpenFeature boolean flags, read through the application's
 * {@link FlagClient}: the same cache, refresh interval and staleness rule, one query per refresh
 * for all flags. The evaluation context is ignored: a flag has one value for every caller.
 *
 * <p>What an evaluation returns (the SDK turns every error into the caller's default with reason
 * {@code ERROR}; the flag metadata survives):
 * <ul>
 *   <li>flag read: its value, reason {@code CACHED}, variant {@code on}/{@code off}, metadata
 *       {@code version} and {@code readAt};
 *   <li>the catalog answered and has no such flag: error {@code FLAG_NOT_FOUND};
 *   <li>the catalog has not answered for longer than {@code staleAfter} (or never): error
 *       {@code GENERAL}; if the client read the flag before, metadata {@code lastKnownValue} and
 *       {@code version} carry that read;
 *   <li>a non-boolean type asked for: error {@code TYPE_MISMATCH}.
 * </ul>
 *
 * <p>The provider does not own the client: the application closes it ({@link #shutdown()} leaves it
 * open).
 */
public final class ShapeshiftProvider implements FeatureProvider {

    static final String NAME = "shapeshift";

    private final FlagClient flags;

    public ShapeshiftProvider(FlagClient flags) {
        this.flags = Objects.requireNonNull(flags, "flags");
    }

    @Override
    public Metadata getMetadata() {
        return () -> NAME;
    }

    @Override
    public ProviderEvaluation<Boolean> getBooleanEvaluation(String key, Boolean defaultValue, EvaluationContext ctx) {
        FlagValue v = flags.value(key);
        if (v.readAt() == null) {
            return error(defaultValue, ErrorCode.GENERAL, "the flag catalog (shapeshift.flag) has not been readable"
                    + " since this client first asked for " + key, ImmutableMetadata.EMPTY);
        }
        if (v.stale()) {
            return error(defaultValue, ErrorCode.GENERAL, "the flag catalog (shapeshift.flag) has not been readable"
                    + " since " + v.readAt() + "; the last value read is in the metadata (lastKnownValue)",
                    ImmutableMetadata.builder()
                            .addBoolean("lastKnownValue", v.value())
                            .addLong("version", v.version())
                            .addString("readAt", v.readAt().toString())
                            .build());
        }
        if (v.absent()) {
            return error(defaultValue, ErrorCode.FLAG_NOT_FOUND, "no flag " + key + " in shapeshift.flag: never set"
                    + " (Shapeshift reads that as off: the old shape)", ImmutableMetadata.EMPTY);
        }
        return ProviderEvaluation.<Boolean>builder()
                .value(v.value())
                .variant(v.value() ? "on" : "off")
                .reason(Reason.CACHED.toString())
                .flagMetadata(ImmutableMetadata.builder()
                        .addLong("version", v.version())
                        .addString("readAt", v.readAt().toString())
                        .build())
                .build();
    }

    @Override
    public ProviderEvaluation<String> getStringEvaluation(String key, String defaultValue, EvaluationContext ctx) {
        return notBoolean(key, defaultValue);
    }

    @Override
    public ProviderEvaluation<Integer> getIntegerEvaluation(String key, Integer defaultValue, EvaluationContext ctx) {
        return notBoolean(key, defaultValue);
    }

    @Override
    public ProviderEvaluation<Double> getDoubleEvaluation(String key, Double defaultValue, EvaluationContext ctx) {
        return notBoolean(key, defaultValue);
    }

    @Override
    public ProviderEvaluation<Value> getObjectEvaluation(String key, Value defaultValue, EvaluationContext ctx) {
        return notBoolean(key, defaultValue);
    }

    private static <T> ProviderEvaluation<T> notBoolean(String key, T defaultValue) {
        return error(defaultValue, ErrorCode.TYPE_MISMATCH,
                "Shapeshift flags are boolean: evaluate " + key + " with getBooleanValue", ImmutableMetadata.EMPTY);
    }

    private static <T> ProviderEvaluation<T> error(T defaultValue, ErrorCode code, String message,
            ImmutableMetadata metadata) {
        return ProviderEvaluation.<T>builder()
                .value(defaultValue)
                .reason(Reason.ERROR.toString())
                .errorCode(code)
                .errorMessage(message)
                .flagMetadata(metadata)
                .build();
    }
}
