// The admin page's issue page (#/issues/<connection>/<key>): where one issue's sync stands,
// its twin, its errors with a retry, its recent events, the rule versions that handled
// them, and the last replica its side sent and applied. Builds on ui.js.
"use strict";

const STATE_WORDS = {
  synced: ["synced", "ok"], queued: ["queued", "warn"], running: ["running", "warn"],
  error: ["error", "bad"], pending: ["not synced yet", "muted"],
};

pages.issue = {
  async render(connection, key) {
    let v;
    try { v = await api(`/api/issues/${enc(connection)}/${enc(key)}`); }
    catch (e) {
      $("#issue-title").textContent = `${key} in ${connection}`;
      $("#issue-state").replaceChildren(el("span", e.message, "bad"));
      for (const id of ["#issue-twin", "#issue-errors", "#issue-sent", "#issue-applied"]) $(id).replaceChildren();
      delete $("#issue-errors").dataset.sig;
      fill("#issue-events", []);
      fill("#issue-versions", []);
      return;
    }
    const title = $("#issue-title");
    const back = el("a", v.connection);
    back.href = connectionHref(v.connection);
    title.replaceChildren(`${v.key} on side ${v.side.name} (${v.side.instance || "?"} / ${v.side.project}) of `, back);
    const [word, cls] = STATE_WORDS[v.state] || [v.state, ""];
    const state = el("span", word, "pill " + cls);
    state.dataset.state = v.state;
    $("#issue-state").replaceChildren(state, v.under_sync ? "" : el("span", " not under sync: no trigger has matched it and nobody synced it by key", "muted"));
    const twin = $("#issue-twin");
    if (v.twin) {
      const where = v.twin.on === "peer" ? `on the other organisation's node (side ${v.twin.side || "?"})` : `side ${v.twin.side} (${v.twin.instance} / ${v.twin.project})`;
      const k = v.twin.on === "peer" ? el("strong", v.twin.key) : (() => { const a = el("a", v.twin.key); a.href = issueHref(v.connection, v.twin.key); return a; })();
      k.dataset.twin = v.twin.key;
      twin.replaceChildren("twin: ", k, ` on ${where}`);
    } else twin.replaceChildren(el("span", "no twin yet", "muted"));

    const errors = $("#issue-errors");
    // Rebuilt only when they change, so a Retry button is not swapped under the pointer.
    const sig = JSON.stringify(v.errors);
    if (errors.dataset.sig !== sig) {
      errors.dataset.sig = sig;
      errors.replaceChildren(...v.errors.map((e) => {
      const div = el("div", null, "box");
      div.dataset.event = e.event;
      div.append(el("strong", `Event ${e.event} on ${e.side} (${e.state}, ${e.attempts} attempt${e.attempts === 1 ? "" : "s"}, rule ${e.rule_version || "-"}): `),
        el("span", e.error, "bad"));
      if (e.retryable) {
        const b = el("button", "Retry");
        b.dataset.testid = "retry-" + e.event;
        b.addEventListener("click", async () => {
          b.disabled = true;
          try { await api(`/api/events/${e.event}/retry`, { method: "POST" }); await refresh(); } catch (err) { showError(err); } finally { b.disabled = false; }
        });
        div.append(" ", b);
      } else div.append(el("span", " (retried automatically)", "muted"));
      return div;
    }));
    }

    fill("#issue-events", v.events.map((e) => {
      const tr = row(cell(e.id), cell(e.side), cell(e.kind), cell(e.cause), cell(e.state, e.state === "failed" ? "bad" : e.state === "done" ? "ok" : ""),
        cell(e.attempts), cell(e.rule_version || "-"),
        cell(e.error ? (e.state === "done" ? "before it went through: " + e.error : e.error) : "", e.state === "done" ? "muted" : "bad"), cell(ago(e.updated_at_ms)));
      tr.dataset.event = e.id;
      return tr;
    }));
    fill("#issue-versions", v.rule_versions.map((r) => row(cell(r.side), cell(r.version), cell(r.events), cell(ago(r.last_at_ms)),
      r.serving ? pill("serving now", "ok") : cell(""))));
    const replica = (r, none) => !r ? none
      : `hash ${r.hash}, replica #${r.seq}${r.at_ms ? ", " + ago(r.at_ms) : ""}\n` + (r.replica ? JSON.stringify(r.replica, null, 1) : "(the replica itself is not kept)");
    $("#issue-sent").textContent = replica(v.last_sent, "nothing sent yet");
    $("#issue-applied").textContent = replica(v.last_applied, "nothing applied yet");
  },
};
