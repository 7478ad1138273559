// The admin page's core script: the admin token, API calls, text-only rendering helpers,
// the hash router, the overview, errors, rule log and "try a rule" pages, and the polling
// loop. ui-setup.js (sites, connections, invitations), ui-connection.js (one connection)
// and ui-issue.js (one issue) add their pages to `pages` before the first refresh.
"use strict";
const $ = (sel) => document.querySelector(sel);
const token = $("#token");
// A URL the node printed may carry the token in its fragment (never sent to a server):
// keep it for this tab and take it out of the address bar and history.
const fromUrl = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromUrl) {
  sessionStorage.setItem("twinsync-admin-token", fromUrl);
  history.replaceState(null, "", location.pathname + location.search);
}
token.value = sessionStorage.getItem("twinsync-admin-token") || "";
token.addEventListener("change", () => { sessionStorage.setItem("twinsync-admin-token", token.value); refresh(); });

let status = { connections: [] };
const TWIN_PAGE = 25;
let twinOffset = 0;

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {}, token.value ? { Authorization: "Bearer " + token.value } : {});
  const resp = await fetch(path, { ...options, headers });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const e = new Error(body.error || resp.status + " " + resp.statusText);
    e.status = resp.status;
    throw e;
  }
  return body;
}
// A JSON body, sent with its content type.
const send = (method, path, body) => api(path, {
  method, headers: { "content-type": "application/json" }, body: body == null ? undefined : JSON.stringify(body),
});
// An API the node may not offer yet (404): null instead of an error.
async function optional(path) {
  try { return await api(path); } catch (e) { if (e.status === 404 || e.status === 405) return null; throw e; }
}
const enc = encodeURIComponent;

// Every cell is built from text, never HTML: issue data and rule logs are untrusted.
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
const cell = (text, cls) => el("td", text, cls);
function buttonCell(label, onClick, testid) {
  const td = document.createElement("td");
  const b = el("button", label);
  if (testid) b.dataset.testid = testid;
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { await onClick(); await refresh(); } catch (e) { showError(e); } finally { b.disabled = false; }
  });
  td.appendChild(b);
  return td;
}
function linkCell(text, href) {
  const td = document.createElement("td");
  const a = el("a", text);
  a.href = href;
  td.appendChild(a);
  return td;
}
// What each table shows now, so a refresh that brings nothing new leaves its rows (and the
// button under the admin's pointer) in place.
const drawn = new Map();
function fill(table, rows) {
  const body = $(table + " tbody");
  const seen = rows.map((r) => r.outerHTML).join("\n");
  if (drawn.get(table) === seen && body.isConnected) return;
  drawn.set(table, seen);
  body.replaceChildren(...rows);
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell("none", "muted");
    td.colSpan = $(table + " thead tr").children.length;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}
function row(...cells) { const tr = document.createElement("tr"); tr.append(...cells); return tr; }
function showError(e) { $("#error").textContent = e ? String(e.message || e) : ""; }
function ago(ms) {
  if (ms == null) return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  if (s < 86400) return Math.floor(s / 3600) + "h ago";
  return Math.floor(s / 86400) + "d ago";
}
function health(c) {
  const rejected = c.sides.some((s) => s.rule.last_reload && s.rule.last_reload.outcome === "rejected");
  if (c.state === "paused") return ["paused", "warn"];
  if (c.queue.failed > 0) return ["failing", "bad"];
  if (rejected) return ["rule rejected", "warn"];
  return ["healthy", "ok"];
}
// A new version compiling while the old one serves: say so, or a user thinks the swap failed.
function loadingText(l) {
  const secs = Math.max(0, Math.round((Date.now() - l.since_ms) / 1000));
  return `${l.text} (${secs}s so far; the current version serves meanwhile)`;
}
function loadTime(r) {
  return r.load_ms == null ? "" : ` (${r.compiled ? "compiled" : "from cache"} in ${(r.load_ms / 1000).toFixed(1)}s)`;
}
// A bulk run's progress: a bar and "N of M queued" or "done".
function progressCell(r) {
  const td = cell(null);
  const bar = el("progress");
  bar.max = r.total || Math.max(1, r.queued);
  bar.value = r.done ? bar.max : r.queued;
  bar.setAttribute("aria-label", `Bulk run ${r.id} progress`);
  td.dataset.run = r.id;
  td.append(bar, " ", el("span", r.done ? `done: ${r.queued} queued` : `${r.queued}${r.total != null ? " of " + r.total : ""} queued, running`, r.done ? "ok" : "warn"));
  return td;
}
function pill(text, cls) { const td = cell(null); td.appendChild(el("span", text, "pill " + cls)); return td; }
const setPaused = (name, paused) =>
  api(`/api/connections/${encodeURIComponent(name)}/${paused ? "pause" : "resume"}`, { method: "POST" });

// Pages other scripts add: name -> { render(arg) } (called on every refresh while shown).
const pages = {};
// Hash routes: #/, #/sites, #/connections, #/connections/<name> (also #/connection/<name>),
// #/connections/<name>/mapping (the Visual mode editor, ui-visual.js),
// #/issues/<connection>/<key>, #/errors, #/logs, #/try.
function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const parts = hash.split("/").map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  let name = "overview";
  let args = [];
  if ((parts[0] === "connections" || parts[0] === "connection") && parts[1] && parts[2] === "mapping") { name = "mapping"; args = [parts[1]]; }
  else if ((parts[0] === "connections" || parts[0] === "connection") && parts[1]) { name = "connection"; args = [parts[1]]; }
  else if (parts[0] === "issues" && parts[1] && parts[2]) { name = "issue"; args = [parts[1], parts[2]]; }
  else if (["sites", "connections", "errors", "logs", "try"].includes(parts[0])) name = parts[0];
  document.querySelectorAll("main > section").forEach((s) => { s.hidden = s.dataset.page !== name; });
  const navPage = name === "connection" || name === "mapping" ? "connections" : name;
  document.querySelectorAll("nav a").forEach((a) => {
    const on = a.dataset.page === navPage;
    a.classList.toggle("active", on);
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  return { page: name, arg: args[0] || null, args };
}
const connectionHref = (name) => "#/connections/" + enc(name);
const issueHref = (connection, key) => "#/issues/" + enc(connection) + "/" + enc(key);
// A polite status line: text, and "ok" / "bad" / "" for its colour.
function say(sel, text, cls) { const n = $(sel); n.textContent = text || ""; n.className = cls || ""; }
// Copies a read-only field's text; says whether it worked.
async function copyField(field, note) {
  const text = $(field).value;
  try { await navigator.clipboard.writeText(text); say(note, "Copied.", "ok"); }
  catch {
    $(field).select();
    say(note, document.execCommand("copy") ? "Copied." : "Select the code and copy it.", "ok");
  }
}

async function renderOverview() {
  fill("#connections", status.connections.map((c) => {
    const [h, cls] = health(c);
    const paused = c.state === "paused";
    const tr = row(linkCell(c.name, connectionHref(c.name)), pill(h, cls),
      cell(c.state, paused ? "warn" : "ok"), cell(c.queue.pending + c.queue.running),
      cell(c.queue.failed, c.queue.failed ? "bad" : ""), cell(ago(c.last_sync_at_ms)), cell(c.twins),
      cell(c.sides.map((s) => `${s.name} (${s.instance} ${s.project})`).join(" \u2194 ")),
      buttonCell(paused ? "Resume" : "Pause", () => setPaused(c.name, !paused), "toggle-" + c.name));
    tr.dataset.connection = c.name;
    return tr;
  }));
  $("#getting-started").hidden = status.connections.length > 0;
}

let triggers = null;
// The connection as /api/connections describes it (mode, fields, peer), when the node says.
let connectionConfig = null;
async function renderConnection(name) {
  const c = status.connections.find((x) => x.name === name);
  const listed = await optional("/api/connections");
  connectionConfig = listed ? (listed.connections.find((x) => x.name === name) || null) : null;
  const visual = !!connectionConfig && connectionConfig.sides.some((s) => s.mode === "visual");
  $("#conn-mapping").hidden = !visual;
  if (visual) $("#conn-mapping").href = connectionHref(name) + "/mapping";
  if (!c) {
    $("#conn-title").textContent = connectionConfig ? "Connection " + name + " (" + connectionConfig.state + ")" : "No connection named " + name;
    if (connectionConfig && pages.connection) await pages.connection.render(name, null, connectionConfig);
    return;
  }
  $("#conn-title").textContent = "Connection " + c.name;
  const paused = c.state === "paused";
  $("#conn-state").replaceChildren(el("span", c.state, "pill " + (paused ? "warn" : "ok")));
  $("#conn-toggle").textContent = paused ? "Resume" : "Pause";
  $("#conn-toggle").onclick = async () => { try { await setPaused(c.name, !paused); await refresh(); } catch (e) { showError(e); } };
  if (!triggers) triggers = await api("/api/triggers").catch(() => ({ triggers: [] }));
  fill("#conn-sides", c.sides.map((s) => {
    const r = s.rule.last_reload || {};
    const t = triggers.triggers.find((x) => x.connection === c.name && x.side === s.name);
    const trig = !s.trigger ? cell("none (replicas only)", "muted")
      : cell(s.trigger + (t ? (t.valid === true ? "  \u2713 valid" : t.valid === false ? "  \u2717 " + t.check.error : "  (not checked: " + t.check.error + ")") : ""),
        t && t.valid === false ? "bad" : "");
    const reload = s.rule.loading ? cell(loadingText(s.rule.loading), "warn")
      : cell(r.outcome === "rejected" ? "rejected: " + r.reason : "accepted " + (r.version || "") + loadTime(r), r.outcome === "rejected" ? "bad" : "ok");
    const conf = connectionConfig && connectionConfig.sides.find((x) => x.name === s.name);
    return row(cell(s.name), cell(`${s.instance} / ${s.project}`), cell(conf ? conf.mode : "file"), cell(s.rule.version || "none", s.rule.version ? "" : "bad"), reload, trig);
  }));
  const sel = $("#twins-side");
  if (sel.dataset.connection !== c.name) {
    sel.replaceChildren(...c.sides.map((s) => { const o = el("option", s.name); o.value = s.name; return o; }));
    sel.dataset.connection = c.name;
    twinOffset = 0;
  }
  const page = await api(`/api/twins?connection=${encodeURIComponent(c.name)}&side=${encodeURIComponent(sel.value)}&limit=${TWIN_PAGE}&offset=${twinOffset}`);
  fill("#twins", page.twins.map((t) => row(linkCell(t.local_key, issueHref(c.name, t.local_key)), cell(t.remote_key || "(not linked yet)"), cell(t.sent_seq), cell(t.applied_seq), cell(ago(t.updated_at_ms)))));
  const bulk = await api(`/api/bulk?connection=${encodeURIComponent(c.name)}&limit=10`);
  fill("#bulk", bulk.runs.map((r) => row(cell(r.id), cell(r.side), cell(r.jql), progressCell(r),
    cell(ago(r.started_at_ms)), cell(ago(r.updated_at_ms)))));
  const end = Math.min(page.total, twinOffset + page.twins.length);
  $("#twins-range").textContent = page.total ? `${twinOffset + 1}\u2013${end} of ${page.total}` : "no twins yet";
  $("#twins-prev").disabled = twinOffset === 0;
  $("#twins-next").disabled = end >= page.total;
  if (pages.connection) await pages.connection.render(name, c, connectionConfig);
}
$("#twins-prev").addEventListener("click", () => { twinOffset = Math.max(0, twinOffset - TWIN_PAGE); refresh(); });
$("#twins-next").addEventListener("click", () => { twinOffset += TWIN_PAGE; refresh(); });
$("#twins-side").addEventListener("change", () => { twinOffset = 0; refresh(); });

async function renderErrors(failed) {
  fill("#failed", failed.events.map((e) => {
    const issueKey = e.queue_key.replace(/^remote:/, "");
    const issueCell = linkCell(`${e.kind} ${e.queue_key}`, issueHref(e.connection, issueKey));
    const tr = row(cell(e.id), cell(`${e.connection} / ${e.side}`), issueCell,
      cell(e.rule_version || "-"), cell(e.attempts), cell(e.last_error, "bad"),
      buttonCell("Retry", () => api(`/api/events/${e.id}/retry`, { method: "POST" }), "retry-" + e.id));
    tr.dataset.event = e.id;
    return tr;
  }));
}

async function renderLogs() {
  const rules = await api("/api/rules");
  $("#rule-logs").replaceChildren(...rules.rules.map((r) => {
    const div = document.createElement("div");
    div.dataset.side = r.side;
    div.append(el("h3", `${r.side}: ${r.version || "no rule"} (twinsync:rules@${r.world_version || "?"}), reloads ${r.reloads_accepted} accepted, ${r.reloads_rejected} rejected`));
    if (r.loading) div.append(el("p", loadingText(r.loading), "warn"));
    if (r.last_reload.outcome === "rejected") div.append(el("p", "last reload rejected: " + r.last_reload.reason, "bad"));
    div.append(el("pre", r.logs.map((l) => `[${l.version} ${l.level}] ${l.message}`).join("\n") || "(no log lines yet)"));
    return div;
  }));
}

function fillTrySides() {
  const sel = $("#try-side");
  const want = status.connections.flatMap((c) => c.sides.map((s) => c.name + "/" + s.name));
  if (sel.options.length === want.length) return;
  sel.replaceChildren(...want.map((v) => { const o = el("option", v); o.value = v; return o; }));
}
$("#try-run").addEventListener("click", async () => {
  const out = $("#try-result");
  const file = $("#try-file").files[0];
  const issue = $("#try-issue").value.trim();
  const [connection, side] = $("#try-side").value.split("/");
  if (!file || !issue) { $("#try-status").textContent = "choose a side, an issue and a .wasm file"; return; }
  $("#try-status").textContent = "running\u2026";
  try {
    const q = new URLSearchParams({ connection, side, issue });
    const report = await api("/api/rules/try?" + q, { method: "POST", body: await file.arrayBuffer(), headers: { "content-type": "application/wasm" } });
    $("#try-status").textContent = "done: nothing was synced";
    out.replaceChildren(...["outgoing", "incoming"].map((dir) => {
      const d = report[dir];
      const div = document.createElement("div");
      div.dataset.direction = dir;
      div.append(el("h3", dir));
      if (!d && dir === "outgoing") { div.append(el("p", "the issue is the other side's: only its arrival here is tried", "muted")); return div; }
      if (!d) { div.append(el("p", "no replica from the other side has been applied to this issue yet: nothing to replay", "muted")); return div; }
      const who = (a) => !a ? "none serving" : `${a.rule} ${a.version} (contract ${a.world_version}), fuel ${a.fuel_used}: ` + (a.error ? "error: " + a.error : "answered");
      div.append(el("p", "current: " + who(d.current)), el("p", "candidate: " + who(d.candidate), d.candidate.error ? "bad" : ""));
      const table = el("table");
      table.append(row(el("th", "Field"), el("th", "Current rule"), el("th", "Candidate")));
      d.diff.forEach((f) => table.append(row(cell(f.field), el("td", JSON.stringify(f.current)), el("td", JSON.stringify(f.candidate)))));
      if (!d.diff.length) table.append(row(cell("no difference", "muted")));
      div.append(table);
      if (d.candidate.logs.length) div.append(el("pre", d.candidate.logs.map((l) => `[${l.level}] ${l.message}`).join("\n")));
      return div;
    }));
  } catch (e) { $("#try-status").textContent = ""; out.replaceChildren(el("p", String(e.message || e), "bad")); }
});

$("#twin-go").addEventListener("click", async () => {
  const out = $("#twin");
  try {
    const body = await api("/api/twins?key=" + encodeURIComponent($("#twin-key").value.trim()));
    out.replaceChildren(...body.twins.map((t) => el("pre",
      `${t.connection} / ${t.side}: ${t.local_key} \u2194 ${t.remote_key || "(not linked yet)"}\n` +
      "last sent: " + JSON.stringify(t.last_sent, null, 1) + "\nlast applied: " + JSON.stringify(t.last_applied, null, 1))));
  } catch (e) { out.replaceChildren(el("p", String(e.message || e), "bad")); }
});

let busy = false;
let again = false;
// One refresh at a time; one asked for meanwhile runs right after (an action's result shows at once).
async function refresh() {
  if (busy) { again = true; return; }
  busy = true;
  again = false;
  try {
    const where = route();
    const [s, failed] = await Promise.all([api("/api/status"), api("/api/events?state=failed&limit=100")]);
    status = s;
    const n = failed.events.length;
    $("#error-count").textContent = n ? `(${n})` : "";
    $("#error-count").className = n ? "bad" : "";
    if (where.page === "overview") await renderOverview();
    if (where.page === "connection") await renderConnection(where.arg);
    if (where.page === "errors") await renderErrors(failed);
    if (where.page === "logs") await renderLogs();
    if (where.page === "try") fillTrySides();
    if (pages[where.page] && where.page !== "connection") await pages[where.page].render(...where.args);
    $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
    showError(null);
  } catch (e) { showError(e); } finally {
    busy = false;
    if (again) refresh();
  }
}

window.addEventListener("hashchange", () => {
  triggers = null;
  Object.values(pages).forEach((p) => p.leave && p.leave());
  refresh();
});
// The other scripts have added their pages by the time the document is parsed.
document.addEventListener("DOMContentLoaded", () => {
  refresh();
  // Live updates by polling: a few small JSON requests every two seconds.
  setInterval(refresh, 2000);
});
