package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.util.regex.Pattern;

/**
 * The operator's way past a poison record: {@code shapeshift sync skip <migration> <partition:offset>
 * --reason …}. It writes the catalog setting {@value SyncConsumer#SKIP_SETTING} (audited with actor
 * and reason); the sync consumer stopped at exactly that record sees it within a second, moves past
 * that one record, audits the skip and resumes. A position that does not match the record the
 * consumer is stopped at changes nothing, so a stale or mistyped skip can never skip a different
 * record. Skipping is the only way a change is ever not applied, and it is always an operator's act.
 */
public final class SyncSkip {
    private static final Pattern POSITION = Pattern.compile("\\d{1,9}:\\d{1,19}");

    private SyncSkip() {
    }

    /**
     * Requests the skip of the record at {@code position} ({@code partition:offset}, as the
     * migration's message names it).
     *
     * @throws ShapeshiftException USAGE for a malformed position or a missing reason,
     *                             NOT_FOUND for an unknown migration
     */
    public static void request(Catalog catalog, String migration, String position, String actor, String reason) {
        if (position == null || !POSITION.matcher(position).matches()) {
            throw new ShapeshiftException(ErrorCode.USAGE, "skip position must be partition:offset as "
                    + "named in the migration's message (e.g. 3:1042), got '" + position + "'");
        }
        if (reason == null || reason.isBlank()) {
            throw new ShapeshiftException(ErrorCode.USAGE,
                    "skipping a change record needs a reason (--reason): it is audited");
        }
        catalog.get(migration);
        catalog.putSetting(migration, SyncConsumer.SKIP_SETTING, position, actor, reason);
    }
}
