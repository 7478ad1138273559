// The nine steps a Jira admin follows to sync two organisations' Jiras, done in the admin
// page of two real nodes (one per organisation) in headless Chromium. Started by the
// end-to-end test `admin_nine_steps::the_nine_steps_in_the_browser`, which passes:
//
//   NODE1_URL, NODE2_URL   each node's admin listener (page and API)
//   ADMIN_TOKEN1/2         each node's admin token, typed into its page
//   SITE1_URL/USER/TOKEN   organisation 1's Jira (Cloud): what its admin types on Sites
//   SITE1_API, SITE1_AUTH  its REST base and Authorization header (the test's own checks)
//   SITE2_URL/TOKEN, SITE2_API, SITE2_AUTH   organisation 2's Jira (Data Center)
//   GOOD_RULE, PANIC_RULE  a rule module that syncs, and one that panics on every call
//   SCREENSHOTS            the folder the screenshots go to (NN-name.png)
//   CHROMIUM               the browser (default /usr/bin/chromium)
//
// Each step waits for what the admin would see and prints "step N <name>: ok"; a step that
// never sees it fails the run. STEPS (e.g. "1,2") runs only some of them.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (v == null) throw new Error(`${name} is not set`);
  return v;
};
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });
const only = process.env.STEPS ? new Set(process.env.STEPS.split(",").map(Number)) : null;
const CONNECTION = "acme-globex";

let shotNo = 0;
async function shot(page, name) {
  shotNo += 1;
  const file = join(shots, `${String(shotNo).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

// ---- The test's own look at each Jira, over its REST API.
async function jira(site, method, path, body) {
  const resp = await fetch(env(`SITE${site}_API`) + path, {
    method,
    headers: { "content-type": "application/json", authorization: env(`SITE${site}_AUTH`) },
    body: body == null ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: resp.status, body: json };
}
async function createIssue(site, project, summary, labels = []) {
  const r = await jira(site, "POST", "/issue", { fields: {
    project: { key: project }, issuetype: { name: "Bug" }, summary, labels,
  } });
  if (r.status !== 201) throw new Error(`creating an issue on site ${site}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.key;
}
async function comment(site, key, text) {
  const body = site === 1
    ? { body: { type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text }] }] } }
    : { body: text };
  const r = await jira(site, "POST", `/issue/${key}/comment`, body);
  if (r.status !== 201) throw new Error(`commenting on ${key}: ${r.status} ${JSON.stringify(r.body)}`);
}
const commentTexts = async (site, key) => {
  const r = await jira(site, "GET", `/issue/${key}/comment`);
  return JSON.stringify(r.body && r.body.comments ? r.body.comments : []);
};
// Polls `probe` (a value, or null while not there) for up to `ms`.
async function until(what, probe, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
// What a node's admin API says of an issue (the test's check beside the page's).
async function issueView(node, key) {
  const resp = await fetch(`${env(`NODE${node}_URL`)}/api/issues/${CONNECTION}/${key}`, {
    headers: { authorization: "Bearer " + env(`ADMIN_TOKEN${node}`) },
  });
  return resp.ok ? resp.json() : null;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
const opened = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Copy writes to the clipboard; the test reads it back as the other admin would paste it.
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env("NODE1_URL") });
  const open = async (node) => {
    const page = await context.newPage();
    opened.push([node, page]);
    page.setDefaultTimeout(30000);
    page.on("pageerror", (e) => { console.error(`page error (node ${node}):`, e.message); failed = true; });
    // Confirmation dialogs (delete) are answered yes, as the admin would.
    page.on("dialog", (d) => d.accept());
    await page.goto(env(`NODE${node}_URL`) + "/#/");
    await page.getByLabel("Admin token").fill(env(`ADMIN_TOKEN${node}`));
    await page.getByLabel("Admin token").dispatchEvent("change");
    await page.locator("#updated").getByText("updated").waitFor();
    return page;
  };
  const org1 = await open(1);
  const org2 = await open(2);
  const run = (n) => !only || only.has(n);
  let key = null;
  let twin = null;

  // Step 1: each admin adds their Jira site on their own node.
  if (run(1)) {
    for (const [page, site, name, user] of [[org1, 1, "acme", env("SITE1_USER")], [org2, 2, "globex", ""]]) {
      await page.locator('nav a[data-page="sites"]').click();
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Jira address").fill(env(`SITE${site}_URL`));
      await page.getByLabel("User", { exact: true }).fill(user);
      await page.getByLabel("API token").fill(env(`SITE${site}_TOKEN`));
      await page.getByRole("button", { name: "Add site" }).click();
      await page.locator("#site-status.ok").getByText(`Added ${name}`).waitFor();
      await page.locator(`#sites tr[data-site="${name}"]`).getByText("added here").waitFor();
      if (await page.getByLabel("API token").inputValue() !== "") throw new Error("the token stayed in its field");
      await shot(page, `add-site-node${site}`);
    }
    console.log("step 1 add sites: ok");
  }

  // Step 2: organisation 1 initiates a Basic connection with another organisation.
  let code = null;
  if (run(2)) {
    await org1.locator('nav a[data-page="connections"]').click();
    await org1.getByLabel("Connection name", { exact: true }).fill(CONNECTION);
    await org1.locator("#init-site").selectOption("acme");
    await org1.locator("#init-project option[value=SUP]").waitFor({ state: "attached" });
    await org1.locator("#init-project").selectOption("SUP");
    await org1.getByRole("radio", { name: /^Basic/ }).check();
    await org1.getByRole("radio", { name: /^Another organisation/ }).check();
    await org1.getByRole("button", { name: "Create connection" }).click();
    await org1.locator("#initiate-status.ok").getByText(`Created ${CONNECTION}`).waitFor();
    const field = org1.locator("#invite-code");
    await until("the invitation code", async () => (await field.inputValue()) || null);
    if (await field.getAttribute("readonly") == null) throw new Error("the code field is not read-only");
    await shot(org1, "initiate-basic");
    console.log("step 2 initiate: ok");

    // Step 3: copy the code.
    await org1.getByRole("button", { name: "Copy" }).first().click();
    await org1.locator("#invite-note").getByText("Copied").waitFor();
    code = await org1.evaluate(() => navigator.clipboard.readText()).catch(() => null) || await field.inputValue();
    if (!code) throw new Error("nothing was copied");
    await shot(org1, "copy-code");
    console.log("step 3 copy the code: ok");
  }

  // Step 4: organisation 2 accepts it on its node, onto its own site and project.
  if (run(4) && code) {
    await org2.locator('nav a[data-page="connections"]').click();
    await org2.locator("#accept-code").fill(code);
    await org2.locator("#accept-name").fill(CONNECTION);
    await org2.locator("#accept-site").selectOption("globex");
    await org2.locator("#accept-project option[value=DEV]").waitFor({ state: "attached" });
    await org2.locator("#accept-project").selectOption("DEV");
    await org2.getByRole("button", { name: "Accept" }).click();
    await org2.locator("#accept-status.ok").getByText("Connected with").waitFor();
    if (org2.url().includes(code) || org1.url().includes(code)) throw new Error("the code is in a URL");
    await org2.locator(`#conn-list tr[data-connection="${CONNECTION}"]`).waitFor();
    await shot(org2, "accept");
    await org1.locator('nav a[data-page="connections"]').click();
    await org1.locator(`#conn-list tr[data-connection="${CONNECTION}"]`).getByText("another organisation at").waitFor();
    console.log("step 4 accept: ok");
  }

  // Step 5: sync one issue by key and follow it to synced, with the twin's key; each
  // Jira shows a link to the other issue.
  if (run(5)) {
    key = await createIssue(1, "SUP", "Printer on fire in room 4");
    await org1.goto(env("NODE1_URL") + `/#/connections/${CONNECTION}`);
    await org1.getByLabel("Issue key").fill(key);
    await org1.getByRole("button", { name: "Sync", exact: true }).click();
    const status = org1.locator("#sync-status[data-twin]");
    await status.getByText("Synced").waitFor({ timeout: 60000 });
    twin = await status.getAttribute("data-twin");
    await shot(org1, "sync-by-key");
    const links = [[1, key], [2, twin]];
    for (const [site, k] of links) {
      const r = await jira(site, "GET", `/issue/${k}/remotelink`);
      if (r.status !== 200 || !Array.isArray(r.body) || r.body.length === 0) {
        throw new Error(`remote link on ${k} (site ${site}): ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    // The issue page from the twins list, on the other node too.
    await org2.goto(env("NODE2_URL") + `/#/issues/${CONNECTION}/${twin}`);
    await org2.locator('#issue-state [data-state="synced"]').waitFor();
    await org2.locator(`#issue-twin [data-twin="${key}"]`).waitFor();
    await shot(org2, "issue-page");
    console.log(`step 5 sync ${key} -> ${twin} with remote links: ok`);
  }

  // Step 6: organisation 1 stops sending comments (one click); a new comment stays home,
  // a summary edit crosses.
  if (run(6) && key && twin) {
    await org1.goto(env("NODE1_URL") + `/#/connections/${CONNECTION}`);
    const box = org1.locator('#conn-fields [aria-label$=" sends comments"]').first();
    await box.waitFor();
    if (!(await box.isChecked())) throw new Error("comments were not sent to begin with");
    await box.uncheck();
    await org1.locator("#conn-fields [data-status=send]").getByText("saved").first().waitFor();
    await shot(org1, "stop-sending-comments");
    await comment(1, key, "Internal: the vendor blames the toner");
    const r = await jira(1, "PUT", `/issue/${key}`, { fields: { summary: "Printer on fire in room 4 (fixed)" } });
    if (r.status !== 204) throw new Error(`editing ${key}: ${r.status}`);
    await until("the summary edit on the twin", async () => {
      const t = await jira(2, "GET", `/issue/${twin}`);
      return t.body && t.body.fields && t.body.fields.summary === "Printer on fire in room 4 (fixed)";
    }, 60000);
    if ((await commentTexts(2, twin)).includes("vendor blames")) throw new Error("the comment crossed");
    console.log("step 6 stop sending comments: ok");
  }

  // Step 7: a trigger (with its match count), edited, bulk-synced with the bar reaching done,
  // then deactivated and deleted.
  if (run(7)) {
    const partner = [];
    for (const s of ["Partner issue one", "Partner issue two", "Partner issue three"]) {
      partner.push(await createIssue(1, "SUP", s, ["partner"]));
    }
    await org1.goto(env("NODE1_URL") + `/#/connections/${CONNECTION}`);
    await org1.getByLabel("JQL").fill("project = SUP AND labels = partner");
    await org1.getByLabel("Note").first().fill("partner issues");
    await org1.getByRole("button", { name: "Add trigger" }).click();
    await org1.locator("#trigger-status.ok").getByText("matches 3 issues").waitFor();
    const row = org1.locator("#conn-triggers tr[data-trigger]").filter({ hasText: "labels = partner" });
    await row.getByText("3 issues").waitFor();
    await row.getByRole("button", { name: "Edit" }).click();
    await org1.getByLabel("Note").first().fill("issues shared with the partner");
    await org1.getByRole("button", { name: "Save trigger" }).click();
    await row.getByText("issues shared with the partner").waitFor();
    await row.getByRole("button", { name: "Bulk sync" }).click();
    await row.locator(".bulk-progress").getByText("done").waitFor({ timeout: 60000 });
    await shot(org1, "trigger-bulk-done");
    for (const k of partner) {
      await until(`${k} synced`, async () => { const v = await issueView(1, k); return v && v.state === "synced"; }, 60000);
    }
    await row.getByRole("button", { name: "Deactivate" }).click();
    await row.getByText("inactive").waitFor();
    await row.getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    console.log("step 7 trigger and bulk sync: ok");
  }

  // Step 8: Script mode, on a connection between two projects of organisation 1's site:
  // upload a rule that works, try one that panics (the dry run shows it), publish it anyway.
  const SCRIPT = "acme-internal";
  let broken = null;
  if (run(8)) {
    await org1.locator('nav a[data-page="connections"]').click();
    await org1.getByLabel("Connection name", { exact: true }).fill(SCRIPT);
    await org1.locator("#init-site").selectOption("acme");
    await org1.locator("#init-project option[value=SUP]").waitFor({ state: "attached" });
    await org1.locator("#init-project").selectOption("SUP");
    await org1.getByRole("radio", { name: /^Script/ }).check();
    await org1.getByRole("radio", { name: "A site on this node" }).check();
    await org1.locator("#init-remote-site").selectOption("acme");
    await org1.locator("#init-remote-project option[value=DEV]").waitFor({ state: "attached" });
    await org1.locator("#init-remote-project").selectOption("DEV");
    await org1.getByRole("button", { name: "Create connection" }).click();
    await org1.locator("#initiate-status.ok").getByText(`Created ${SCRIPT}`).waitFor();
    await org1.goto(env("NODE1_URL") + `/#/connections/${SCRIPT}`);
    const boxes = org1.locator("#conn-rules div[data-side]");
    await boxes.nth(1).waitFor();
    // The receiving side (DEV) gets the rules.
    const dev = boxes.nth(1);
    const side = await dev.getAttribute("data-side");
    await dev.getByLabel(`Rule file for ${side}`).setInputFiles(env("GOOD_RULE"));
    await dev.getByLabel("Note").fill("stock rule");
    await dev.getByRole("button", { name: "Publish" }).click();
    await dev.getByRole("status").getByText("Published version").waitFor();
    await dev.locator("tr[data-current]").getByText("stock rule").waitFor();
    broken = await createIssue(1, "SUP", "Synced through a broken rule");
    await dev.getByLabel(`Rule file for ${side}`).setInputFiles(env("PANIC_RULE"));
    await dev.getByLabel("Note").fill("new mapping");
    await dev.getByLabel("Issue to try it on").fill(broken);
    await dev.getByRole("button", { name: "Try on the issue" }).click();
    await dev.getByRole("status").getByText("Tried on").waitFor();
    await dev.getByRole("button", { name: "Publish" }).click();
    await dev.locator("tr[data-current]").getByText("new mapping").waitFor();
    await shot(org1, "script-rule-versions");
    console.log("step 8 script mode upload, try, publish: ok");

    // Step 9: the broken rule makes an error; roll back, retry from the issue page, green.
    await org1.getByLabel("Issue key").fill(broken);
    await org1.getByRole("button", { name: "Sync", exact: true }).click();
    await org1.locator("#sync-status.bad").getByText("Error on").waitFor({ timeout: 60000 });
    await shot(org1, "error");
    await dev.locator("tr").filter({ hasText: "stock rule" }).getByRole("button", { name: "Roll back to this" }).click();
    // A roll back publishes the kept version again, as a new version that says so.
    await dev.locator("tr[data-current]").getByText(/^rollback to v\d+$/).waitFor();
    await org1.locator("#sync-status").getByRole("link", { name: "details and retry" }).click();
    await org1.locator("#issue-errors").getByRole("button", { name: "Retry" }).first().click();
    await org1.locator('#issue-state [data-state="synced"]').waitFor({ timeout: 60000 });
    await shot(org1, "fixed-green");
    await org1.locator('nav a[data-page="overview"]').click();
    await org1.locator(`#connections tr[data-connection="${SCRIPT}"]`).getByText("healthy").waitFor();
    await shot(org1, "overview");
    console.log("step 9 error fixed by a roll back and a retry: ok");
  }
} catch (e) {
  // What each admin saw when the step gave up.
  for (const [node, page] of opened) {
    await page.screenshot({ path: join(shots, `failed-node${node}.png`), fullPage: true }).catch(() => {});
  }
  throw e;
} finally {
  await browser.close();
}
if (failed) process.exitCode = 1;
