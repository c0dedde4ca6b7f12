// Shapeshift dashboard: polls the JSON API every 2 s and redraws; the charts come from the
// history the coordinator keeps in the catalog (GET /api/migrations/NAME/history, one sample per
// 10 s, 3 days kept), drawn with uPlot served by the coordinator itself. No external resources.
// The API token comes from the URL fragment (#token=...; fragments are never sent to the
// server) or the login form, and is kept in sessionStorage for this tab only.
"use strict";

const PHASES = ["planned", "expanded", "syncing", "backfilling", "backfilled", "verified",
  "reads-switched", "contract-ready", "contracted"];
const POLL_MS = 2000;
const HISTORY_MS = 10000;
const WINDOWS = ["15m", "1h", "6h", "24h", "3d"];
const DRIFT_PAGE = 20;

const histories = {};    // migration -> {box, window, data, charts, fetchedAt}
const driftCursor = {};  // migration -> {after, stack}

function token() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("shapeshift-token", decodeURIComponent(m[1]));
    window.history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("shapeshift-token");
}

async function api(path) {
  const headers = {};
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  const r = await fetch(path, { headers });
  if (r.status === 401) {
    document.getElementById("login").hidden = false;
    throw new Error("the API needs a token (401): enter the read or admin token");
  }
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmtNum(n) { return n === null || n === undefined ? "?" : Number(n).toLocaleString("en-US"); }

function fmtSecs(s) {
  if (s === null || s === undefined) return "?";
  if (s < 10) return s.toFixed(1) + "s";
  s = Math.round(s);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h" + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
}

function fmtBytes(b) {
  if (b === null || b === undefined) return "no slot";
  if (b < 1024) return b + " B";
  if (b < 1048576) return (b / 1024).toFixed(1) + " KiB";
  return (b / 1048576).toFixed(1) + " MiB";
}

function timeline(m) {
  const box = el("div", { class: "timeline", "data-testid": "timeline" });
  // The migration's own order (with the write switch: dual-writes and writes-switched); PHASES for older servers.
  const phases = m.plan && m.plan.length ? m.plan : PHASES;
  const current = phases.indexOf(m.phase);
  const last = m.timeline.length ? m.timeline[m.timeline.length - 1] : null;
  const reached = m.phase === "rolled-back" && last ? phases.indexOf(last.from) : current;
  phases.forEach((p, i) => {
    const cls = i === current ? "current" : i < reached || (m.phase === "rolled-back" && i === reached) ? "past" : "";
    box.append(el("span", { class: cls }, p));
  });
  if (m.phase === "rolled-back") box.append(el("span", { class: "rolled" }, "rolled-back"));
  return box;
}

// The write switch (null without one): sync direction, what applications do, the write flag, mismatches, NOT NULL relaxed.
function writeSwitch(w) {
  if (!w) return null;
  const f = w.writeFlag;
  return el("div", { "data-testid": "writes" },
    el("h3", {}, "Write switch"),
    el("p", {}, "sync " + w.direction + " (" + (w.direction === "reverse" ? "old = reverse(new)" : "new = transform(old)") +
      "); applications read the " + (w.readsNew ? "new" : "old") + " shape, write " +
      (w.writesNew ? "only the new shape" : w.writesBoth ? "both shapes" : "the old shape")),
    el("p", { "data-testid": "write-flag" }, f ? el("span", { class: f.value ? "flag-on" : "flag-off" },
      f.name + " = " + (f.value ? "ON (writes only the new shape)" : "OFF") + ", version " + f.version)
      : el("span", { class: "flag-off" }, w.writeFlagName + " not set (writes the old shape)")),
    el("p", { "data-testid": "write-mismatches", class: w.recentMismatches ? "error" : "" },
      "dual-write mismatches: " + fmtNum(w.mismatches) + " key(s), " + fmtNum(w.recentMismatches) + " within writes.cleanFor" +
      (w.mismatchKeys.length ? " — latest " + w.mismatchKeys.join(" ") : "")),
    w.relaxedNotNull.length ? el("p", {}, "NOT NULL relaxed on " + w.relaxedNotNull.join(", ")) : null,
    el("p", { class: w.reversible ? "muted" : "error", "data-testid": "write-rollback" }, w.rollback));
}

function gates(m) {
  const box = el("div", { "data-testid": "gates" });
  if (!m.gates.length) box.append(el("p", { class: "muted" }, "no further phase"));
  for (const g of m.gates) {
    box.append(el("div", {}, el("b", {}, "→ " + g.to + ": "),
      el("span", { class: g.checks.every(c => c.passed) ? "flag-on" : "closed" },
        g.checks.every(c => c.passed) ? "open" : "closed — missing " + g.checks.filter(c => !c.passed).map(c => c.name).join(", "))));
    const ul = el("ul", { class: "checks" });
    for (const c of g.checks) ul.append(el("li", { class: c.passed ? "pass" : "fail" }, c.evidence));
    box.append(ul);
  }
  return box;
}

async function driftTable(name, box) {
  const cur = driftCursor[name] || (driftCursor[name] = { after: null, stack: [] });
  const q = "/api/migrations/" + encodeURIComponent(name) + "/drift?limit=" + DRIFT_PAGE +
    (cur.after ? "&after=" + encodeURIComponent(cur.after) : "");
  const page = await api(q);
  const table = el("table", { "data-testid": "drift" },
    el("tr", {}, el("th", {}, "key"), el("th", {}, "kind"), el("th", {}, "first seen"), el("th", {}, "last seen")));
  for (const d of page.items) {
    table.append(el("tr", {}, el("td", {}, d.key), el("td", {}, d.kind),
      el("td", {}, new Date(d.firstSeen).toLocaleTimeString()), el("td", {}, new Date(d.lastSeen).toLocaleTimeString())));
  }
  if (!page.items.length) table.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, "no open drift")));
  const prev = el("button", {}, "◀ prev"), next = el("button", {}, "next ▶");
  prev.disabled = cur.stack.length === 0;
  next.disabled = !page.next;
  prev.onclick = () => { cur.after = cur.stack.pop() || null; refresh(); };
  next.onclick = () => { cur.stack.push(cur.after); cur.after = page.next; refresh(); };
  box.replaceChildren(table, el("div", {}, prev, " ", next));
}

// Rows that violate the staged structure (docs/constraints.md): the item stays unenforced, and the
// verified gate closed, until the data is fixed. One row per stored finding (at most 100 per item).
function findings(m) {
  const list = m.findings || [];
  const byItem = {};
  for (const f of list) byItem[f.item] = f.total;
  const table = el("table", { "data-testid": "findings" },
    el("tr", {}, el("th", {}, "item"), el("th", {}, "kind"), el("th", {}, "key"), el("th", {}, "detail"), el("th", {}, "found")));
  for (const f of list) {
    table.append(el("tr", { class: "fail" }, el("td", {}, f.item), el("td", {}, f.kind), el("td", {}, f.key),
      el("td", {}, f.detail || ""), el("td", {}, f.foundAt ? new Date(f.foundAt).toLocaleTimeString() : "")));
  }
  if (!list.length) table.append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "no violating rows found")));
  return el("div", {}, el("h3", {}, "Findings (", el("span", { "data-testid": "findings-total" },
    fmtNum(Object.values(byItem).reduce((a, b) => a + b, 0))), " violating rows",
    Object.keys(byItem).length ? ": " + Object.entries(byItem).map(([k, v]) => k + " " + v).join(", ") : "", ")"), table);
}

const EVIDENCE_PHASES = ["reads-switched", "writes-switched", "contract-ready"];

// The contract evidence (GET /api/migrations/NAME/evidence): every check, who read the old shape and when,
// the read replicas, the read counter (table mode) and the brownout's failures.
async function evidenceTable(name, box) {
  const e = await api("/api/migrations/" + encodeURIComponent(name) + "/evidence");
  const checks = el("table", { "data-testid": "evidence" },
    el("tr", {}, el("th", {}, "check"), el("th", {}, "result"), el("th", {}, "evidence")));
  for (const c of e.checks) {
    checks.append(el("tr", { class: c.passed ? "pass" : "fail" }, el("td", {}, c.name),
      el("td", {}, c.passed ? "pass" : "FAIL"), el("td", {}, c.evidence)));
  }
  const readers = el("table", { "data-testid": "evidence-readers" },
    el("tr", {}, el("th", {}, "reader"), el("th", {}, "application"), el("th", {}, "from"), el("th", {}, "last seen"), el("th", {}, "statement")));
  for (const r of e.readers) {
    readers.append(el("tr", {}, el("td", {}, r.role), el("td", {}, r.applicationName || "—"), el("td", {}, r.clientAddr || "—"),
      el("td", {}, new Date(r.lastSeen).toLocaleString()), el("td", {}, r.lastQuery)));
  }
  if (!e.readers.length) readers.append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "no reader of the old shape seen")));
  const parts = [checks, el("h4", {}, "Readers of the old shape, by identity"), readers];
  if (e.replicas && e.replicas.length) {
    parts.push(el("h4", {}, "Read replicas"), el("ul", { "data-testid": "evidence-replicas" }, ...e.replicas.map(r =>
      el("li", { class: r.problem ? "fail" : "" }, r.name + ": " + (r.problem || ("watched since " + r.baselineAt + ", " +
        r.offenders.length + " offending statement(s)"))))));
  }
  if (e.readCounter) {
    const k = e.readCounter;
    const counted = el("table", { "data-testid": "evidence-read-counter" },
      el("tr", {}, el("th", {}, "role"), el("th", {}, "application"), el("th", {}, "from"), el("th", {}, "reads"),
        el("th", {}, "writes"), el("th", {}, "last at")));
    for (const x of k.identities) {
      counted.append(el("tr", { class: x.shapeshift ? "muted" : "fail" }, el("td", {}, x.role + (x.shapeshift ? " (Shapeshift)" : "")),
        el("td", {}, x.applicationName || "—"), el("td", {}, x.clientAddr), el("td", {}, String(x.reads)),
        el("td", {}, String(x.writes)), el("td", {}, new Date(x.lastAt).toLocaleString())));
    }
    if (!k.identities.length) counted.append(el("tr", {}, el("td", { colspan: "6", class: "muted" }, "nothing counted")));
    parts.push(el("h4", {}, "Read counter on " + k.table + (k.removedAt !== "null" ? " (counted until " + k.removedAt + ")"
      : " (counting since " + k.countingSince + ")")), counted);
    if (k.lost) parts.push(el("p", { class: "fail" }, k.lost));
  }
  if (e.brownout) {
    const b = e.brownout;
    parts.push(el("h4", {}, "Brownout"), el("p", { "data-testid": "evidence-brownout" }, b.summary || "none yet"));
    if (b.failures && b.failures.length) {
      parts.push(el("ul", {}, ...b.failures.map(f => el("li", { class: "fail" }, f.role + (f.applicationName ? " (" +
        f.applicationName + ")" : "") + ": " + f.failures + "× " + f.statement + " — " + f.message))));
    }
  }
  box.replaceChildren(...parts);
}

function card(m) {
  const p = m.progress;
  const pct = p.chunks ? Math.round((100 * p.chunksDone) / p.chunks) : 0;
  const flag = m.flag;
  const driftBox = el("div", {}, "loading drift…");
  const c = el("section", { class: "card", id: "m-" + m.name, "data-migration": m.name },
    el("h2", {}, m.name, " ", el("span", { class: "muted", "data-testid": "phase" }, m.phase)),
    timeline(m),
    m.message ? el("p", { class: "muted" }, m.message) : null,
    el("div", { class: "cols" },
      el("div", {},
        el("h3", {}, "Backfill"),
        el("div", { class: "bar", title: pct + "%" }, el("div", { style: "width:" + pct + "%" })),
        el("div", { class: "muted", "data-testid": "pct" }, pct + "% of chunks done" +
          (p.etaSeconds !== null && p.etaSeconds > 0 ? ", about " + fmtSecs(p.etaSeconds) + " left" : "")),
        el("dl", { class: "kv" },
          el("dt", {}, "chunks"), el("dd", { "data-testid": "chunks" }, p.chunksDone + "/" + p.chunks +
            (p.chunksRunning ? " (" + p.chunksRunning + " running)" : "") + (p.chunksFailed ? " — " + p.chunksFailed + " failed" : "")),
          el("dt", {}, "rows"), el("dd", { "data-testid": "rows" }, fmtNum(p.rowsCopied) + " / ~" + fmtNum(p.estimatedRows)),
          el("dt", {}, "rate"), el("dd", {}, fmtNum(Math.round(p.rowsPerSecond)) + " rows/s"),
          el("dt", {}, "ETA"), el("dd", { "data-testid": "eta" }, p.etaSeconds === null ? "unknown" : fmtSecs(p.etaSeconds)),
          el("dt", {}, "throttle"), el("dd", { "data-testid": "throttle" }, m.settings.paused ? "paused by operator"
            : (p.throttled && p.throttled.length ? "waiting: " + p.throttled[0].reason + " (" + p.throttled.length +
              " chunk(s), " + [...new Set(p.throttled.map(t => t.owner))].join(" ") + ")" : "running"),
            m.settings.maxRowsPerSecond !== null ? ", cap " + fmtNum(m.settings.maxRowsPerSecond) + " rows/s" : ""))),
      el("div", {},
        el("h3", {}, "Read switch"),
        el("p", { "data-testid": "flag" }, flag ? el("span", { class: flag.value ? "flag-on" : "flag-off" },
          flag.name + " = " + (flag.value ? "ON (reads new shape)" : "OFF (reads old shape)") + ", version " + flag.version)
          : el("span", { class: "flag-off" }, "flag not set (reads old shape)")),
        writeSwitch(m.writes),
        el("h3", {}, "Sync"),
        el("p", { "data-testid": "sync-lag" }, "sync lag ", el("b", {}, m.sync.lagSeconds === null ? "unknown" : fmtSecs(m.sync.lagSeconds)),
          " · WAL retained by the slot: ", fmtBytes(m.sync.lagBytes)),
        el("p", { "data-testid": "sync" }, m.sync.detail,
          m.sync.heartbeatAgeSeconds !== null ? " · last heartbeat " + fmtSecs(m.sync.heartbeatAgeSeconds) + " ago" : ""),
        el("ul", { "data-testid": "sync-streams" }, ...(m.sync.streams || []).map(s =>
          el("li", { class: s.state.startsWith("STOPPED") ? "error" : "" }, "partition " + s.partition + ": " + s.state +
            " (worker " + s.owner + (s.appliedLsn ? ", applied LSN " + s.appliedLsn : "") + ")" +
            (s.message ? " — " + s.message : "")))))),
    historyBox(m.name),
    el("div", { class: "cols" },
      el("div", {}, el("h3", {}, "Phase durations"), phaseDurations(m)),
      el("div", {}, el("h3", {}, "Bridge and workers"), health(m.name))),
    el("div", { class: "cols" },
      el("div", {}, el("h3", {}, "Gate checklist"), gates(m)),
      el("div", {}, el("h3", {}, "Open drift (", el("span", { "data-testid": "drift-open" }, fmtNum(m.drift.openTotal)), ": ",
        Object.entries(m.drift.open).map(([k, v]) => k + " " + v).join(", "), ")"), driftBox)));
  if ((m.findings && m.findings.length) || ["backfilled", "verified"].includes(m.phase)) c.append(findings(m));
  driftTable(m.name, driftBox).catch(e => driftBox.replaceChildren(el("span", { class: "error" }, e.message)));
  if (EVIDENCE_PHASES.includes(m.phase)) {
    const evidenceBox = el("div", {}, "loading the contract evidence…");
    c.append(el("div", {}, el("h3", {}, "Contract evidence"), evidenceBox));
    evidenceTable(m.name, evidenceBox).catch(e => evidenceBox.replaceChildren(el("span", { class: "error" }, e.message)));
  }
  return c;
}

// ---- history charts (uPlot) ----

function fmtDuration(ms) { return fmtSecs(ms / 1000); }

function phaseDurations(m) {
  // From the phase changes in the audit log: how long each phase lasted (the current one: so far).
  const rows = [];
  const changes = m.timeline;
  for (let i = 0; i < changes.length; i++) {
    const from = Date.parse(changes[i].at);
    const to = i + 1 < changes.length ? Date.parse(changes[i + 1].at) : Date.parse(m.now);
    rows.push(el("tr", {}, el("td", {}, changes[i].to), el("td", {}, new Date(from).toLocaleString()),
      el("td", { class: "num" }, fmtDuration(to - from) + (i + 1 < changes.length ? "" : " so far"))));
  }
  if (!rows.length) {
    rows.push(el("tr", {}, el("td", { colspan: "3", class: "muted" }, m.phase + " since " +
      new Date(m.phaseChangedAt).toLocaleString() + " (no phase change recorded yet)")));
  }
  return el("table", { "data-testid": "phase-durations" },
    el("tr", {}, el("th", {}, "phase"), el("th", {}, "entered"), el("th", {}, "lasted")), ...rows);
}

function historyState(name) {
  return histories[name] || (histories[name] = {
    box: null, healthBox: el("div", { "data-testid": "health" }, "loading…"), window: "1h", data: null, fetchedAt: 0
  });
}

function historyBox(name) {
  const h = historyState(name);
  if (!h.box) {
    const picker = el("select", { "aria-label": "history window" }, ...WINDOWS.map(w => el("option", { value: w }, w)));
    picker.value = h.window;
    picker.onchange = () => { h.window = picker.value; h.fetchedAt = 0; loadHistory(name).catch(e => showHistoryError(name, e)); };
    h.note = el("span", { class: "muted", "data-testid": "history-note" }, "loading history…");
    h.grid = el("div", { class: "charts", "data-testid": "charts" });
    h.box = el("div", { class: "history" }, el("h3", {}, "History ", picker, " ", h.note), h.grid);
  }
  return h.box;
}

function health(name) { return historyState(name).healthBox; }

function showHistoryError(name, e) {
  const h = historyState(name);
  if (h.note) { h.note.textContent = e.message; h.note.className = "error"; }
}

async function loadHistory(name) {
  const h = historyState(name);
  if (Date.now() - h.fetchedAt < HISTORY_MS && h.data) return;
  h.fetchedAt = Date.now();
  const body = await api("/api/migrations/" + encodeURIComponent(name) + "/history?window=" + h.window);
  h.data = body;
  drawHistory(name);
  drawHealth(name, body.health);
}

const CHARTS = [
  { id: "drift", title: "Drift", unit: "rows", series: [
    { key: "driftOpen", label: "open", stroke: "#cf222e" },
    { key: "driftFound", label: "found (total)", stroke: "#9a6700" },
    { key: "driftRepaired", label: "repaired (total)", stroke: "#1a7f37" }] },
  { id: "lag", title: "Sync lag", unit: "seconds", series: [
    { key: "syncLagSeconds", label: "slowest stream", stroke: "#0969da" }] },
  { id: "rate", title: "Backfill rate", unit: "rows/s", series: [
    { key: "rowsPerSecond", label: "rows/s", stroke: "#8250df" }] },
  { id: "wal", title: "WAL retained by the slot", unit: "MiB", scale: 1 / 1048576, series: [
    { key: "slotLagBytes", label: "retained", stroke: "#57606a" }] },
];

function axisValues(unit) {
  return (u, vals) => vals.map(v => v === null ? "" : (Math.abs(v) >= 1000 ? fmtNum(Math.round(v)) : +v.toFixed(2)) +
    (unit === "seconds" ? "s" : ""));
}

function drawHistory(name) {
  const h = historyState(name);
  const s = h.data.series;
  const n = s.at.length;
  h.note.className = "muted";
  h.note.textContent = n ? n + " samples over the last " + h.window + " (one per " +
    h.data.everySeconds + " s, kept " + "3 days; stored by the coordinator)" : "no samples in this window yet (one per " +
    h.data.everySeconds + " s)";
  h.grid.replaceChildren();
  const width = Math.max(320, Math.floor((h.grid.clientWidth || 1000) / 2) - 12);
  for (const c of CHARTS) {
    const box = el("div", { class: "chart", "data-testid": "chart-" + c.id });
    h.grid.append(box);
    const data = [s.at, ...c.series.map(x => s[x.key].map(v => v === null ? null : v * (c.scale || 1)))];
    const opts = {
      title: c.title + " (" + c.unit + ")",
      width, height: 170,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max === null ? 1 : max * 1.1, c.id === "lag" ? 1 : 1e-9)] } },
      axes: [{ label: "time" }, { label: c.unit, values: axisValues(c.unit), size: 60 }],
      series: [{}, ...c.series.map(x => ({ label: x.label, stroke: x.stroke, width: 1.5, spanGaps: false,
        value: (u, v) => v === null ? "–" : fmtNum(+v.toFixed(2)) + " " + c.unit }))],
    };
    new uPlot(opts, data, box);
  }
}

function drawHealth(name, hl) {
  const box = historyState(name).healthBox;
  const b = hl.bridge;
  const leader = b.leader ? el("span", { class: "flag-on" }, "leader: pid " + b.leader.pid + " from " + b.leader.client +
    ", session since " + new Date(b.leader.sessionStart).toLocaleTimeString())
    : el("span", { class: b.slot ? "closed" : "muted" }, b.slot ? "no bridge holds the leader lock of slot " + b.slot : "no slot yet");
  const workers = el("table", { "data-testid": "workers" },
    el("tr", {}, el("th", {}, "worker"), el("th", {}, "last seen"), el("th", {}, "chunks"), el("th", {}, "sync streams")));
  for (const w of hl.workers) {
    workers.append(el("tr", {}, el("td", {}, w.worker), el("td", {}, w.lastSeen ? new Date(w.lastSeen).toLocaleTimeString() : "?"),
      el("td", { class: "num" }, w.chunksRunning), el("td", {}, w.streams || "–")));
  }
  if (!hl.workers.length) workers.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, "no worker owns a chunk or stream")));
  box.replaceChildren(el("p", { "data-testid": "bridge" }, "cdc-bridge ", b.slot ? "(slot " + b.slot + "): " : "", leader,
    " · " + b.bridgeSessions + " bridge session(s) connected"), workers);
}


async function refresh() {
  const err = document.getElementById("error");
  try {
    const list = await api("/api/migrations");
    const now = Date.now();
    const main = document.getElementById("migrations");
    main.replaceChildren(...(list.length ? list.map(card) : [el("p", { class: "muted" }, "no migrations in the catalog")]));
    document.getElementById("updated").textContent = "updated " + new Date(now).toLocaleTimeString() + " · " + list.length + " migration(s)";
    err.hidden = true;
    for (const m of list) {
      loadHistory(m.name).catch(e => showHistoryError(m.name, e));
    }
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

document.getElementById("login").addEventListener("submit", ev => {
  ev.preventDefault();
  sessionStorage.setItem("shapeshift-token", document.getElementById("token").value);
  document.getElementById("login").hidden = true;
  refresh();
});
refresh();
setInterval(refresh, POLL_MS);
