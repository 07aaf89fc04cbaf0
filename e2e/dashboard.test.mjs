// The dashboard in a real browser against the real stack: `wrangler dev` (the Worker) and
// `wrangler pages dev` (the Pages app) on free ports with their own state and dev registry,
// driven through Debian's Chromium with playwright-core.
//
//   npm run check:template -- e2e
//
// On failure, a screenshot and the page's console go to e2e/artifacts/.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchChromium, startStack } from "./lib/stack.mjs";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const run = Date.now().toString(36);
const SMALL_ORDER = {
  order_id: "e2e-small",
  customer_email: "e2e@example.com",
  items: [{ sku: "book-42", quantity: 1, unit_price_cents: 1999 }],
};

/** @type {Awaited<ReturnType<typeof startStack>>} */
let stack;
/** @type {Awaited<ReturnType<typeof launchChromium>>} */
let browser;

before(async () => {
  // Both start side by side; whichever started is kept (and stopped by `after`) even when the
  // other failed, so a browser that cannot launch leaves no servers behind.
  const [started, launched] = await Promise.allSettled([startStack(), launchChromium()]);
  if (started.status === "fulfilled") stack = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  if (started.status === "rejected") throw started.reason;
  if (launched.status === "rejected") throw launched.reason;
  browser.context.setDefaultTimeout(30_000);
  // What opening the address `npm run dev` prints gives the browser: the local key's cookie.
  await browser.context.addCookies([stack.pages.keyCookie]);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * Runs `flow` in a new tab. On failure: a full-page screenshot and the console log in
 * e2e/artifacts/. An uncaught error in the page fails the test.
 * @param {import("node:test").TestContext} t
 * @param {(page: import("playwright-core").Page) => Promise<void>} flow
 * @param {{ viewport?: { width: number, height: number } }} [options]
 */
async function inPage(t, flow, options = {}) {
  const page = await browser.context.newPage();
  if (options.viewport) await page.setViewportSize(options.viewport);
  const log = [];
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[pageerror] ${e.stack ?? e.message}`));
  try {
    await flow(page);
    assert.deepEqual(
      log.filter((l) => l.startsWith("[pageerror]")),
      [],
      "uncaught errors in the page",
    );
  } catch (error) {
    const name = t.name
      .replace(/[^a-z0-9]+/gi, "-")
      .toLowerCase()
      .slice(0, 80);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }).catch(() => {});
    writeFileSync(join(ARTIFACTS, `${name}.log`), log.join("\n"));
    if (error instanceof Error) error.message += `\n(screenshot and console: e2e/artifacts/${name}.*)`;
    throw error;
  } finally {
    await page.close();
  }
}

/** Opens the dashboard watching the Agent `agent`, once the workflows are loaded. */
async function openDashboard(page, agent, hash = "") {
  await page.goto(`${stack.pages.baseUrl}/?agent=${agent}${hash}`);
  await page.locator('#instance-lists section[data-workflow="my-workflow"]').waitFor();
}

/**
 * Fills and submits "Start a workflow".
 * @param {import("playwright-core").Page} page
 * @param {{ workflow: string, id: string, via: "rpc" | "http" | "agent", approval?: boolean, params?: unknown }} options
 */
async function start(page, { workflow, id, via, approval = false, params }) {
  await page.selectOption("#start-workflow", workflow);
  await page.fill("#start-id", id);
  if (params !== undefined) await page.fill("#start-params", JSON.stringify(params));
  if (approval) await page.check("#start-approval");
  await page.check(`#start-form input[name=via][value=${via}]`);
  await page.click("#start-form button[type=submit]");
  await page.locator("#start-message", { hasText: `Started ${id}` }).waitFor();
}

/** The open instance, once it shows `status`. */
function inspected(page, id, status) {
  return page.locator(`#inspector-body > [data-instance-id="${id}"]${status ? `[data-status="${status}"]` : ""}`);
}

const button = (page, name) => page.locator("#inspector-body").getByRole("button", { name, exact: true });

describe("dashboard", () => {
  test("start through the Agent, watch it reach the approval, approve it, see it complete", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-approve-${run}`;
      await openDashboard(page, `e2e-approve-${run}`);
      await page.locator('#live[data-state="live"]').waitFor();
      await start(page, { workflow: "my-workflow", id, via: "agent", approval: true });

      // Progress arrives over the Agent's WebSocket: the workflow reports each step.
      await page.locator("#inspector-caption", { hasText: "wait for approval" }).waitFor();
      await page.locator('#inspector-body .steps li[data-state="current"]', { hasText: "wait for approval" }).waitFor();
      await page.locator(`#runs li[data-instance-id="${id}"] progress[value="50"]`).waitFor();
      assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "50");

      await page.fill("#approval-by", "e2e-reviewer");
      await button(page, "Approve").click();
      await inspected(page, id, "complete").waitFor();
      const output = JSON.parse(await page.locator("#inspector-body pre.json").textContent());
      assert.equal(output.outcome, "fulfilled");
      assert.equal(output.approval.by, "e2e-reviewer");
      await page.locator(`#runs li[data-instance-id="${id}"][data-status="complete"]`).waitFor();
      await page.locator(`#instance-lists li[data-instance-id="${id}"][data-status="complete"]`).waitFor();
      // The event went through the service binding, and the Worker accepted it.
      await page
        .locator("#requests-list li", {
          hasText: `POST /rpc/workflows/my-workflow/instances/${id}/events/approval → 202`,
        })
        .waitFor({ state: "attached" });
    });
  });

  test("an instance started through the fetch path shows the progress and milestones the Worker recorded, also after a reload", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-progress-${run}`;
      await openDashboard(page, `e2e-progress-${run}`);
      await start(page, { workflow: "my-workflow", id, via: "http", approval: true });

      // No Agent is involved: the open instance's read (polled) carries the milestones.
      const milestones = page.locator("#inspector-body .steps li");
      const atApproval = async () => {
        await page
          .locator("#inspector-caption", { hasText: "wait for approval: waiting for approval (50%)" })
          .waitFor();
        await page
          .locator('#inspector-body .steps li[data-state="current"]', { hasText: "wait for approval" })
          .waitFor();
        assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "50");
        assert.deepEqual(await milestones.locator(".step").allTextContents(), [
          "reserve inventory",
          "wait for approval",
        ]);
        assert.match(await page.locator("#inspector-body .progress-block").textContent(), /recorded by the Worker/);
      };
      await atApproval();
      assert.equal(await page.locator(`#runs li[data-instance-id="${id}"]`).count(), 0);

      // The address opens the instance again; its milestones come from the Worker.
      await page.reload();
      await inspected(page, id, "running").waitFor();
      await atApproval();

      await button(page, "Approve").click();
      await inspected(page, id, "complete").waitFor();
      const done = ["reserve inventory", "wait for approval", "create shipment", "complete"];
      await page.locator('#inspector-body .steps li[data-state="done"]', { hasText: "complete" }).waitFor();
      assert.deepEqual(await milestones.locator(".step").allTextContents(), done);
      await page.reload();
      await inspected(page, id, "complete").waitFor();
      await page.locator("#inspector-caption", { hasText: "complete: order fulfilled" }).waitFor();
      assert.deepEqual(await milestones.locator(".step").allTextContents(), done);
      assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "100");
    });
  });

  test("pause and resume an instance through the fetch path, by keyboard", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-pause-${run}`;
      await openDashboard(page, `e2e-pause-${run}`);
      await page.selectOption("#read-path", "http");
      await start(page, { workflow: "my-workflow", id, via: "http", approval: true });
      await inspected(page, id, "running").waitFor();

      await button(page, "Pause").focus();
      await page.keyboard.press("Enter");
      await inspected(page, id, "paused").waitFor();
      assert.equal(await button(page, "Pause").isDisabled(), true);
      // Focus stays on a button of the panel instead of falling back to the page.
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), "BUTTON");

      await button(page, "Resume").focus();
      await page.keyboard.press("Enter");
      await inspected(page, id, "running").waitFor();
      await page.locator(`#instance-lists li[data-instance-id="${id}"][data-status="running"]`).waitFor();
      await page
        .locator("#requests-list li", { hasText: `PATCH /http/workflows/my-workflow/instances/${id}/status → 200` })
        .first()
        .waitFor({ state: "attached" });
    });
  });

  test("terminate an instance, then restart it", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-terminate-${run}`;
      await openDashboard(page, `e2e-terminate-${run}`);
      await start(page, { workflow: "my-workflow", id, via: "rpc", approval: true });
      await inspected(page, id, "running").waitFor();
      await button(page, "Terminate").click();
      await inspected(page, id, "terminated").waitFor();
      assert.equal(await button(page, "Terminate").isDisabled(), true);
      assert.equal(await button(page, "Approve").isDisabled(), true);
      await page.locator(`#instance-lists li[data-instance-id="${id}"][data-status="terminated"]`).waitFor();

      await button(page, "Restart").click();
      await inspected(page, id, "running").waitFor();
    });
  });

  test("schedule a workflow through the Agent with a short delay and see it run; cancel a cron schedule", async (t) => {
    await inPage(t, async (page) => {
      await openDashboard(page, `e2e-schedule-${run}`);
      await page.locator("#schedules-note", { hasText: "No schedules" }).waitFor();
      await page.selectOption("#schedule-workflow", "my-workflow");
      await page.fill("#schedule-params", JSON.stringify(SMALL_ORDER));
      await page.fill("#schedule-delay", "3");
      await page.click("#schedule-form button[type=submit]");
      const message = page.locator("#schedule-message", { hasText: "Scheduled" });
      await message.waitFor();
      const scheduleId = (await message.textContent()).match(/Scheduled (\S+):/)[1];
      await page.locator(`#schedules li[data-schedule-id="${scheduleId}"]`, { hasText: "after 3 s" }).waitFor();

      // It fires, starts `sched-<schedule id>`, and reports to the Agent until complete.
      const runRow = page.locator(`#runs li[data-instance-id="sched-${scheduleId}"]`);
      await runRow.waitFor();
      await page.locator(`#runs li[data-instance-id="sched-${scheduleId}"][data-status="complete"]`).waitFor();
      await page.locator(`#schedules li[data-schedule-id="${scheduleId}"]`).waitFor({ state: "detached" });
      await runRow.getByRole("button").click();
      await inspected(page, `sched-${scheduleId}`, "complete").waitFor();
      assert.match(await page.locator("#inspector-body .facts").textContent(), /Started byagent/);

      await page.check("#schedule-form input[name=when][value=cron]");
      await page.fill("#schedule-cron", "0 9 * * 1");
      await page.click("#schedule-form button[type=submit]");
      const cronMessage = page.locator("#schedule-message", { hasText: "cron" });
      await cronMessage.waitFor();
      const cronId = (await cronMessage.textContent()).match(/Scheduled (\S+):/)[1];
      await page.getByRole("button", { name: `Cancel schedule ${cronId}` }).click();
      await page.locator(`#schedules li[data-schedule-id="${cronId}"]`).waitFor({ state: "detached" });
      await page.locator("#schedule-message", { hasText: `Cancelled schedule ${cronId}` }).waitFor();
    });
  });

  test("start a parent and see its children run to completion", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-parent-${run}`;
      await openDashboard(page, `e2e-parent-${run}`);
      await start(page, {
        workflow: "parent-workflow",
        id,
        via: "rpc",
        params: { batch_id: "e2e-batch", customer_email: "e2e@example.com", children: 3 },
      });
      const children = page.locator("#inspector-body .children li");
      await page.locator(`#inspector-body .children li[data-instance-id="${id}-c3"]`).waitFor();
      assert.deepEqual(await children.evaluateAll((els) => els.map((e) => e.dataset.instanceId)), [
        `${id}-c1`,
        `${id}-c2`,
        `${id}-c3`,
      ]);

      await inspected(page, id, "complete").waitFor();
      await page.locator('#inspector-body .children li[data-status="complete"]').nth(2).waitFor();
      const output = JSON.parse(await page.locator("#inspector-body pre.json").textContent());
      assert.equal(output.fulfilled, 3);
      await page
        .locator(`#instance-lists section[data-workflow="parent-workflow"] li[data-instance-id="${id}"]`)
        .waitFor();

      // A child opens in the panel; the instance index says who started it.
      await page.locator(`#inspector-body .children li[data-instance-id="${id}-c2"] button`).click();
      await inspected(page, `${id}-c2`, "complete").waitFor();
      assert.match(await page.locator("#inspector-body .facts").textContent(), /Started byparent/);
    });
  });

  test("empty lists, the Worker's error messages, and data shown as text only", async (t) => {
    await inPage(t, async (page) => {
      await openDashboard(page, `e2e-errors-${run}`);
      await page
        .locator('#instance-lists section[data-workflow="restock-workflow"] .note', { hasText: "No instances yet" })
        .waitFor();

      // The Worker's 400 names the field; the message is errors[0].message of its envelope.
      await page.selectOption("#start-workflow", "my-workflow");
      await page.fill("#start-id", "-bad");
      await page.click("#start-form button[type=submit]");
      await page.locator('#start-message.error[role="alert"]', { hasText: /^Not started: 400 instance_id/ }).waitFor();
      await page.fill("#start-id", "");
      await page.fill("#start-params", "{ not json");
      await page.click("#start-form button[type=submit]");
      await page.locator("#start-message.error", { hasText: "not valid JSON" }).waitFor();

      // An unknown instance: the Worker's 404 message.
      await page.goto(`${stack.pages.baseUrl}/?agent=e2e-errors-${run}#my-workflow/e2e-missing-${run}`);
      await page.locator("#inspector-body .alert", { hasText: "404" }).waitFor();

      // Markup in data is shown as text, never parsed.
      const id = `e2e-escape-${run}`;
      const markup = '<img src=x onerror="window.__injected=1">';
      await openDashboard(page, `e2e-errors-${run}`);
      await start(page, { workflow: "my-workflow", id, via: "rpc", params: { ...SMALL_ORDER, order_id: markup } });
      await inspected(page, id, "complete").waitFor();
      assert.match(
        await page.locator("#inspector-body pre.json").textContent(),
        /<img src=x onerror=\\"window.__injected=1\\">/,
      );
      assert.equal(await page.locator("img").count(), 0);
      assert.equal(await page.evaluate(() => /** @type {any} */ (window).__injected), undefined);
    });
  });

  test("a dropped WebSocket is shown, polled around and retried", async (t) => {
    await inPage(t, async (page) => {
      let outage = true;
      await page.routeWebSocket(/\/worker\/agents\//, (ws) => {
        if (outage) ws.close({ code: 1011, reason: "test outage" });
        else ws.connectToServer();
      });
      const agent = `e2e-socket-${run}`;
      await openDashboard(page, agent);
      await page.locator('#live[data-state="retrying"]', { hasText: "test outage" }).waitFor();
      await page.getByRole("button", { name: "Reconnect now" }).waitFor();

      // Without the socket, the Agent's state is polled: a run it starts still shows up.
      const id = `e2e-socket-${run}`;
      await start(page, { workflow: "my-workflow", id, via: "agent", params: SMALL_ORDER });
      await page.locator(`#runs li[data-instance-id="${id}"][data-status="complete"]`).waitFor();

      outage = false;
      await page.getByRole("button", { name: "Reconnect now" }).click();
      await page.locator('#live[data-state="live"]').waitFor();
      assert.equal(await page.getByRole("button", { name: "Reconnect now" }).isHidden(), true);
    });
  });

  test("polls unchanged instance lists with If-None-Match and gets empty 304s", async (t) => {
    await inPage(t, async (page) => {
      /** @type {{ status: number, conditional: boolean }[]} */
      const polls = [];
      page.on("response", (res) => {
        if (!/\/workflows\/restock-workflow\/instances\?/.test(res.url())) return;
        polls.push({ status: res.status(), conditional: Boolean(res.request().headers()["if-none-match"]) });
      });
      await openDashboard(page, `e2e-poll-${run}`);
      const list = page.locator('#instance-lists section[data-workflow="restock-workflow"]');
      await list.locator(".count").waitFor();
      const shown = await list.textContent();
      // Two seconds a poll: a few of them, nothing starting a restock meanwhile.
      await page.waitForTimeout(7_000);
      assert.ok(polls.length >= 3, `${polls.length} polls`);
      assert.equal(polls[0].status, 200);
      const later = polls.slice(1);
      assert.ok(
        later.every((p) => p.conditional && p.status === 304),
        JSON.stringify(later),
      );
      assert.equal(await list.textContent(), shown);
    });
  });

  test("fits a phone screen", async (t) => {
    await inPage(
      t,
      async (page) => {
        await openDashboard(page, `e2e-phone-${run}`);
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        assert.ok(scrollWidth <= clientWidth, `page is ${scrollWidth}px wide on a ${clientWidth}px screen`);
        // One column, the instance panel first.
        const inspector = await page.locator("#inspector").boundingBox();
        const startForm = await page.locator("#start-form").boundingBox();
        assert.ok(inspector.y < startForm.y);
        assert.ok(Math.abs(inspector.x - startForm.x) < 20);
      },
      { viewport: { width: 390, height: 844 } },
    );
  });
});
