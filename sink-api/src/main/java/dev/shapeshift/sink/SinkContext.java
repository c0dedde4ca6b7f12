package dev.shapeshift.sink;

import java.util.List;
import java.util.Map;

/**
 * What a sink is opened with.
 *
 * @param migration the migration's name (e.g. to name an index or a key prefix)
 * @param keyColumns the source key's column names, in the order of {@link SinkKey#values()}
 * @param columns the new shape's columns, in the order of {@link SinkRow#values()}
 * @param settings {@code target.sink.settings} from the spec, already validated
 */
public record SinkContext(String migration, List<String> keyColumns, List<SinkColumn> columns,
                          Map<String, String> settings) {
    public SinkContext {
        keyColumns = List.copyOf(keyColumns);
        columns = List.copyOf(columns);
        settings = Map.copyOf(settings);
    }
}
