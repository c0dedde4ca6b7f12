package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.json.JsonMaps;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract evidence as JSON: one shape for {@code GET /api/migrations/NAME/evidence} and {@code shapeshift evidence --output json}.
 * The report's own records (statements, readers, hits, replicas, lockout failures, counted identities)
 * are written by {@link JsonMaps}: their components, in order, under their names.
 */
public final class EvidenceJson {
    private EvidenceJson() {
    }

    /** The report and the checks as JSON-ready maps (the API and {@code shapeshift evidence --output json}). */
    public static Map<String, Object> of(AccessReport r, List<Check> checks) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("migration", r.migration());
        m.put("watched", r.watched());
        m.put("dropsNothing", r.dropsNothing());
        m.put("baselineAt", String.valueOf(r.baselineAt()));
        m.put("evaluatedAt", String.valueOf(r.evaluatedAt()));
        m.put("quietSince", String.valueOf(r.quietSince()));
        m.put("quietForSeconds", r.quietFor().toMillis() / 1000.0);
        m.put("quietPeriodSeconds", r.quietPeriod().toSeconds());
        m.put("quiet", r.quiet());
        m.put("problem", r.problem());
        m.put("checks", JsonMaps.each(checks));
        m.put("offenders", JsonMaps.each(r.offenders()));
        m.put("excluded", JsonMaps.each(r.excluded()));
        m.put("readers", JsonMaps.each(r.readers()));
        m.put("dependents", JsonMaps.each(r.dependents()));
        if (r.table() != null) {
            m.put("table", JsonMaps.of(r.table()));
        }
        if (r.code() != null) {
            Map<String, Object> c = JsonMaps.of(r.code());
            c.put("open", JsonMaps.each(r.code().open()));
            c.put("acknowledged", r.code().acknowledged().stream().map(a -> {
                Map<String, Object> h = JsonMaps.of(a.hit());
                h.put("reason", a.reason());
                h.put("by", a.by());
                return h;
            }).toList());
            m.put("code", c);
        }
        m.put("replicas", r.replicas().stream().map(x -> {
            Map<String, Object> rp = JsonMaps.of(x);
            rp.put("offenders", JsonMaps.each(x.offenders()));
            return rp;
        }).toList());
        if (r.brownoutWindow() != null) {
            m.put("brownout", brownout(r));
        }
        if (r.readCounter() != null) {
            ReadCounter.Evidence e = r.readCounter();
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("table", e.table());
            k.put("installedAt", String.valueOf(e.installedAt()));
            k.put("countingSince", String.valueOf(e.countingSince()));
            k.put("lost", e.lost());
            k.put("removedAt", String.valueOf(e.removedAt()));
            k.put("removedWhy", e.removedWhy());
            k.put("identities", JsonMaps.each(e.identities()));
            m.put("readCounter", k);
        }
        m.put("exclusion", r.exclusion());
        m.put("notes", r.notes());
        return m;
    }

    /** The brownout's window and, when one ran, the latest brownout: a subset of {@link BrownoutReport}. */
    private static Map<String, Object> brownout(AccessReport r) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("windowSeconds", r.brownoutWindow().toMillis() / 1000.0);
        BrownoutReport x = r.brownout();
        if (x != null) {
            b.put("id", x.id());
            b.put("status", x.status().name().toLowerCase(java.util.Locale.ROOT));
            b.put("startedAt", String.valueOf(x.startedAt()));
            b.put("endsAt", String.valueOf(x.endsAt()));
            b.put("endedAt", String.valueOf(x.endedAt()));
            b.put("endReason", x.endReason());
            b.put("lockedOut", x.lockedOut());
            b.put("untouched", x.untouched());
            b.put("undoMs", x.undoMs());
            b.put("logProblem", x.logProblem());
            b.put("failures", JsonMaps.each(x.failures()));
            b.put("summary", x.summary());
        }
        return b;
    }
}
