// Clicks through the node's admin page in headless Chromium, against a node syncing two
// simulators whose side b starts with a failing rule. Started by the end-to-end test
// `admin_ui::the_admin_page_in_a_browser`, which passes what it needs in the environment:
//
//   NODE_URL        the node (admin API and page)
//   SIM_A_API       simulator A's REST base, and SIM_A_AUTH its Authorization header
//   RULE_B          the rule file side b serves (a failing rule at the start)
//   FIXED_RULE      the corrected rule to drop in its place
//   CANDIDATE_RULE  a rule module for the "try a rule" page
//   SCREENSHOTS     the folder the screenshots go to
//   ADMIN_TOKEN     the node's admin token, typed into the page as an admin would
//   CHROMIUM        the browser (default /usr/bin/chromium)
//
// Each step waits for what the admin would see; a step that never sees it fails the run.

import { chromium } from "playwright-core";
import { copyFileSync, mkdirSync, renameSync } from "node:fs";
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

async function createIssue(summary) {
  const resp = await fetch(`${env("SIM_A_API")}/issue`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: env("SIM_A_AUTH") },
    body: JSON.stringify({ fields: {
      project: { key: "SUP" }, issuetype: { name: "Bug" }, summary, labels: ["sync"],
    } }),
  });
  if (resp.status !== 201) throw new Error(`creating an issue on A: ${resp.status} ${await resp.text()}`);
  return (await resp.json()).key;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // This machine's network is closed: no background requests, no sandbox as root.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => { console.error("page error:", e.message); process.exitCode = 1; });

  // Without the token the page says why it shows nothing; with it, the overview.
  await page.goto(nodeUrl + "/#/");
  await page.locator("#error").getByText("admin token").waitFor();
  await page.fill("#token", env("ADMIN_TOKEN"));
  await page.locator("#token").dispatchEvent("change");
  const conn = page.locator('#connections tr[data-connection="ab"]');
  await conn.getByText("healthy").waitFor();
  await shot(page, "overview");

  // Pause and resume from the overview.
  await page.locator('[data-testid="toggle-ab"]').click();
  await conn.getByText("paused", { exact: true }).first().waitFor();
  await shot(page, "paused");
  await page.locator('[data-testid="toggle-ab"]').click();
  await conn.getByText("healthy").waitFor();
  console.log("pause and resume: ok");

  // A change that side b's failing rule cannot land: it shows on the errors page.
  const key = await createIssue("Browser test issue");
  await page.click('nav a[data-page="errors"]');
  const failed = page.locator("#failed tbody tr[data-event]");
  await failed.first().waitFor();
  await page.locator("#failed").getByText("panic", { exact: false }).first().waitFor();
  await shot(page, "error-from-failing-rule");
  console.log(`failing rule on ${key}: shown`);

  // The failed event's issue link opens the issue's own page: in error, with the reason.
  await failed.first().getByRole("link").click();
  await page.locator('#issue-state [data-state="error"]').waitFor();
  await page.locator("#issue-errors").getByText("panic", { exact: false }).first().waitFor();
  await page.locator("#issue-errors").getByRole("button", { name: "Retry" }).waitFor();
  await shot(page, "issue-in-error");
  console.log("issue page: error shown");

  // Drop the corrected rule in (a rename, as an admin's deploy would do) and wait for the reload.
  const tmp = env("RULE_B") + ".new";
  copyFileSync(env("FIXED_RULE"), tmp);
  renameSync(tmp, env("RULE_B"));
  await page.click('nav a[data-page="logs"]');
  await page.locator('#rule-logs div[data-side="ab/b"] h3').filter({ hasText: "2 accepted" }).waitFor();
  console.log("corrected rule: accepted");

  // Retry from the errors page until it goes green.
  await page.click('nav a[data-page="errors"]');
  const retry = page.locator('#failed [data-testid^="retry-"]').first();
  await retry.click();
  await page.locator("#failed tbody").getByText("none").waitFor();
  await page.click('nav a[data-page="overview"]');
  await conn.getByText("healthy").waitFor();
  await shot(page, "retried-green");
  console.log("retry: green");

  // The issue's page now: synced, with its twin's key, the events and the replica sent.
  await page.goto(nodeUrl + `/#/issues/ab/${key}`);
  await page.locator('#issue-state [data-state="synced"]').waitFor();
  await page.locator("#issue-twin [data-twin]").waitFor();
  await page.locator("#issue-events tbody tr[data-event]").first().waitFor();
  await page.locator("#issue-sent").getByText("Browser test issue", { exact: false }).waitFor();
  await shot(page, "issue-synced");
  console.log("issue page: synced");

  // The rule log view shows what the corrected rule wrote.
  await page.click('nav a[data-page="logs"]');
  await page.locator('#rule-logs div[data-side="ab/b"] pre').getByText(`first sync of ${key}`).waitFor();
  await shot(page, "rule-log");
  console.log("rule log: ok");

  // Issue data is shown as text, never run: a summary that is markup stays markup.
  const hostile = "<img src=x onerror=window.__pwned=1>";
  const hostileKey = await createIssue(hostile);

  // The connection page: rules, the trigger checked against Jira, paged twins.
  await page.goto(nodeUrl + "/#/connection/ab");
  await page.locator("#conn-sides").getByText("\u2713 valid").waitFor();
  await page.locator("#twins tbody").getByText(key).waitFor();
  await page.locator("#twins tbody").getByText(hostileKey).waitFor();
  await page.fill("#twin-key", hostileKey);
  await page.click("#twin-go");
  await page.locator("#twin pre").first().getByText(hostile, { exact: false }).waitFor();
  if (await page.evaluate(() => window.__pwned) !== undefined) throw new Error("issue data ran as markup");
  if (await page.locator("#twin img").count() !== 0) throw new Error("issue data became an element");
  await shot(page, "connection");
  console.log("markup in issue data: shown as text");

  // Try a rule: a candidate on the live issue, with the difference shown and nothing synced.
  await page.click('nav a[data-page="try"]');
  await page.selectOption("#try-side", "ab/a");
  await page.fill("#try-issue", key);
  await page.setInputFiles("#try-file", env("CANDIDATE_RULE"));
  await page.click("#try-run");
  await page.locator('#try-result div[data-direction="outgoing"] table').waitFor();
  await page.locator("#try-status").getByText("nothing was synced").waitFor();
  await shot(page, "try-a-rule");
  console.log("try a rule: ok");
} finally {
  await browser.close();
}
