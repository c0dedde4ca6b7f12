package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.gate.Check;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The contract evidence as JSON: one shape for {@code GET /api/migrations/NAME/evidence} and {@code shapeshift evidence --output json}. */
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
        m.put("checks", checks.stream().map(c -> Map.of("name", c.name(), "passed", c.passed(), "evidence", c.evidence())).toList());
        m.put("offenders", r.offenders().stream().map(EvidenceJson::statement).toList());
        m.put("excluded", r.excluded().stream().map(EvidenceJson::statement).toList());
        m.put("readers", r.readers().stream().map(x -> {
            Map<String, Object> rd = new LinkedHashMap<>();
            rd.put("role", x.role());
            rd.put("applicationName", x.applicationName());
            rd.put("clientAddr", x.clientAddr());
            rd.put("firstSeen", x.firstSeen().toString());
            rd.put("lastSeen", x.lastSeen().toString());
            rd.put("lastQuery", x.lastQuery());
            return rd;
        }).toList());
        m.put("dependents", r.dependents().stream().map(d -> Map.of("name", d.name(), "kind", d.kind(), "how", d.how())).toList());
        if (r.table() != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("writes", r.table().writes());
            t.put("reads", r.table().reads());
            t.put("writesSeenAt", String.valueOf(r.table().writesSeenAt()));
            m.put("table", t);
        }
        if (r.code() != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("roots", r.code().roots());
            c.put("names", r.code().names());
            c.put("open", r.code().open().stream().map(EvidenceJson::hit).toList());
            c.put("acknowledged", r.code().acknowledged().stream().map(a -> {
                Map<String, Object> h = hit(a.hit());
                h.put("reason", a.reason());
                h.put("by", a.by());
                return h;
            }).toList());
            c.put("problems", r.code().problems());
            m.put("code", c);
        }
        m.put("replicas", r.replicas().stream().map(x -> {
            Map<String, Object> rp = new LinkedHashMap<>();
            rp.put("name", x.name());
            rp.put("url", x.url());
            rp.put("inRecovery", x.inRecovery());
            rp.put("baselineAt", String.valueOf(x.baselineAt()));
            rp.put("offenders", x.offenders().stream().map(EvidenceJson::statement).toList());
            rp.put("problem", x.problem());
            return rp;
        }).toList());
        if (r.brownoutWindow() != null) {
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
                b.put("failures", x.failures().stream().map(f -> {
                    Map<String, Object> fm = new LinkedHashMap<>();
                    fm.put("role", f.role());
                    fm.put("applicationName", f.applicationName());
                    fm.put("client", f.client());
                    fm.put("sqlState", f.sqlState());
                    fm.put("message", f.message());
                    fm.put("statement", f.statement());
                    fm.put("failures", f.failures());
                    fm.put("firstAt", String.valueOf(f.firstAt()));
                    fm.put("lastAt", String.valueOf(f.lastAt()));
                    return fm;
                }).toList());
                b.put("summary", x.summary());
            }
            m.put("brownout", b);
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
            k.put("identities", e.identities().stream().map(x -> {
                Map<String, Object> i = new LinkedHashMap<>();
                i.put("role", x.role());
                i.put("applicationName", x.applicationName());
                i.put("clientAddr", x.clientAddr());
                i.put("reads", x.reads());
                i.put("writes", x.writes());
                i.put("firstAt", String.valueOf(x.firstAt()));
                i.put("lastAt", String.valueOf(x.lastAt()));
                i.put("shapeshift", x.shapeshift());
                return i;
            }).toList());
            m.put("readCounter", k);
        }
        m.put("exclusion", r.exclusion());
        m.put("notes", r.notes());
        return m;
    }

    private static Map<String, Object> statement(AccessReport.Statement s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queryId", s.queryId());
        m.put("role", s.role());
        m.put("query", s.query());
        m.put("calls", s.calls());
        m.put("callsSinceBaseline", s.callsSinceBaseline());
        m.put("lastSeen", String.valueOf(s.lastSeen()));
        m.put("why", s.why());
        return m;
    }

    private static Map<String, Object> hit(CodeSearch.Hit h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("root", h.root());
        m.put("file", h.file());
        m.put("line", h.line());
        m.put("identifier", h.identifier());
        m.put("text", h.text());
        return m;
    }

}
