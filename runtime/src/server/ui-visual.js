// The admin page's Visual mode editor (#/connections/<name>/mapping): a Visual-mode
// connection's sync method per direction, a scope filter per side built from dropdowns and
// shown as its JQL, and the mapping list (field to field, each with its direction; value
// pairs with theirs; a policy for a value with no pair; constants), reordered by dragging or
// with the keyboard. Values are searched in each side's own Jira a page at a time, never
// loaded whole. Edits are a draft until published; a preview runs the draft on a live issue.
// Builds on ui.js.
"use strict";

const STANDARD_FIELDS = ["summary", "description", "status", "priority", "issue-type", "labels",
  "components", "assignee", "reporter", "due-date", "comments", "attachments"];
const VALUE_KINDS = { status: "statuses", priority: "priorities", "issue-type": "issuetypes", assignee: "users", reporter: "users" };
const WAYS = [["both", "\u2194 both ways"], ["a-to-b", "\u2192 a to b only"], ["b-to-a", "\u2190 b to a only"], ["none", "off"]];
const POLICIES = [["keep", "use it as it is"], ["ignore", "do nothing"], ["error", "report an error"], ["default", "set a default"]];
const SEARCH_PAGE = 20;

let vis = null;   // { name, info, doc, dirty } for the connection shown
let dragFrom = null;

pages.mapping = {
  // Leaving clears the editor, so no control of a connection left behind stays clickable
  // while the next one loads.
  leave() {
    vis = null;
    say("#vis-status", "");
    for (const id of ["#vis-warnings", "#vis-preview", "#vis-entries", "#vis-sides", "#vis-methods", "#vis-scopes"]) $(id).replaceChildren();
  },
  async render(name) {
    if (vis && vis.name === name) return; // drawn once; the editor keeps its state between refreshes
    const info = await api(`/api/connections/${enc(name)}/mapping`);
    const conns = await api("/api/connections");
    const conf = conns.connections.find((c) => c.name === name);
    vis = { name, info, conf, doc: structuredClone(info.draft || info.published || { entries: [] }) };
    $("#vis-title").textContent = `Visual mapping: ${name}`;
    $("#vis-back").href = connectionHref(name);
    drawSides();
    drawMethods();
    drawScopes();
    drawEntries();
    $("#vis-state").textContent = info.draft ? "A draft is open (not published yet)."
      : info.published ? "Showing the published mapping." : "No mapping yet: add entries, save a draft, publish.";
    if (info.edited_outside) say("#vis-status", "The sides' keys were changed outside this editor since the last publish; publishing replaces them.", "warn");
  },
};

const half = (h) => vis.info.sides[h] || {};
const editable = (h) => !!half(h).editable;
const sideLabel = (h) => { const s = half(h); return s.instance ? `${h}: ${s.name} (${s.instance} / ${s.project})` : `${h}: ${s.name || "?"} (the other organisation)`; };

function drawSides() {
  const lines = [el("div", sideLabel("a")), el("div", sideLabel("b"))];
  if (vis.info.remote) lines.push(el("p", "This connection is with another organisation: you edit only your side's half (what leaves it and how what arrives lands). The other organisation edits its half on its own node.", "hint"));
  else lines.push(el("p", "A local connection: this editor configures both sides together.", "hint"));
  $("#vis-sides").replaceChildren(...lines);
}

function options(select, list, value) {
  select.replaceChildren(...list.map(([v, t]) => { const o = el("option", t); o.value = v; return o; }));
  if (value != null) select.value = value;
  return select;
}

// ---- Sync method per direction: a side's outgoing direction, saved at once.
function drawMethods() {
  const rows = [];
  for (const [h, other] of [["a", "b"], ["b", "a"]]) {
    const s = half(h);
    const conf = vis.conf && vis.conf.sides.find((x) => x.name === s.name);
    if (!conf) continue;
    const sel = options(el("select"), [["automatic", "automatic (triggers and webhooks)"], ["manual", "manual (sync this issue, bulk)"], ["disabled", "disabled (nothing crosses; kept for later)"]], conf.sync || "automatic");
    sel.dataset.testid = `method-${h}`;
    sel.setAttribute("aria-label", `Sync method from ${s.name} to ${half(other).name}`);
    const catchUp = el("button", "Send what changed while disabled");
    catchUp.hidden = true;
    sel.addEventListener("change", async () => {
      const was = conf.sync || "automatic";
      try {
        await send("PATCH", `/api/connections/${enc(vis.name)}/sides/${enc(s.name)}`, { sync: sel.value });
        conf.sync = sel.value;
        catchUp.hidden = !(was === "disabled" && sel.value !== "disabled");
        say("#vis-status", `${s.name} \u2192 ${half(other).name}: ${sel.value}.`, "ok");
      } catch (e) { say("#vis-status", e.message, "bad"); sel.value = was; }
    });
    catchUp.addEventListener("click", async () => {
      try {
        const r = await send("POST", `/api/connections/${enc(vis.name)}/sides/${enc(s.name)}/catch-up`, {});
        say("#vis-status", `${r.queued} issue(s) queued to catch up.`, "ok"); catchUp.hidden = true;
      } catch (e) { say("#vis-status", e.message, "bad"); }
    });
    const label = el("label", `${s.name} \u2192 ${half(other).name} `);
    label.appendChild(sel);
    const line = el("div"); line.className = "row"; line.append(label, catchUp);
    rows.push(line);
  }
  $("#vis-methods").replaceChildren(...rows);
}

// ---- Scope filter per side: dropdowns compiled to JQL, added as a trigger.
function jqlQuote(v) { return '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }
function drawScopes() {
  const boxes = [];
  for (const h of ["a", "b"]) {
    if (!editable(h)) continue;
    const s = half(h);
    const box = el("fieldset"); box.appendChild(el("legend", `Scope of ${s.name}`));
    const type = el("select"); type.dataset.testid = `scope-type-${h}`;
    const prio = el("select"); prio.dataset.testid = `scope-priority-${h}`;
    const labels = el("input"); labels.placeholder = "labels, comma-separated"; labels.size = 24;
    const assignee = searchInput(h, "assignee", "assignee (search)");
    const jql = el("code"); jql.dataset.testid = `scope-jql-${h}`;
    const add = el("button", "Add as trigger");
    const compile = () => {
      const parts = [`project = ${jqlQuote(s.project)}`];
      if (type.value) parts.push(`issuetype = ${jqlQuote(type.value)}`);
      if (prio.value) parts.push(`priority = ${jqlQuote(prio.value)}`);
      const ls = labels.value.split(",").map((x) => x.trim()).filter(Boolean);
      if (ls.length) parts.push(`labels in (${ls.map(jqlQuote).join(", ")})`);
      const who = assignee.value.trim();
      if (who) parts.push(`assignee = ${jqlQuote(who.replace(/^(accountid|name):/, ""))}`);
      jql.textContent = parts.join(" AND ");
      return jql.textContent;
    };
    Promise.all([
      api(`/api/instances/${enc(s.instance)}/meta/issuetypes?project=${enc(s.project)}&maxResults=100`),
      api(`/api/instances/${enc(s.instance)}/meta/priorities?maxResults=100`),
    ]).then(([t, p]) => {
      options(type, [["", "any issue type"], ...t.values.map((v) => [v.name, v.name])]);
      options(prio, [["", "any priority"], ...p.values.map((v) => [v.name, v.name])]);
      compile();
    }).catch((e) => say("#vis-status", e.message, "bad"));
    for (const x of [type, prio, labels, assignee]) x.addEventListener("input", compile);
    add.addEventListener("click", async () => {
      try {
        const t = await send("POST", `/api/connections/${enc(vis.name)}/triggers`, { side: s.name, jql: compile(), note: "scope (Visual mode)", active: true });
        say("#vis-status", `Trigger added on ${s.name}: ${t.matches ?? "?"} issue(s) match now.`, "ok");
      } catch (e) { say("#vis-status", e.message, "bad"); }
    });
    const r1 = el("div"); r1.className = "row"; r1.append(type, prio, labels, assignee, add);
    const r2 = el("div"); r2.className = "row"; r2.append(el("span", "JQL: ", "muted"), jql);
    box.append(r1, r2);
    boxes.push(box);
  }
  $("#vis-scopes").replaceChildren(...boxes);
}

// ---- Search in one side's Jira: a datalist filled from one page of matches.
let listCount = 0;
function searchInput(h, field, placeholder) {
  const input = el("input"); input.placeholder = placeholder || ""; input.size = 18;
  // A custom field's values: its options, if it is a select field.
  const kind = VALUE_KINDS[field] || (/^customfield_\d+$/.test(field) ? "options" : null);
  if (!kind) return input;
  const list = el("datalist"); list.id = `vis-list-${++listCount}`;
  input.setAttribute("list", list.id);
  let timer = null;
  let asked = 0; // only the latest search's answer fills the list
  const look = async () => {
    const s = half(h);
    if (!s.instance) return;
    const q = new URLSearchParams({ query: input.value.trim(), maxResults: String(SEARCH_PAGE) });
    if (kind === "statuses" || kind === "issuetypes" || kind === "options") q.set("project", s.project);
    if (kind === "options") q.set("field", field);
    const mine = ++asked;
    try {
      const page = await api(`/api/instances/${enc(s.instance)}/meta/${kind}?${q}`);
      if (mine !== asked) return;
      list.replaceChildren(...page.values.map((v) => { const o = el("option", kind === "users" ? v.name : null); o.value = kind === "users" ? v.ref : v.name; return o; }));
      if (!list.isConnected) input.after(list);
    } catch (e) { say("#vis-status", e.message, "bad"); }
  };
  input.addEventListener("focus", () => { if (!list.isConnected) input.after(list); look(); });
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(look, 200); });
  return input;
}

// ---- The mapping list.
// A field of side `h`: a standard field, or a custom field searched in that side's Jira.
function fieldInput(h, value) {
  const input = el("input"); input.value = value || ""; input.size = 18;
  const list = el("datalist"); list.id = `vis-list-${++listCount}`;
  input.setAttribute("list", list.id);
  const fill = (custom) => list.replaceChildren(
    ...STANDARD_FIELDS.map((f) => { const o = el("option"); o.value = f; return o; }),
    ...custom.map((f) => { const o = el("option", f.name); o.value = f.id; return o; }));
  fill([]);
  let timer = null;
  let asked = 0; // only the latest search's answer fills the list
  const look = async () => {
    const s = half(h);
    if (!s.instance) return;
    const q = new URLSearchParams({ query: input.value.trim(), maxResults: String(SEARCH_PAGE) });
    const mine = ++asked;
    try {
      const found = (await api(`/api/instances/${enc(s.instance)}/meta/fields?${q}`)).values;
      if (mine === asked) fill(found);
    } catch { /* standard fields stay */ }
    if (!list.isConnected) input.after(list);
  };
  input.addEventListener("focus", () => { if (!list.isConnected) input.after(list); look(); });
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(look, 200); });
  return input;
}

function policySelect(value, h) {
  const wrap = el("span");
  const sel = options(el("select"), POLICIES, value && value.startsWith("default:") ? "default" : (value || "keep"));
  sel.dataset.testid = `policy-${h}`;
  const dflt = el("input"); dflt.size = 12; dflt.placeholder = "default value";
  dflt.value = value && value.startsWith("default:") ? value.slice(8) : "";
  dflt.hidden = sel.value !== "default";
  sel.addEventListener("change", () => { dflt.hidden = sel.value !== "default"; });
  wrap.append(sel, dflt);
  wrap.read = () => (sel.value === "default" ? "default:" + dflt.value.trim() : sel.value);
  return wrap;
}

function drawEntries() {
  const list = $("#vis-entries");
  list.replaceChildren(...vis.doc.entries.map((e, i) => entryRow(e, i)));
  $("#vis-empty").hidden = vis.doc.entries.length > 0;
}

// Reads every row back into the document (the DOM holds the edits).
function readEntries() {
  vis.doc.entries = [...$("#vis-entries").children].map((li) => li.read());
  return vis.doc;
}

function move(from, to) {
  readEntries();
  if (to < 0 || to >= vis.doc.entries.length || from === to) return;
  const [e] = vis.doc.entries.splice(from, 1);
  vis.doc.entries.splice(to, 0, e);
  drawEntries();
  const li = $("#vis-entries").children[to];
  if (li) li.querySelector(".handle").focus();
}

function entryRow(entry, index) {
  const li = el("li"); li.className = "entry"; li.draggable = true; li.dataset.index = index;
  const handle = el("button", "\u2630"); handle.className = "handle"; handle.type = "button";
  handle.title = "Drag, or focus and press Alt+\u2191 / Alt+\u2193 to move";
  handle.setAttribute("aria-label", `Entry ${index + 1}: move with Alt+Up and Alt+Down`);
  handle.addEventListener("keydown", (ev) => {
    if (ev.altKey && ev.key === "ArrowUp") { ev.preventDefault(); move(index, index - 1); }
    if (ev.altKey && ev.key === "ArrowDown") { ev.preventDefault(); move(index, index + 1); }
  });
  li.addEventListener("dragstart", (ev) => { dragFrom = index; ev.dataTransfer.effectAllowed = "move"; ev.dataTransfer.setData("text/plain", String(index)); });
  li.addEventListener("dragover", (ev) => { ev.preventDefault(); li.classList.add("over"); });
  li.addEventListener("dragleave", () => li.classList.remove("over"));
  li.addEventListener("drop", (ev) => { ev.preventDefault(); li.classList.remove("over"); if (dragFrom != null) move(dragFrom, index); dragFrom = null; });
  const del = el("button", "Delete"); del.type = "button";
  del.addEventListener("click", () => { readEntries(); vis.doc.entries.splice(index, 1); drawEntries(); });
  const top = el("div"); top.className = "row";

  if (entry.kind === "constant") {
    const sideSel = options(el("select"), [["a", half("a").name], ["b", half("b").name]], entry.side);
    const field = fieldInput(entry.side, entry.field); field.dataset.testid = "const-field";
    const value = el("input"); value.value = entry.value || ""; value.dataset.testid = "const-value";
    top.append(handle, el("span", "Set", "muted"), field, el("span", "on", "muted"), sideSel, el("span", "to", "muted"), value, del);
    li.append(top);
    li.read = () => ({ kind: "constant", side: sideSel.value, field: field.value.trim(), value: value.value });
    return li;
  }

  const a = fieldInput("a", entry.a); a.dataset.testid = "field-a";
  const b = fieldInput("b", entry.b); b.dataset.testid = "field-b";
  const way = options(el("select"), WAYS, entry.direction || "both"); way.dataset.testid = "direction";
  const toggle = el("button", "Values\u2026"); toggle.type = "button"; toggle.dataset.testid = "values-toggle";
  top.append(handle, el("span", half("a").name, "muted"), a, way, el("span", half("b").name, "muted"), b, toggle, del);
  const table = el("table"); table.className = "values";
  const head = el("tr"); head.append(el("th", `${half("a").name} value`), el("th", "direction"), el("th", `${half("b").name} value`), el("th", ""));
  const body = el("tbody");
  const pairRow = (p) => {
    const tr = el("tr");
    const va = searchInput("a", a.value.trim(), "search\u2026"); va.value = p.a || ""; va.dataset.testid = "value-a";
    const vb = searchInput("b", b.value.trim(), "search\u2026"); vb.value = p.b || ""; vb.dataset.testid = "value-b";
    const vw = options(el("select"), WAYS.slice(0, 3), p.direction || "both"); vw.dataset.testid = "value-direction";
    const x = el("button", "Delete"); x.type = "button"; x.addEventListener("click", () => tr.remove());
    const ta = el("td"); ta.append(va); const tb = el("td"); tb.append(vb);
    const tw = el("td"); tw.append(vw); const tx = el("td"); tx.append(x);
    tr.append(ta, tw, tb, tx);
    tr.read = () => ({ a: va.value.trim(), b: vb.value.trim(), direction: vw.value });
    return tr;
  };
  body.append(...(entry.values || []).map(pairRow));
  table.append(head, body);
  const addPair = el("button", "Add a value pair"); addPair.type = "button"; addPair.dataset.testid = "add-pair";
  addPair.addEventListener("click", () => body.append(pairRow({})));
  const pa = policySelect(entry.unmapped_a, "a"); const pb = policySelect(entry.unmapped_b, "b");
  const policies = el("div"); policies.className = "row";
  policies.append(el("span", `A value with no pair, landing on ${half("a").name}:`, "muted"), pa,
    el("span", `on ${half("b").name}:`, "muted"), pb);
  const values = el("div"); values.className = "box";
  values.hidden = !(entry.values && entry.values.length) && !(entry.unmapped_a && entry.unmapped_a !== "keep") && !(entry.unmapped_b && entry.unmapped_b !== "keep");
  values.append(table, addPair, policies);
  toggle.addEventListener("click", () => { values.hidden = !values.hidden; });
  li.append(top, values);
  li.read = () => ({
    kind: "field", a: a.value.trim(), b: b.value.trim(), direction: way.value,
    values: [...body.children].map((tr) => tr.read()).filter((p) => p.a || p.b),
    unmapped_a: pa.read(), unmapped_b: pb.read(),
  });
  return li;
}

$("#vis-add-field").addEventListener("click", () => {
  readEntries(); vis.doc.entries.push({ kind: "field", a: "", b: "", direction: "both", values: [] }); drawEntries();
  const last = $("#vis-entries").lastElementChild; if (last) last.querySelector("[data-testid=field-a]").focus();
});
$("#vis-add-constant").addEventListener("click", () => {
  readEntries(); vis.doc.entries.push({ kind: "constant", side: "b", field: "", value: "" }); drawEntries();
});

// ---- Draft, publish, preview.
function showFindings(list, cls) {
  $("#vis-warnings").replaceChildren(...(list || []).map((w) => el("li", w, cls)));
}
$("#vis-save").addEventListener("click", async () => {
  try {
    const r = await send("PUT", `/api/connections/${enc(vis.name)}/mapping/draft`, readEntries());
    showFindings(r.warnings, "warn");
    say("#vis-status", r.warnings.length ? `Draft saved, with ${r.warnings.length} warning(s).` : "Draft saved.", r.warnings.length ? "warn" : "ok");
    $("#vis-state").textContent = "A draft is open (not published yet).";
  } catch (e) {
    say("#vis-status", "Not saved.", "bad");
    showFindings((e.message.replace(/^the mapping cannot run: /, "")).split("; "), "bad");
  }
});
$("#vis-publish").addEventListener("click", async () => {
  try {
    await send("PUT", `/api/connections/${enc(vis.name)}/mapping/draft`, readEntries());
    await send("POST", `/api/connections/${enc(vis.name)}/mapping/publish`, {});
    say("#vis-status", "Published: the sides run this mapping now.", "ok");
    $("#vis-state").textContent = "Showing the published mapping.";
    showFindings([]);
  } catch (e) { say("#vis-status", e.message, "bad"); }
});
$("#vis-discard").addEventListener("click", async () => {
  try { await send("DELETE", `/api/connections/${enc(vis.name)}/mapping/draft`); } catch (e) { if (e.status !== 404) { say("#vis-status", e.message, "bad"); return; } }
  const name = vis.name; vis = null; await pages.mapping.render(name);
  say("#vis-status", "Draft discarded.", "ok");
});
$("#vis-preview-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!vis) return;
  const key = $("#vis-preview-key").value.trim().toUpperCase();
  if (!key) return;
  try {
    await send("PUT", `/api/connections/${enc(vis.name)}/mapping/draft`, readEntries());
    const r = await send("POST", `/api/connections/${enc(vis.name)}/mapping/preview`, { key });
    const part = (title, d) => {
      const box = el("div"); box.className = "box";
      box.appendChild(el("h4", title));
      if (!d) { box.appendChild(el("p", "nothing to replay", "muted")); return box; }
      const diff = el("ul"); diff.dataset.testid = "preview-diff";
      diff.append(...(d.diff.length ? d.diff.map((f) => el("li", `${f.field}: ${JSON.stringify(f.current)} \u2192 ${JSON.stringify(f.candidate)}`)) : [el("li", "no difference", "muted")]));
      const cols = el("div"); cols.className = "cols";
      const col = (t, a) => { const c = el("div"); c.append(el("div", t, "muted"), el("pre", a ? (a.error || JSON.stringify(a.result, null, 2)) : "")); return c; };
      cols.append(col("published", d.current), col("draft", d.candidate));
      box.append(diff, cols);
      return box;
    };
    $("#vis-preview").replaceChildren(part(`Replica ${r.side} would send`, r.outgoing),
      part(`Changes on ${r.receiving_side || "the other side"}`, r.incoming));
  } catch (e) { $("#vis-preview").replaceChildren(el("p", e.message, "bad")); }
});

