// The admin page's connection page, beyond what ui.js shows of it: sync one issue by key
// and follow it to synced (or to its error), the fields each side sends and receives
// (Basic mode: one checkbox each, saved as soon as it is clicked), a Script-mode side's rule
// (try, publish, version history with roll back), and the triggers with their match
// counts and bulk sync progress, and linking issues that already exist on both sides (a
// proposal reviewed pair by pair, then linked). Builds on ui.js.
"use strict";

const BASIC_FIELDS = ["summary", "description", "comments", "attachments", "issuetype", "priority", "labels", "status"];
const FIELD_NAMES = { issuetype: "issue type" };
const fieldName = (f) => FIELD_NAMES[f] || f;

let connShown = null;       // the connection the page shows
let fieldsShown = "";       // what the field checkboxes were drawn from
let rulesShown = "";        // which sides' rule boxes are drawn
let triggersAt = 0;         // when /api/triggers was asked last (it runs each JQL on Jira)
let editing = null;         // the trigger being edited, or null when the form adds one
let following = null;       // the issue "Sync an issue" follows: { connection, key, until }
const bulkRuns = {};        // trigger id -> bulk run id started from this page

const sidePath = (conn, side) => `/api/connections/${enc(conn)}/sides/${enc(side)}`;

pages.connection = {
  leave() {
    connShown = null; fieldsShown = ""; rulesShown = ""; editing = null; following = null;
    $("#conn-invite-box").hidden = true;
    $("#conn-invite-code").value = "";
    say("#sync-status", "");
    say("#trigger-status", "");
    say("#connect-status", "");
    resetTriggerForm();
    resetConnect();
  },
  async render(name, c, conf) {
    connShown = name;
    renderPeer(name, conf);
    renderFields(name, conf);
    await renderRules(name, conf);
    await renderTriggers(name, c, conf);
    await follow();
  },
};

// A remote connection: its peer, or a button for a (new) invitation code while it waits.
function renderPeer(name, conf) {
  const waiting = conf && conf.remote && !conf.peer;
  $("#conn-invite").hidden = !waiting;
  $("#conn-invite").onclick = async () => {
    try { await showInvitation(name, "#conn-invite-code", "#conn-invite-box", "#conn-invite-note"); }
    catch (e) { say("#conn-invite-note", e.message, "bad"); $("#conn-invite-box").hidden = false; }
  };
  $("#conn-peer").textContent = !conf || !conf.remote ? ""
    : conf.peer ? `other organisation: ${conf.peer.url} (${conf.peer.state})` : "waiting for the other organisation to accept";
}

// ---- Sync an issue, and follow it.

$("#sync-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = $("#sync-key").value.trim().toUpperCase();
  if (!connShown || !key) return;
  const button = ev.target.querySelector("button[type=submit]");
  button.disabled = true;
  say("#sync-status", `Asking to sync ${key}\u2026`, "muted");
  try {
    const queued = await send("POST", `/api/connections/${enc(connShown)}/sync`, { key });
    following = { connection: connShown, key: queued.key || key, event: queued.event, until: Date.now() + 180000 };
    say("#sync-status", `${following.key}: queued (event ${queued.event}).`, "muted");
    await follow();
  } catch (e) {
    say("#sync-status", e.message, "bad");
  } finally { button.disabled = false; }
});

// One look at the followed issue; the polling loop (and a faster timer) call it again.
let followTimer = null;
async function follow() {
  if (!following || following.connection !== connShown) return;
  const f = following;
  let view;
  try { view = await api(`/api/issues/${enc(f.connection)}/${enc(f.key)}`); }
  catch (e) { say("#sync-status", e.message, "bad"); following = null; return; }
  if (following !== f) return;
  const out = $("#sync-status");
  const link = (text) => { const a = el("a", text); a.href = issueHref(f.connection, f.key); return a; };
  // The event this sync queued must have run first: an issue synced before reads "synced"
  // while its new event still waits.
  const ev = f.event != null ? view.events.find((e) => e.id === f.event) : null;
  const waiting = ev && (ev.state === "pending" || ev.state === "running");
  if (!waiting && view.state === "synced" && view.twin) {
    out.className = "ok";
    out.replaceChildren(`Synced: ${f.key} \u2194 `, el("strong", view.twin.key), " ", link("details"));
    out.dataset.twin = view.twin.key;
    following = null;
    return;
  }
  if (view.state === "error") {
    const e = view.errors[0] || {};
    out.className = "bad";
    out.replaceChildren(`Error on ${f.key}: ${e.error || "failed"} `, link("details and retry"));
    following = null;
    return;
  }
  if (Date.now() > f.until) {
    out.className = "warn";
    out.replaceChildren(`${f.key} is still ${view.state}; `, link("follow it on its page"));
    following = null;
    return;
  }
  out.className = "muted";
  out.textContent = `${f.key}: ${view.state}\u2026`;
  clearTimeout(followTimer);
  followTimer = setTimeout(follow, 700);
}

// ---- Basic mode: what each side sends and receives.

function renderFields(name, conf) {
  const box = $("#conn-fields");
  const sides = conf ? conf.sides.filter((s) => Array.isArray(s.send) || Array.isArray(s.receive)) : [];
  const drawnFrom = JSON.stringify([name, sides.map((s) => [s.name, s.send, s.receive])]);
  if (drawnFrom === fieldsShown) return;
  fieldsShown = drawnFrom;
  if (!sides.length) { box.replaceChildren(); return; }
  const parts = [el("h3", "What leaves and what arrives"),
    el("p", "Unticked fields stay where they are: a side that stops sending comments keeps them to itself, and a side that stops receiving them never gets any. A click saves at once.", "hint")];
  for (const s of sides) {
    const div = el("div", null, "box");
    div.dataset.side = s.name;
    div.append(el("strong", `${s.name}: ${s.instance} / ${s.project}`), " ", el("span", s.mode, "badge"));
    for (const [dir, verb] of [["send", "sends"], ["receive", "receives"]]) {
      if (!Array.isArray(s[dir])) continue;
      const fs = el("fieldset");
      fs.append(el("legend", `${s.name} ${verb}`));
      const row = el("div", null, "fields");
      for (const f of BASIC_FIELDS) {
        const label = el("label");
        const box = el("input");
        box.type = "checkbox";
        box.checked = s[dir].includes(f);
        box.dataset.field = f;
        box.setAttribute("aria-label", `${s.name} ${verb} ${fieldName(f)}`);
        box.addEventListener("change", () => saveFields(name, s.name, dir, fs));
        label.append(box, fieldName(f));
        row.append(label);
      }
      const note = el("span", null, "hint");
      note.setAttribute("role", "status");
      note.dataset.status = dir;
      fs.append(row, note);
      div.append(fs);
    }
    parts.push(div);
  }
  box.replaceChildren(...parts);
}

async function saveFields(conn, side, dir, fs) {
  const boxes = [...fs.querySelectorAll("input[type=checkbox]")];
  const note = fs.querySelector("[data-status]");
  const list = boxes.filter((b) => b.checked).map((b) => b.dataset.field);
  boxes.forEach((b) => { b.disabled = true; });
  note.className = "hint";
  note.textContent = "saving\u2026";
  try {
    await send("PATCH", sidePath(conn, side), { [dir]: list });
    note.className = "ok";
    note.textContent = "saved";
  } catch (e) {
    note.className = "bad";
    note.textContent = e.message;
    fieldsShown = ""; // draw again from what the node has
  } finally { boxes.forEach((b) => { b.disabled = false; }); }
}

// ---- Script mode: a side's rule, its versions, try, publish, roll back.

async function renderRules(name, conf) {
  const box = $("#conn-rules");
  const sides = conf ? conf.sides.filter((s) => s.mode === "script") : [];
  const drawn = JSON.stringify([name, sides.map((s) => s.name)]);
  if (drawn !== rulesShown) {
    rulesShown = drawn;
    box.replaceChildren(...sides.map((s) => ruleBox(name, s)));
  }
  for (const s of sides) {
    const div = box.querySelector(`div[data-side="${CSS.escape(s.name)}"]`);
    if (!div) continue;
    const table = div.querySelector("table");
    const body = await optional(`${sidePath(name, s.name)}/rule/versions`);
    table.tBodies[0].replaceChildren(...(!body ? [row(cell("this node does not keep rule versions yet", "muted"))]
      : !body.versions.length ? [row(cell("no version uploaded yet", "muted"))]
        : body.versions.map((v) => {
          const tr = row(cell(v.version), el("td", (v.sha256 || "").slice(0, 12)), cell(v.size != null ? `${v.size} bytes` : ""),
            cell(v.note || ""), cell(ago(when(v.uploaded_at))), cell(v.published_at ? ago(when(v.published_at)) : "not published"),
            v.current ? pill("serving", "ok")
              : buttonCell("Roll back to this", () => send("POST", `${sidePath(name, s.name)}/rule/rollback`, { version: v.version })
                .then(() => say(`#rule-status-${CSS.escape(s.name)}`, `Rolled back to ${v.version}.`, "ok")), `rollback-${s.name}-${v.version}`));
          tr.dataset.version = v.version;
          if (v.current) tr.dataset.current = "true";
          return tr;
        })));
  }
}
// A time the API gives in ms or as an ISO string.
const when = (t) => (t == null ? null : typeof t === "number" ? t : Date.parse(t));

function ruleBox(conn, s) {
  const div = el("div", null, "box");
  div.dataset.side = s.name;
  const id = (what) => `rule-${what}-${s.name}`;
  const input = (what, type, label, attrs = {}) => {
    const l = el("label", label + " ");
    const i = el("input");
    i.type = type;
    i.id = id(what);
    Object.entries(attrs).forEach(([k, v]) => i.setAttribute(k, v));
    l.append(i);
    return l;
  };
  const status = el("span");
  status.id = `rule-status-${s.name}`;
  status.setAttribute("role", "status");
  const tryBtn = el("button", `Try on the issue`);
  const pubBtn = el("button", `Publish`, "primary");
  tryBtn.type = pubBtn.type = "button";
  const file = () => div.querySelector(`#${CSS.escape(id("file"))}`).files[0];
  tryBtn.addEventListener("click", async () => {
    const issue = div.querySelector(`#${CSS.escape(id("issue"))}`).value.trim().toUpperCase();
    if (!file() || !issue) { say(`#${CSS.escape(status.id)}`, "choose a .wasm file and an issue", "bad"); return; }
    say(`#${CSS.escape(status.id)}`, "trying\u2026", "muted");
    try {
      const q = new URLSearchParams({ connection: conn, side: s.name, issue });
      const r = await api("/api/rules/try?" + q, { method: "POST", body: await file().arrayBuffer(), headers: { "content-type": "application/wasm" } });
      const parts = ["outgoing", "incoming"].filter((d) => r[d]).map((d) => {
        const x = r[d];
        return x.candidate.error ? `${d}: error: ${x.candidate.error}` : `${d}: ${x.diff.length} field(s) differ from the serving rule`;
      });
      const bad = ["outgoing", "incoming"].some((d) => r[d] && r[d].candidate.error);
      say(`#${CSS.escape(status.id)}`, `Tried on ${issue}, nothing synced. ` + parts.join("; "), bad ? "bad" : "ok");
    } catch (e) { say(`#${CSS.escape(status.id)}`, e.message, "bad"); }
  });
  pubBtn.addEventListener("click", async () => {
    if (!file()) { say(`#${CSS.escape(status.id)}`, "choose a .wasm file", "bad"); return; }
    const note = div.querySelector(`#${CSS.escape(id("note"))}`).value.trim();
    pubBtn.disabled = true;
    say(`#${CSS.escape(status.id)}`, "uploading\u2026", "muted");
    try {
      const q = note ? "?" + new URLSearchParams({ note }) : "";
      const v = await api(`${sidePath(conn, s.name)}/rule${q}`, { method: "POST", body: await file().arrayBuffer(), headers: { "content-type": "application/wasm" } });
      say(`#${CSS.escape(status.id)}`, `Published version ${v.version}.`, "ok");
      await refresh();
    } catch (e) { say(`#${CSS.escape(status.id)}`, e.message, "bad"); } finally { pubBtn.disabled = false; }
  });
  const table = el("table");
  const head = el("thead");
  head.append(row(...["Version", "SHA-256", "Size", "Note", "Uploaded", "Published", ""].map((h) => el("th", h))));
  table.append(head, el("tbody"));
  table.setAttribute("aria-label", `Rule versions of ${s.name}`);
  const controls = el("div", null, "row");
  controls.append(input("file", "file", `Rule file for ${s.name}`, { accept: ".wasm" }), input("note", "text", "Note", { size: "24" }),
    input("issue", "text", "Issue to try it on", { size: "12" }), tryBtn, pubBtn, status);
  div.append(el("h3", `Rule of ${s.name} (Script mode)`), controls, table);
  return div;
}

// ---- Triggers: add, edit, deactivate, delete, bulk sync with its progress.

function resetTriggerForm() {
  editing = null;
  $("#trigger-form").reset();
  $("#trigger-save").textContent = "Add trigger";
  $("#trigger-cancel").hidden = true;
  $("#trigger-side").disabled = false;
}
$("#trigger-cancel").addEventListener("click", resetTriggerForm);

function matchesText(t) {
  if (t.active === false) return ["inactive", "muted"];
  if (t.valid === false) return [t.check && t.check.error ? t.check.error : "invalid JQL", "bad"];
  const n = t.matches != null ? t.matches : t.check && t.check.total;
  if (n != null) return [`${n} issue${n === 1 ? "" : "s"}`, ""];
  // Jira Cloud's search gives no total: say whether anything matches.
  if (t.valid === true) return [t.check && t.check.sample ? `some (${t.check.sample}, \u2026)` : "none now", ""];
  if (t.check && t.check.error) return ["not checked: " + t.check.error, "warn"];
  return ["", "muted"];
}

async function renderTriggers(name, c, conf) {
  const sel = $("#trigger-side");
  const sideNames = conf ? conf.sides.map((s) => s.name) : c ? c.sides.map((s) => s.name) : [];
  if (sel.dataset.connection !== name || sel.options.length !== sideNames.length) {
    sel.replaceChildren(...sideNames.map((s) => option(s)));
    sel.dataset.connection = name;
  }
  // Each listing runs every trigger's JQL on Jira: every ten seconds, or after a change.
  if (!triggers || Date.now() - triggersAt > 10000) {
    triggers = await api("/api/triggers").catch(() => ({ triggers: [] }));
    triggersAt = Date.now();
  }
  const runs = (await api(`/api/bulk?connection=${enc(name)}&limit=50`).catch(() => ({ runs: [] }))).runs;
  const mine = triggers.triggers.filter((t) => t.connection === name);
  fill("#conn-triggers", mine.map((t) => {
    const [m, cls] = matchesText(t);
    const actions = el("td");
    if (t.id != null) {
      const btn = (label, fn, testid) => {
        const b = el("button", label);
        b.type = "button";
        b.dataset.testid = testid;
        b.addEventListener("click", async () => {
          b.disabled = true;
          try { await fn(); triggers = null; await refresh(); } catch (e) { say("#trigger-status", e.message, "bad"); } finally { b.disabled = false; }
        });
        return b;
      };
      actions.append(
        btn("Edit", async () => {
          editing = t.id;
          $("#trigger-side").value = t.side;
          $("#trigger-side").disabled = true;
          $("#trigger-jql").value = t.jql;
          $("#trigger-note").value = t.note || "";
          $("#trigger-active").checked = t.active !== false;
          $("#trigger-save").textContent = "Save trigger";
          $("#trigger-cancel").hidden = false;
          $("#trigger-jql").focus();
        }, `edit-trigger-${t.id}`), " ",
        btn(t.active === false ? "Activate" : "Deactivate",
          () => send("PATCH", `/api/triggers/${enc(t.id)}`, { active: t.active === false }), `toggle-trigger-${t.id}`), " ",
        btn("Delete", async () => {
          if (!confirm(`Delete the trigger "${t.jql}"? Issues already under sync stay under sync.`)) return;
          await api(`/api/triggers/${enc(t.id)}`, { method: "DELETE" });
        }, `delete-trigger-${t.id}`), " ",
        btn("Bulk sync", async () => {
          const started = await api(`/api/triggers/${enc(t.id)}/bulk`, { method: "POST" });
          bulkRuns[t.id] = started.run && typeof started.run === "object" ? started.run.id : started.run;
          say("#trigger-status", `Bulk sync started (run ${bulkRuns[t.id]}).`, "ok");
        }, `bulk-trigger-${t.id}`));
      const run = runs.find((r) => String(r.id) === String(bulkRuns[t.id]));
      if (run) {
        const p = progressCell(run);
        const span = el("span");
        span.append(...p.childNodes);
        span.dataset.run = run.id;
        span.className = "bulk-progress";
        actions.append(el("br"), span);
      }
    } else {
      actions.append(el("span", t.origin === "config" || t.origin == null ? "from config" : t.origin, "badge"));
    }
    const tr = row(cell(t.side), el("td", t.jql), cell(t.note || ""), cell(t.active === false ? "no" : "yes", t.active === false ? "muted" : "ok"),
      cell(m, cls), actions);
    if (t.id != null) tr.dataset.trigger = t.id;
    return tr;
  }));
}

$("#trigger-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!connShown) return;
  const button = $("#trigger-save");
  const body = { jql: $("#trigger-jql").value.trim(), note: $("#trigger-note").value.trim(), active: $("#trigger-active").checked };
  button.disabled = true;
  say("#trigger-status", "Checking the JQL on Jira\u2026", "muted");
  try {
    let saved;
    if (editing != null) saved = await send("PATCH", `/api/triggers/${enc(editing)}`, body);
    else saved = await send("POST", `/api/connections/${enc(connShown)}/triggers`, { side: $("#trigger-side").value, ...body });
    const n = saved && saved.matches;
    say("#trigger-status", (editing != null ? "Saved." : "Added.") + (n != null ? ` It matches ${n} issue${n === 1 ? "" : "s"} now.` : ""), "ok");
    resetTriggerForm();
    triggers = null;
    await refresh();
  } catch (e) {
    say("#trigger-status", e.message, "bad");
  } finally { button.disabled = false; }
});

// ---- Link existing issues: propose pairs, review them, link the ticked ones.

let proposal = null;        // the last proposal shown, for the connection it was made for

function resetConnect() {
  proposal = null;
  $("#connect-pairs").hidden = true;
  $("#connect-approve").hidden = true;
  fill("#connect-pairs", []);
}

$("#connect-match").addEventListener("change", () => {
  $("#connect-property").hidden = $("#connect-match").value !== "property";
});

$("#connect-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!connShown) return;
  const by = $("#connect-match").value;
  const match = by === "property" ? `property:${$("#connect-property").value.trim()}` : by;
  const button = $("#connect-propose");
  button.disabled = true;
  resetConnect();
  say("#connect-status", "Searching both sides\u2026", "muted");
  try {
    const p = await send("POST", `/api/connections/${enc(connShown)}/connect/propose`, { jql: $("#connect-jql").value.trim(), match });
    proposal = { connection: connShown, ...p };
    $("#connect-left").textContent = p.left_side;
    $("#connect-right").textContent = p.right_side;
    fill("#connect-pairs", p.pairs.map((pair) => {
      const box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.setAttribute("aria-label", `Link ${pair.left.key} with ${pair.right.key}`);
      const tr = row(el("td"), cell(pair.left.key), cell(pair.left.summary), cell(pair.right.key), cell(pair.right.summary), cell(""));
      tr.firstChild.append(box);
      tr.dataset.left = pair.left.key;
      tr.dataset.right = pair.right.key;
      return tr;
    }));
    const n = (m) => Object.values(m || {}).reduce((a, b) => a + b, 0);
    $("#connect-pairs").hidden = p.pairs.length === 0;
    $("#connect-approve").hidden = p.pairs.length === 0;
    say("#connect-status", `${p.pairs.length} pair${p.pairs.length === 1 ? "" : "s"} proposed; ${n(p.unmatched)} issue(s) without a partner, ${n(p.already_twins)} already twins. Nothing is linked yet.`, "ok");
  } catch (e) {
    say("#connect-status", e.message, "bad");
  } finally { button.disabled = false; }
});

$("#connect-approve").addEventListener("click", async () => {
  if (!proposal || proposal.connection !== connShown) return;
  const rows = [...document.querySelectorAll("#connect-pairs tbody tr")];
  const ticked = rows.filter((tr) => tr.querySelector("input").checked);
  if (ticked.length === 0) { say("#connect-status", "No pair is ticked.", "warn"); return; }
  const button = $("#connect-approve");
  button.disabled = true;
  say("#connect-status", `Linking ${ticked.length} pair(s)\u2026`, "muted");
  try {
    const report = await send("POST", `/api/connections/${enc(connShown)}/connect/approve`,
      { pairs: ticked.map((tr) => ({ left: tr.dataset.left, right: tr.dataset.right })) });
    for (const p of report.pairs) {
      const tr = ticked.find((t) => t.dataset.left === p.left && t.dataset.right === p.right);
      if (!tr) continue;
      const out = tr.lastChild;
      out.textContent = p.outcome === "refused" ? `not linked: ${p.reason || ""}` : p.outcome.replace("_", " ");
      out.className = p.outcome === "refused" ? "bad" : "ok";
      tr.querySelector("input").disabled = true;
    }
    const linked = report.pairs.filter((p) => p.outcome === "linked").length;
    const refused = report.pairs.filter((p) => p.outcome === "refused").length;
    say("#connect-status", `${linked} linked; their first sync is queued.` + (refused ? ` ${refused} refused.` : ""), refused ? "warn" : "ok");
  } catch (e) {
    say("#connect-status", e.message, "bad");
  } finally { button.disabled = false; }
});
