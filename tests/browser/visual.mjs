// Builds a Visual mapping from scratch in the admin page's editor, in headless Chromium,
// between a Cloud simulator (side a, SUP) and a Data Center simulator (side b, DEV) whose
// workflows and priorities differ and which holds 500 more statuses and 2,000 more users.
// Started by the end-to-end test `admin_visual::a_visual_mapping_built_in_the_browser`,
// which passes in the environment:
//
//   NODE_URL, ADMIN_TOKEN   the node (admin API and page) and its admin token
//   CLOUD_API, CLOUD_AUTH   the Cloud simulator's REST base and Authorization header
//   DC_API, DC_AUTH         the same for the Data Center simulator
//   SCREENSHOTS             the folder the screenshots go to
//   CHROMIUM                the browser (default /usr/bin/chromium)
//
// Each step waits for what the admin would see, or for both Jiras to say so through their
// REST APIs; a step that never sees it fails the run.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const nodeUrl = env("NODE_URL");
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });

let n = 0;
async function shot(page, name) {
  n += 1;
  const file = join(shots, `${String(n).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

// One of the two Jiras, through its own REST API.
function jira(prefix) {
  const call = async (method, path, body) => {
    const resp = await fetch(env(`${prefix}_API`) + path, {
      method,
      headers: { "content-type": "application/json", authorization: env(`${prefix}_AUTH`) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await resp.text();
    if (resp.status >= 300) throw new Error(`${prefix} ${method} ${path}: ${resp.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    create: async (fields) => (await call("POST", "/issue", { fields })).key,
    fields: async (key) => (await call("GET", `/issue/${key}`)).fields,
    edit: (key, fields) => call("PUT", `/issue/${key}`, { fields }),
    transition: (key, id) => call("POST", `/issue/${key}/transitions`, { transition: { id } }),
  };
}
const cloud = jira("CLOUD");
const dc = jira("DC");

// Polls `probe` until it answers something truthy; gives up with what it last saw.
async function until(what, probe, ms = 30000) {
  const end = Date.now() + ms;
  let seen;
  for (;;) {
    try { seen = await probe(); if (seen && seen.ok !== false) return seen; } catch (e) { seen = e.message; }
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}; last saw ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function nodeApi(path, method = "GET", body) {
  const resp = await fetch(nodeUrl + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${env("ADMIN_TOKEN")}` },
    body: body ? JSON.stringify(body) : undefined,
  });
  return resp.json();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => { console.error("page error:", e.message); process.exitCode = 1; });
  const metaCalls = [];
  page.on("request", (r) => { if (r.url().includes("/meta/")) metaCalls.push(r.url()); });

  await page.goto(nodeUrl + "/#/connections/visual");
  await page.fill("#token", env("ADMIN_TOKEN"));
  await page.locator("#token").dispatchEvent("change");
  await page.locator("#conn-mapping").click();
  await page.locator("#vis-title").getByText("visual").waitFor();
  await page.locator("#vis-empty").waitFor();
  await shot(page, "empty-editor");

  const entries = page.locator("#vis-entries > li");
  const entry = (i) => entries.nth(i);
  async function addField(a, b, direction) {
    await page.click("#vis-add-field");
    const e = entries.last();
    await e.locator("[data-testid=field-a]").fill(a);
    await e.locator("[data-testid=field-b]").fill(b);
    await e.locator("[data-testid=direction]").selectOption(direction);
    return e;
  }
  async function addPair(e, a, b, direction) {
    const values = e.locator(".box");
    if (await values.isHidden()) await e.locator("[data-testid=values-toggle]").click();
    await e.locator("[data-testid=add-pair]").click();
    const row = e.locator("table.values tbody tr").last();
    await row.locator("[data-testid=value-a]").fill(a);
    await row.locator("[data-testid=value-b]").fill(b);
    await row.locator("[data-testid=value-direction]").selectOption(direction);
    return row;
  }

  // Summary and issue type, both ways.
  await addField("summary", "summary", "both");
  await addField("issue-type", "issue-type", "both");

  // Status: a table of pairs, its values searched in each Jira. Data Center has 504
  // statuses: the list shows one page of what matches, found by search, never all of them.
  const status = await addField("status", "status", "both");
  const first = await addPair(status, "To Do", "", "both");
  const dcValue = first.locator("[data-testid=value-b]");
  await dcValue.focus();
  const listId = await dcValue.getAttribute("list");
  const options = page.locator(`datalist#${listId} option`);
  await until("a first page of Data Center statuses", async () => (await options.count()) === 20);
  await dcValue.fill("Stage 49");
  await until("Stage 499 found by search", async () => {
    const values = await options.evaluateAll((os) => os.map((o) => o.value));
    return values.includes("Stage 499") && values.length <= 20 ? values : { ok: false, values };
  });
  console.log(`statuses: ${await options.count()} shown for a search among 504`);
  await dcValue.fill("Open");
  await addPair(status, "In Progress", "In Progress", "both");
  await addPair(status, "In Review", "In Progress", "a-to-b");
  await addPair(status, "Done", "Closed", "both");
  await status.locator("[data-testid=policy-a]").selectOption("ignore");
  await status.locator("[data-testid=policy-b]").selectOption("ignore");

  // Priority: one pair one way only, and a value with no pair reported as an error.
  const priority = await addField("priority", "priority", "both");
  await addPair(priority, "High", "Critical", "a-to-b");
  await addPair(priority, "Medium", "Major", "both");
  await priority.locator("[data-testid=policy-a]").selectOption("ignore");
  await priority.locator("[data-testid=policy-b]").selectOption("error");

  // Users: 2,000 on Data Center, found by search a page at a time.
  const assignee = await addField("assignee", "assignee", "none");
  const userPair = await addPair(assignee, "", "", "both");
  const userInput = userPair.locator("[data-testid=value-b]");
  await userInput.fill("Person 199");
  const userList = page.locator(`datalist#${await userInput.getAttribute("list")} option`);
  await until("Person 1999 found among 2,004 users", async () => {
    const values = await userList.evaluateAll((os) => os.map((o) => o.value));
    return values.includes("user1999@example.com") && values.length <= 20 ? values : { ok: false, values };
  });
  console.log("users: found by search");

  // Cloud's priority into a Data Center text field, one way; and a constant on Data Center.
  await addField("priority", "customfield_10100", "a-to-b");
  await page.click("#vis-add-constant");
  await entries.last().locator("[data-testid=const-field]").fill("labels");
  await entries.last().locator("[data-testid=const-value]").fill("from-cloud");

  // Reorder: the assignee entry (5th) is dropped by dragging it to the end, then taken out;
  // the keyboard moves the constant up one and back.
  await entry(4).locator(".handle").dragTo(entry(6).locator(".handle"));
  await until("the dragged entry last", async () =>
    (await entry(6).locator("[data-testid=field-a]").inputValue()) === "assignee");
  await entry(6).getByRole("button", { name: "Delete" }).first().click();
  await entry(5).locator(".handle").focus();
  await page.keyboard.press("Alt+ArrowUp");
  await until("the constant moved up", async () => (await entry(4).locator("[data-testid=const-field]").count()) === 1);
  await page.keyboard.press("Alt+ArrowDown");
  await until("the constant moved back", async () => (await entry(5).locator("[data-testid=const-field]").count()) === 1);
  console.log("reorder: drag and keyboard");

  // Data Center's way back is manual.
  await page.locator("[data-testid=method-b]").selectOption("manual");
  await page.locator("#vis-status").getByText("manual").waitFor();

  // The scope filter: dropdowns, shown as JQL.
  await page.locator('[data-testid=scope-type-a] option[value="Task"]').waitFor({ state: "attached" });
  await page.locator("[data-testid=scope-type-a]").selectOption("Task");
  await page.locator("[data-testid=scope-jql-a]").getByText('project = "SUP" AND issuetype = "Task"').waitFor();

  await page.click("#vis-save");
  await page.locator("#vis-status").getByText("Draft saved.").waitFor();
  await shot(page, "mapping-built");
  await page.click("#vis-publish");
  await page.locator("#vis-status").getByText("Published").waitFor();
  await shot(page, "published");
  console.log("published: ok");
  const conns = await nodeApi("/api/connections");
  const dcSide = conns.connections[0].sides.find((s) => s.name === "dc");
  if (dcSide.config["map.status.Done"] !== "Closed" || dcSide.config["copy.1"] !== "priority -> customfield_10100" || dcSide.sync !== "manual") {
    throw new Error(`the published config is not what the page built: ${JSON.stringify(dcSide)}`);
  }
  const bigLists = metaCalls.filter((u) => !/maxResults=(\d+)/.test(u) || Number(u.match(/maxResults=(\d+)/)[1]) > 100);
  if (bigLists.length) throw new Error(`the page asked for unpaged lists: ${bigLists.join(", ")}`);
  console.log(`metadata: ${metaCalls.length} paged requests`);

  // A Cloud issue, synced from the connection page; Data Center gets it mapped.
  const key = await cloud.create({ project: { key: "SUP" }, issuetype: { name: "Task" }, summary: "Built in the browser", priority: { name: "High" } });
  await page.goto(nodeUrl + "/#/connections/visual");
  await page.fill("#sync-key", key);
  await page.click("#sync-form button[type=submit]");
  const view = await until("the twin's key", async () => (await nodeApi(`/api/issues/visual/${key}`)).twin?.key);
  await until("the twin's fields on Data Center", async () => {
    const f = await dc.fields(view);
    return f.summary === "Built in the browser" && f.priority.name === "Critical" && f.customfield_10100 === "High"
      && JSON.stringify(f.labels) === '["from-cloud"]' && f.status.name === "Open" ? f : { ok: false, f };
  });
  console.log(`sync: ${key} is ${view} on Data Center, mapped`);

  // Done on Cloud: Closed on Data Center, two transitions from In Progress.
  for (const id of ["11", "21", "31"]) await cloud.transition(key, id);
  await until("Closed on Data Center", async () => (await dc.fields(view)).status.name === "Closed");
  console.log("status: Done became Closed through two transitions");

  // Data Center's change crosses when asked for (manual), its priority mapped back.
  await dc.edit(view, { summary: "Renamed on Data Center", priority: { name: "Major" } });
  await page.fill("#sync-key", view);
  await page.click("#sync-form button[type=submit]");
  await until("Data Center's change on Cloud", async () => {
    const f = await cloud.fields(key);
    return f.summary === "Renamed on Data Center" && f.priority.name === "Medium" ? f : { ok: false, f };
  });
  console.log("manual: sent on request");

  // A priority with no pair: an error the errors page shows.
  const lowest = await cloud.create({ project: { key: "SUP" }, issuetype: { name: "Task" }, summary: "No pair for Lowest", priority: { name: "Lowest" } });
  await page.fill("#sync-key", lowest);
  await page.click("#sync-form button[type=submit]");
  await page.click('nav a[data-page="errors"]');
  await page.locator("#failed").getByText("map.priority.Lowest", { exact: false }).first().waitFor();
  await shot(page, "unmapped-error");
  console.log("unmapped value: reported as an error");

  // A preview of a changed draft beside the published mapping, then discarded.
  await page.goto(nodeUrl + `/#/connections/visual/mapping`);
  const prio = entry(3);
  await prio.locator("[data-testid=values-toggle]").waitFor();
  if (await prio.locator(".box").isHidden()) await prio.locator("[data-testid=values-toggle]").click();
  await prio.locator("table.values tbody tr").nth(1).locator("[data-testid=value-b]").fill("Minor");
  await page.fill("#vis-preview-key", key);
  await page.click("#vis-preview-form button[type=submit]");
  await page.locator("[data-testid=preview-diff]").getByText('priority: "Major" \u2192 "Minor"').waitFor();
  await shot(page, "preview");
  await page.click("#vis-discard");
  await page.locator("#vis-status").getByText("Draft discarded.").waitFor();
  console.log("preview: ok");
} finally {
  await browser.close();
}
