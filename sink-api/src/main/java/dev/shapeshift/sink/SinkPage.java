package dev.shapeshift.sink;

import java.util.List;

/**
 * One page of {@link Sink#scan}.
 *
 * @param keys keys the sink holds live rows for
 * @param next the cursor of the next page, or null when this was the last
 */
public record SinkPage(List<SinkKey> keys, String next) {
    public SinkPage {
        keys = List.copyOf(keys);
    }
}
