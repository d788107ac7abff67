/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) on a real host:
 * sign in, create a schedule, watch it fire live, approve the proposed order, see the order,
 * pause all, see the banner on every page, resume. No CSP violation on the way. With
 * TRADECRON_SCREENSHOTS=1 the main pages are saved into docs/dashboard/.
 */

import { existsSync, mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStorage } from "@tradecron/storage-fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardDir } from "../src/express/dashboard.js";
import { startHost, type TestHost, TOKENS } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const shotsDir =
  process.env.TRADECRON_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../../docs/dashboard/", import.meta.url))
    : null;

let host: TestHost;
let browser: Browser;
let page: Page;
let dir: string;
const cspErrors: string[] = [];

/** A link of the main navigation. */
const nav = (name: string | RegExp) =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name });

async function shot(name: string) {
  if (!shotsDir) return;
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  if (!dashboardDir()) throw new Error("the dashboard is not built: pnpm --filter @tradecron/http build");
  dir = await mkdtemp(join(tmpdir(), "tc-http-ui-"));
  // The clock starts two minutes ago, so after the minute the test moves it on, the scheduler's
  // times are in the browser's past, as they would be.
  host = await startHost({ storage: new FileStorage({ dir }), clockStart: Date.now() - 120_000 });
  // A market-hours schedule, so the preview strip shows skipped fires and why.
  await host.request("POST", "/schedules", {
    body: {
      id: "close-check",
      name: "Close check (market hours only)",
      job: "noop",
      marketHoursOnly: true,
      trigger: { cron: "45 15 * * *", timezone: "America/New_York" },
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the dashboard in Chromium", () => {
  it("signs in, creates a schedule, sees it fire live, approves, sees the order, pauses all and resumes", async () => {
    await page.goto(`${host.base}/`);
    expect(page.url()).toBe(`${host.base}/ui/`);
    await page.getByLabel("Access token").waitFor();
    await shot("sign-in");
    // Keyboard only: type the token and press Enter.
    await page.getByLabel("Access token").focus();
    await page.keyboard.type(TOKENS.admin);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Schedules", level: 1 }).waitFor();
    await page.locator(".live-connected").waitFor();

    // Create a schedule whose job proposes an order that needs approval.
    await page.getByRole("button", { name: "New schedule" }).click();
    await page.getByLabel("Id (optional)").fill("morning-scan");
    await page.getByLabel("Name (optional)").fill("Morning scan");
    await page.getByLabel("Job").selectOption("propose");
    await page.getByLabel("Trigger").selectOption("interval");
    await page.getByLabel("Every (e.g. 30s, 15m, 1h)").fill("1m");
    await page.getByLabel("Orders wait for a human approval").check();
    await page.locator("ol.preview li").first().waitFor();
    await page.getByRole("button", { name: "Create schedule" }).click();
    await page.getByRole("heading", { name: "Morning scan", level: 1 }).waitFor();

    // Time passes on the scheduler: the fire arrives over SSE, without a reload.
    await host.clock.advance(60_000);
    await page.locator("[data-execution]", { hasText: "succeeded" }).first().waitFor();
    await page.locator(".badge", { hasText: "1" }).waitFor();
    await shot("schedule-detail");

    await nav("Schedules").click();
    await page.locator("[data-schedule='close-check'] ol.preview li.skip").first().waitFor();
    await shot("schedules");

    // The approval queue: select the proposal, give a reason, approve.
    await nav(/Approvals/).click();
    const card = page.locator("[data-approval]").first();
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain("breakout");
    await expect(card.textContent()).resolves.toContain("left");
    await shot("approvals");
    await card.getByRole("checkbox").check();
    await page.getByLabel("Reason for the decision (audit log)").fill("checked the chart");
    await page.getByRole("button", { name: /^Approve/ }).click();
    await page.getByRole("status").filter({ hasText: "1 approved" }).waitFor();
    await page.locator(".badge").waitFor({ state: "detached" });
    // Status "any" lists the decided proposal too (the empty value used to fall back to pending).
    await page.getByLabel("Status").selectOption("any");
    await page.locator("[data-approval]", { hasText: "breakout" }).waitFor();
    expect(page.url()).toContain("status=any");

    // The order is there.
    await nav("Orders").click();
    await page.locator("[data-order]", { hasText: "AAPL" }).waitFor();
    await shot("orders");
    await nav("Positions").click();
    await page.getByRole("cell", { name: "AAPL" }).waitFor();
    await shot("positions");

    // Emergency pause-all, with a reason and a confirmation.
    await page.getByRole("button", { name: "Pause all" }).click();
    const dialog = page.getByRole("dialog", { name: "Pause every schedule?" });
    await dialog.getByLabel("Reason (written to the audit log)").fill("broker maintenance");
    await dialog.getByRole("button", { name: "Confirm pause all" }).click();
    const banner = page.getByRole("alert").filter({ hasText: "Emergency pause-all is in force" });
    await banner.waitFor();
    await expect(banner.textContent()).resolves.toContain("broker maintenance");
    expect(host.scheduler.pausedAll).toBe(true);
    // The banner holds on every page.
    for (const name of ["Executions", "Audit log", "Health"]) {
      await nav(name).click();
      await page.getByRole("heading", { name, level: 1 }).waitFor();
      await banner.waitFor();
      if (name !== "Health") await shot(name === "Executions" ? "executions" : "audit");
    }
    await shot("paused-all");
    await banner.getByRole("button", { name: "Resume all" }).click();
    await banner.waitFor({ state: "detached" });
    expect(host.scheduler.pausedAll).toBe(false);
    await page.getByRole("heading", { name: "Health", level: 1 }).waitFor();
    await shot("health");

    const audit = await host.request<{ items: { actor: string; action: string }[] }>("GET", "/audit", {
      as: "viewer",
    });
    expect(audit.body.items.map((a) => `${a.actor} ${a.action}`)).toEqual(
      expect.arrayContaining([
        "ada schedule.create",
        "ada approval.approve",
        "ada scheduler.pause_all",
        "ada scheduler.resume_all",
      ]),
    );
    expect(cspErrors).toEqual([]);
  }, 60_000);

  it("shows a group's orders together and approves the group with one click", async () => {
    await host.request("POST", "/schedules", {
      body: { id: "rebalance", job: "plan", trigger: { cron: "0 0 1 1 *", timezone: "UTC" } },
    });
    const run = await host.request<{ result: { groupId: string } }>("POST", "/schedules/rebalance/trigger", {
      as: "operator",
      body: { wait: true },
    });
    const groupId = run.body.result.groupId;
    await nav("Schedules").click();
    await nav(/Approvals/).click();
    const card = page.locator(`[data-approval-group='${groupId}']`);
    await card.waitFor();
    await expect(card.locator("[data-approval]").count()).resolves.toBe(2);
    await expect(card.textContent()).resolves.toContain("rebalance: drift 6%");
    // Its members are not offered for single selection: the group is decided as a unit.
    await expect(page.locator("[aria-label='Proposals'] [data-approval]").count()).resolves.toBe(0);
    await shot("approval-group");
    await card.getByLabel("Reason for the group decision (audit log)").fill("plan checked");
    await card.getByRole("button", { name: "Approve group" }).click();
    await page.getByRole("status").filter({ hasText: "Group approved (2 orders)" }).waitFor();
    const group = await host.request<{ status: string; decidedBy: string; counts: Record<string, number> }>(
      "GET",
      `/approval-groups/${groupId}`,
      { as: "viewer" },
    );
    expect(group.body).toMatchObject({ status: "approved", decidedBy: "ada", counts: { submitted: 2 } });
    const audit = await host.request<{ items: { actor: string; action: string; subjectId: string }[] }>(
      "GET",
      "/audit?subjectType=approval_group",
      { as: "viewer" },
    );
    expect(audit.body.items.map((e) => `${e.actor} ${e.action} ${e.subjectId}`)).toContain(
      `ada approval_group.approve ${groupId}`,
    );
    expect(cspErrors).toEqual([]);
  }, 60_000);

  it("says a group was not approved when the server refuses it because its schedule was removed", async () => {
    await host.request("POST", "/schedules", {
      body: { id: "rebalance-gone", job: "plan", trigger: { cron: "0 0 1 1 *", timezone: "UTC" } },
    });
    const run = await host.request<{ result: { groupId: string } }>(
      "POST",
      "/schedules/rebalance-gone/trigger",
      { as: "operator", body: { wait: true } },
    );
    const groupId = run.body.result.groupId;
    const removed = await host.request("DELETE", "/schedules/rebalance-gone", { as: "admin" });
    expect(removed.status).toBe(204);
    await nav("Schedules").click();
    await nav(/Approvals/).click();
    const card = page.locator(`[data-approval-group='${groupId}']`);
    await card.getByRole("button", { name: "Approve group" }).click();
    const notice = page.getByRole("status").filter({ hasText: "Group not approved (2 orders); 2 rejected" });
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toContain("was removed");
    const group = await host.request<{ status: string }>("GET", `/approval-groups/${groupId}`, {
      as: "viewer",
    });
    expect(group.body.status).toBe("rejected");
    expect(cspErrors).toEqual([]);
  }, 60_000);
});
