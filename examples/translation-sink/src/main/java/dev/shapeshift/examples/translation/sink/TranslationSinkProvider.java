package dev.shapeshift.examples.translation.sink;

import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryPolicy;
import dev.shapeshift.sink.SettingProblem;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkException;
import dev.shapeshift.sink.SinkProvider;
import java.util.List;
import java.util.Map;

/**
 * {@code target.sink.name: translation-service}: seeds each row's text as the source-locale value
 * of its translation key in the translation service (examples/translation-service), bound to the
 * row's source key, at the row's version. Settings: {@link SinkSettings}.
 */
public final class TranslationSinkProvider implements SinkProvider {

    public static final String NAME = "translation-service";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "seeds source-locale texts of translation keys in the translation service over HTTP";
    }

    @Override
    public List<SettingProblem> validate(Map<String, String> settings) {
        return SinkSettings.problems(settings);
    }

    @Override
    public Sink create(SinkContext context) throws SinkException {
        SinkSettings s = SinkSettings.of(context.settings());
        List<String> names = context.columns().stream().map(SinkColumn::name).toList();
        if (!names.contains(s.keyColumn()) || !names.contains(s.textColumn()) || names.size() != 2) {
            throw new PermanentSinkException("migration " + context.migration() + ": the translation sink takes exactly two "
                    + "columns, the key (" + s.keyColumn() + ") and the text (" + s.textColumn() + "), got " + names
                    + " — fix target.columns or the keyColumn/textColumn settings");
        }
        return new TranslationSink(s, context);
    }

    @Override
    public RetryPolicy retryPolicy(Map<String, String> settings) {
        return SinkSettings.of(settings).retryPolicy();
    }

    @Override
    public double maxRowsPerSecond(Map<String, String> settings) {
        return SinkSettings.of(settings).maxRowsPerSecond();
    }

    @Override
    public int maxBatchRows(Map<String, String> settings) {
        // One POST /refs carries the whole batch (the service takes up to 1,000); one by one, a batch is only a retry unit.
        return SinkSettings.of(settings).batch() ? 500 : 200;
    }
}
