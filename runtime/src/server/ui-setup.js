// The admin page's setup pages: Jira sites (add, list, remove) and connections (list,
// initiate in Basic / Visual / Script mode, the invitation code, accept an invitation).
// Builds on ui.js. An invitation code only ever travels in a POST body, never in a URL.
"use strict";

// What /api/instances said last, to fill the site dropdowns only when the list changes.
let sitesSeen = "";
let sitesList = [];

function option(value, text) { const o = el("option", text == null ? value : text); o.value = value; return o; }

// Fills a <select> with options, keeping the chosen one when it is still there.
function fillSelect(sel, options, placeholder) {
  const keep = sel.value;
  sel.replaceChildren(option("", placeholder), ...options);
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
}

async function loadSites() {
  const body = await optional("/api/instances");
  if (!body) return null;
  sitesList = body.instances;
  const seen = JSON.stringify(sitesList.map((s) => s.name));
  if (seen !== sitesSeen) {
    sitesSeen = seen;
    const opts = () => sitesList.map((s) => option(s.name, `${s.name} (${s.flavour === "dc" ? "Data Center" : "Cloud"})`));
    for (const id of ["#init-site", "#init-remote-site", "#accept-site"]) fillSelect($(id), opts(), "choose a site");
  }
  return sitesList;
}

// A site's projects, for the project dropdown beside its site dropdown.
async function fillProjects(siteSel, projectSel, statusSel) {
  const site = $(siteSel).value;
  if (!site) { fillSelect($(projectSel), [], "choose a site first"); return; }
  fillSelect($(projectSel), [], "loading\u2026");
  try {
    const body = await api(`/api/instances/${enc(site)}/projects`);
    fillSelect($(projectSel), body.projects.map((p) => option(p.key, `${p.key}: ${p.name}`)), "choose a project");
  } catch (e) {
    fillSelect($(projectSel), [], "no projects");
    say(statusSel, e.message, "bad");
  }
}
$("#init-site").addEventListener("change", () => fillProjects("#init-site", "#init-project", "#initiate-status"));
$("#init-remote-site").addEventListener("change", () => fillProjects("#init-remote-site", "#init-remote-project", "#initiate-status"));
$("#accept-site").addEventListener("change", () => fillProjects("#accept-site", "#accept-project", "#accept-status"));

const flavourName = (f) => (f === "dc" ? "Data Center" : f === "cloud" ? "Cloud" : f || "");
const originBadge = (origin) => {
  const td = cell(null);
  td.append(el("span", origin === "config" ? "from config" : "added here", "badge"));
  return td;
};

pages.sites = {
  async render() {
    const list = await loadSites();
    $("#sites-note").hidden = !!list;
    if (!list) {
      fill("#sites", []);
      $("#sites-note").textContent = "This node does not list its sites (it has no /api/instances).";
      return;
    }
    fill("#sites", list.map((s) => {
      const tr = row(cell(s.name), cell(s.url), cell(flavourName(s.flavour)), cell(s.user || "(token only)"),
        originBadge(s.origin),
        s.origin === "page"
          ? buttonCell("Remove", async () => {
            if (!confirm(`Remove site ${s.name}? Connections that use it stop syncing.`)) return;
            await api(`/api/instances/${enc(s.name)}`, { method: "DELETE" });
            sitesSeen = "";
          }, "remove-site-" + s.name)
          : cell(""));
      tr.dataset.site = s.name;
      return tr;
    }));
  },
};

$("#site-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const button = form.querySelector("button[type=submit]");
  const body = { name: $("#site-name").value.trim(), url: $("#site-url").value.trim(), token: $("#site-token").value };
  const user = $("#site-user").value.trim();
  if (user) body.user = user;
  // The token leaves the field as soon as it is sent: the page never shows it again.
  $("#site-token").value = "";
  button.disabled = true;
  say("#site-status", "Checking the site\u2026", "muted");
  try {
    const added = await send("POST", "/api/instances", body);
    const who = added.account && added.account.displayName ? ` signed in as ${added.account.displayName}` : "";
    say("#site-status", `Added ${added.name} (${flavourName(added.flavour)})${who}.`, "ok");
    form.reset();
    sitesSeen = "";
    await refresh();
  } catch (e) {
    say("#site-status", e.message, "bad");
  } finally { button.disabled = false; }
});

// The other side of a connection, in words.
function otherSide(c) {
  if (c.remote) {
    if (!c.peer) return "another organisation: waiting for them to accept the invitation";
    return `another organisation at ${c.peer.url} (${c.peer.state})`;
  }
  const s = c.sides[1];
  return s ? `${s.name}: ${s.instance} / ${s.project}` : "";
}

pages.connections = {
  // An invitation code is not left on screen once the admin moves on.
  leave() {
    $("#invite-code").value = "";
    $("#invite-box").hidden = true;
  },
  async render() {
    await loadSites().catch(() => null);
    const listed = await optional("/api/connections");
    $("#conn-list-note").hidden = !!listed;
    if (!listed) {
      $("#conn-list-note").textContent = "This node lists only the connections of its config file (it has no /api/connections).";
      // A node without /api/connections: what /api/status knows.
      fill("#conn-list", status.connections.map((c) => {
        const tr = row(linkCell(c.name, connectionHref(c.name)), cell(c.state), cell("file"),
          cell(c.sides[0] ? `${c.sides[0].instance} / ${c.sides[0].project}` : ""),
          cell(c.peer ? `another organisation at ${c.peer.url}` : (c.sides[1] ? `${c.sides[1].instance} / ${c.sides[1].project}` : "")),
          originBadge("config"), cell(""));
        tr.dataset.connection = c.name;
        return tr;
      }));
      return;
    }
    fill("#conn-list", listed.connections.map((c) => {
      const s = c.sides[0];
      const modes = [...new Set(c.sides.map((x) => x.mode))].join(", ");
      const tr = row(linkCell(c.name, connectionHref(c.name)), cell(c.state, c.state === "active" ? "ok" : "warn"), cell(modes),
        cell(s ? `${s.name}: ${s.instance} / ${s.project}` : ""), cell(otherSide(c)), originBadge(c.origin),
        c.origin === "page"
          ? buttonCell("Delete", async () => {
            if (!confirm(`Delete connection ${c.name}? Its issues stop syncing; the issues themselves stay.`)) return;
            await api(`/api/connections/${enc(c.name)}`, { method: "DELETE" });
          }, "delete-connection-" + c.name)
          : cell(""));
      tr.dataset.connection = c.name;
      return tr;
    }));
  },
};

const checked = (name) => { const r = document.querySelector(`input[name="${name}"]:checked`); return r ? r.value : null; };
document.querySelectorAll('input[name="init-other"]').forEach((r) => r.addEventListener("change", () => {
  $("#init-local-other").hidden = checked("init-other") !== "local";
}));

// Asks the node for an invitation code of a remote connection and shows it read-only.
async function showInvitation(name, codeSel, boxSel, noteSel) {
  const inv = await send("POST", `/api/connections/${enc(name)}/invitation`, {});
  $(codeSel).value = inv.code;
  $(boxSel).hidden = false;
  const until = inv.expires_at ? new Date(typeof inv.expires_at === "number" ? inv.expires_at : Date.parse(inv.expires_at)) : null;
  say(noteSel, until && !isNaN(until) ? `Valid once, until ${until.toLocaleString()}.` : "Valid once.", "muted");
}
$("#invite-copy").addEventListener("click", () => copyField("#invite-code", "#invite-note"));

$("#initiate-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = ev.target.querySelector("button[type=submit]");
  const remote = checked("init-other") === "remote";
  const body = {
    name: $("#init-name").value.trim(),
    mode: checked("init-mode"),
    local: { instance: $("#init-site").value, project: $("#init-project").value },
    remote: remote ? null : { instance: $("#init-remote-site").value, project: $("#init-remote-project").value },
  };
  $("#invite-box").hidden = true;
  $("#invite-code").value = "";
  button.disabled = true;
  say("#initiate-status", "Creating\u2026", "muted");
  try {
    const made = await send("POST", "/api/connections", body);
    const name = made.name || body.name;
    say("#initiate-status", `Created ${name}.`, "ok");
    if (remote) {
      await showInvitation(name, "#invite-code", "#invite-box", "#invite-note");
      say("#initiate-status", `Created ${name}. Send the invitation code below to the other organisation.`, "ok");
    }
    await refresh();
  } catch (e) {
    say("#initiate-status", e.message, "bad");
  } finally { button.disabled = false; }
});

$("#accept-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = ev.target.querySelector("button[type=submit]");
  const body = {
    code: $("#accept-code").value.trim(),
    local: { instance: $("#accept-site").value, project: $("#accept-project").value },
  };
  const name = $("#accept-name").value.trim();
  if (name) body.name = name;
  button.disabled = true;
  say("#accept-status", "Connecting to the other node\u2026", "muted");
  try {
    const made = await send("POST", "/api/invitations/accept", body);
    // A used code is worth nothing, but it need not stay on screen either.
    $("#accept-code").value = "";
    const status = $("#accept-status");
    status.className = "ok";
    status.replaceChildren(`Connected with ${made.peer_url}: `, (() => { const a = el("a", made.name); a.href = connectionHref(made.name); return a; })());
    await refresh();
  } catch (e) {
    say("#accept-status", e.message, "bad");
  } finally { button.disabled = false; }
});

// The connection page's "New invitation code" for a remote connection still waiting.
$("#conn-invite-copy").addEventListener("click", () => copyField("#conn-invite-code", "#conn-invite-note"));
