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
import { ROW_LIMIT } from "../pages-app/public/js/timeline.js";
import { launchChromium, startStack } from "./lib/stack.mjs";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const run = Date.now().toString(36);
const SMALL_ORDER = {
  order_id: "e2e-small",
  customer_email: "e2e@example.com",
  items: [{ sku: "book-42", quantity: 1, unit_price_cents: 1999 }],
};

/**
 * The events of a run of `steps` steps as `GET .../subscribe` frames them (`id:`, `event:`,
 * `data:`), between the times the instance read gives (`queued`, `end`): step 2's first
 * attempt fails after 50 ms and is retried 2 s later.
 */
function longHistory(instanceId, { queued, end }, steps) {
  const frames = [];
  let eventId = 0;
  let at = Date.parse(queued);
  const emit = (type, fields = {}) => {
    const event = { instanceId, eventId: ++eventId, timestamp: at, type, ...fields };
    frames.push(`id: ${eventId}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  emit("workflow_queued");
  emit("workflow_started", { params: {} });
  emit("workflow_running");
  const config = { retries: { limit: 5, delay: 1000, backoff: "exponential" }, timeout: "10 minutes" };
  for (let n = 1; n <= steps; n++) {
    const stepName = `step ${n}-1`;
    emit("step_started", { stepName, config });
    emit("attempt_started", { stepName, attempt: 1 });
    if (n === 2) {
      at += 50;
      const error = { name: "Error", message: "flaky (simulated)" };
      emit("attempt_errored", { stepName, attempt: 1, error, retryDelayMs: 2000 });
      emit("attempt_started", { stepName, attempt: 2 });
      at += 10;
    }
    emit("attempt_completed", { stepName, attempt: n === 2 ? 2 : 1 });
    emit("step_completed", { stepName, output: n });
  }
  at = Date.parse(end);
  emit("workflow_completed", { output: { steps } });
  return frames;
}

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

/*
 * A test names a timeline row by its kind and its step's name or, for the run's own rows, its
 * state: "step: charge payment", "run: started". Each function run in the page spells that out
 * (the page's CSP allows no eval, so none is passed in as text).
 */

/** The open instance's timeline rows, as drawn now. */
async function timelineRows(page) {
  return page.locator("#inspector-body .timeline > li").evaluateAll((els) =>
    els.map((li) => ({
      label: `${li.dataset.kind}: ${li.querySelector(".name")?.textContent ?? li.querySelector(".state").textContent}`,
      state: li.dataset.state,
      text: li.textContent,
    })),
  );
}

/** The timeline's row of step `stepName` as the platform records it (`charge payment-1`). */
const stepRow = (page, stepName, kind = "step") =>
  page.locator(`#inspector-body .timeline > li[data-kind="${kind}"][data-step="${stepName}"]`);

/**
 * Records every row added to a timeline, in order, from now on (or, `beforeLoad`, from the
 * next page load on): each row is added once, so the log equals the rows drawn (no redraw, no
 * duplicate after a reconnect).
 */
async function recordTimeline(page, { beforeLoad = false } = {}) {
  const record = () => {
    const added = [];
    window.__timelineAdded = added;
    new MutationObserver((records) => {
      for (const { addedNodes } of records)
        for (const node of addedNodes)
          if (node instanceof HTMLLIElement && node.parentElement?.classList.contains("timeline"))
            added.push(
              `${node.dataset.kind}: ${node.querySelector(".name")?.textContent ?? node.querySelector(".state").textContent}`,
            );
    }).observe(document, { childList: true, subtree: true });
  };
  if (beforeLoad) await page.addInitScript(record);
  else await page.evaluate(record);
  return () => page.evaluate(() => window.__timelineAdded);
}

describe("dashboard", () => {
  test("start through the Agent, watch it reach the approval, approve it, see it complete", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-approve-${run}`;
      await openDashboard(page, `e2e-approve-${run}`);
      await page.locator('#live[data-state="live"]').waitFor();
      await start(page, { workflow: "my-workflow", id, via: "agent", approval: true });

      // Progress arrives over the Agent's WebSocket: the workflow reports each step.
      await page.locator("#inspector-caption", { hasText: "wait for approval" }).waitFor();
      await page
        .locator('#inspector-body .timeline li[data-kind="wait"][data-state="waiting"]', {
          hasText: "waiting for approval",
        })
        .waitFor();
      await page.locator(`#runs li[data-instance-id="${id}"] progress[value="50"]`).waitFor();
      assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "50");

      await page.fill("#approval-by", "e2e-reviewer");
      await button(page, "Approve").click();
      await inspected(page, id, "complete").waitFor();
      const output = JSON.parse(await page.locator("#inspector-output").textContent());
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

  test("an instance started through the fetch path shows the progress the Worker recorded and its timeline, also after a reload", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-progress-${run}`;
      await openDashboard(page, `e2e-progress-${run}`);
      await start(page, { workflow: "my-workflow", id, via: "http", approval: true });

      // No Agent is involved: the open instance's read (polled) carries the progress.
      const atApproval = async () => {
        await page
          .locator("#inspector-caption", { hasText: "wait for approval: waiting for approval (50%)" })
          .waitFor();
        await page.locator('#inspector-body .timeline li[data-kind="wait"][data-state="waiting"]').waitFor();
        assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "50");
        assert.match(await page.locator("#inspector-body .progress-block").textContent(), /recorded by the Worker/);
        return (await timelineRows(page)).map((r) => `${r.label} (${r.state})`);
      };
      const before = await atApproval();
      assert.equal(await page.locator(`#runs li[data-instance-id="${id}"]`).count(), 0);

      // The address opens the instance again; its timeline is drawn again from the history.
      await page.reload();
      await inspected(page, id, "running").waitFor();
      assert.deepEqual(await atApproval(), before);

      await button(page, "Approve").click();
      await inspected(page, id, "complete").waitFor();
      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="complete"]').waitFor();
      const done = await timelineRows(page);
      await page.reload();
      await inspected(page, id, "complete").waitFor();
      await page.locator("#inspector-caption", { hasText: "complete: order fulfilled" }).waitFor();
      await page.locator('#inspector-body .timeline-stream[data-stream="ended"]').waitFor();
      assert.deepEqual(await timelineRows(page), done);
      assert.equal(await page.locator("#inspector-progress").getAttribute("value"), "100");
    });
  });

  test("an order's timeline grows step by step from the event stream and shows its approval wait resolving", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-timeline-${run}`;
      await openDashboard(page, `e2e-timeline-${run}`);
      const added = await recordTimeline(page);
      const params = { ...SMALL_ORDER, order_id: id, settlement_seconds: 3 };
      await start(page, { workflow: "my-workflow", id, via: "rpc", approval: true, params });

      // Caught while it sleeps: what ran so far, the sleep with its wake time, nothing after it.
      const sleeping = await (
        await page.waitForFunction(
          () => {
            const rows = [...document.querySelectorAll("#inspector-body .timeline > li")];
            const last = rows.at(-1);
            if (last?.dataset.kind !== "sleep" || last.dataset.state !== "sleeping") return null;
            return {
              rows: rows.map(
                (li) =>
                  `${li.dataset.kind}: ${li.querySelector(".name")?.textContent ?? li.querySelector(".state").textContent} (${li.dataset.state})`,
              ),
              start: last.querySelector("time")?.dateTime,
              wake: last.dataset.wake,
              shownWake: last.querySelector(".detail time")?.dateTime,
              text: last.textContent,
            };
          },
          undefined,
          { polling: "raf" },
        )
      ).jsonValue();
      assert.deepEqual(sleeping.rows, [
        "run: started (started)",
        "step: validate order (done)",
        "step: reserve inventory (done)",
        "step: report progress (reserved) (done)",
        "sleep: wait for payment settlement (sleeping)",
      ]);
      assert.equal(Date.parse(sleeping.wake) - Date.parse(sleeping.start), 3000);
      assert.equal(sleeping.shownWake, sleeping.wake);
      assert.match(sleeping.text, /sleeping until /);

      // The reserve step with its attempt and its retry policy.
      const reserve = await stepRow(page, "reserve inventory-1").textContent();
      assert.match(reserve, /attempt 1: succeeded in \d+ ms/);
      assert.match(reserve, /retries: up to 3, delay 2 seconds exponential · timeout 30 seconds/);

      // Then the approval wait, which holds the run.
      await page.locator('#inspector-body .timeline li[data-kind="wait"][data-state="waiting"]').waitFor();
      const waiting = await timelineRows(page);
      assert.deepEqual(
        waiting.slice(4).map((r) => `${r.label} (${r.state})`),
        [
          "sleep: wait for payment settlement (done)",
          "step: report progress (awaiting approval) (done)",
          "wait: wait for approval (waiting)",
        ],
      );
      assert.match(waiting[4].text, /woke at .+ after 3\.\d s/);
      assert.match(waiting.at(-1).text, /waiting for approval/);

      await button(page, "Approve").click();
      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="complete"]').waitFor();
      const done = await timelineRows(page);
      assert.deepEqual(
        done.slice(6).map((r) => `${r.label} (${r.state})`),
        [
          "wait: wait for approval (done)",
          "step: charge payment (done)",
          "step: create shipment (done)",
          "step: report progress (shipped) (done)",
          "step: report progress (complete) (done)",
          "outcome: completed (complete)",
        ],
      );
      assert.match(done[6].text, /“approval” received after/);
      assert.match(done.at(-1).text, /"outcome":"fulfilled"/);
      // Each row was added once, in this order, as its step began.
      assert.deepEqual(
        await added(),
        done.map((r) => r.label),
      );
      await page.locator('#inspector-body .timeline-stream[data-stream="ended"]').waitFor();
      assert.equal(await page.locator("#inspector-body .timeline").getAttribute("aria-busy"), null);
      assert.equal(await page.locator("#inspector-body .timeline").getAttribute("aria-live"), "polite");

      // A step's full output, on demand.
      await stepRow(page, "charge payment-1").getByRole("button", { name: "output" }).click();
      await stepRow(page, "charge payment-1").locator("pre[data-loaded]").waitFor();
      assert.equal(await stepRow(page, "charge payment-1").locator("pre").textContent(), `"pay-${id}"`);

      // Restarted from a step (through the API): the history keeps what came before it and
      // replaces the rest, so the timeline reads it again; each row shows once, the new ones later.
      const charged = await stepRow(page, "charge payment-1").locator("time").getAttribute("datetime");
      const restart = await page.evaluate(
        async (path) =>
          (
            await fetch(path, {
              method: "PATCH",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ status: "restart", from: { name: "charge payment" } }),
            })
          ).status,
        `/rpc/workflows/my-workflow/instances/${id}/status`,
      );
      assert.equal(restart, 200);
      await page.waitForFunction((before) => {
        const time = document.querySelector('#inspector-body .timeline li[data-step="charge payment-1"] time');
        const outcome = document.querySelector('#inspector-body .timeline li[data-kind="outcome"]');
        return time && outcome && Date.parse(time.dateTime) > Date.parse(before);
      }, charged);
      const again = await timelineRows(page);
      assert.deepEqual(
        again.map((r) => `${r.label} (${r.state})`),
        done.map((r) => `${r.label} (${r.state})`),
      );
    });
  });

  test("a failed order's timeline shows the failed attempt's error and the rollback; an approval that timed out", async (t) => {
    await inPage(t, async (page) => {
      const id = `e2e-failing-${run}`;
      /** @type {string[]} */
      const streams = [];
      page.on("request", (r) => r.url().includes("/subscribe") && streams.push(new URL(r.url()).pathname));
      await openDashboard(page, `e2e-failing-${run}`);
      await page.selectOption("#read-path", "http");
      const added = await recordTimeline(page);
      const params = { ...SMALL_ORDER, order_id: id, simulate: { fail_step: "create shipment" } };
      await start(page, { workflow: "my-workflow", id, via: "http", params });

      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="errored"]').waitFor();
      const rows = await timelineRows(page);
      assert.deepEqual(
        rows.map((r) => `${r.label} (${r.state})`),
        [
          "run: started (started)",
          "step: validate order (done)",
          "step: reserve inventory (done)",
          "step: report progress (reserved) (done)",
          "sleep: wait for payment settlement (done)",
          "step: charge payment (done)",
          "step: create shipment (failed)",
          "step: report progress (failed) (done)",
          "run: rollback started (started)",
          "rollback: charge payment (done)",
          "rollback: reserve inventory (done)",
          "run: rollback complete (done)",
          "outcome: errored (errored)",
        ],
      );
      // Rows were added once each, whether or not the stream had to resume from its last event.
      assert.deepEqual(
        await added(),
        rows.map((r) => r.label),
      );
      const failed = stepRow(page, "create shipment-1").locator('.attempts li[data-state="failed"]');
      assert.match(
        await failed.textContent(),
        /^attempt 1: failed after \d+ ms: NonRetryableError: create shipment failed permanently \(simulated\)$/,
      );
      assert.match(await stepRow(page, "charge payment-1", "rollback").textContent(), /attempt 1: succeeded/);
      assert.match(rows.at(-1).text, /errored NonRetryableError: create shipment failed permanently \(simulated\)/);
      assert.ok(streams.length >= 1);
      assert.ok(
        streams.every((path) => path === `/http/workflows/my-workflow/instances/${id}/subscribe`),
        streams.join(),
      );

      // An approval nobody gave: the wait times out, the order releases its stock and completes.
      const late = `e2e-expired-${run}`;
      await start(page, {
        workflow: "my-workflow",
        id: late,
        via: "rpc",
        approval: true,
        params: { ...SMALL_ORDER, order_id: late, approval_timeout_seconds: 1 },
      });
      await inspected(page, late, "complete").waitFor();
      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="complete"]').waitFor();
      const expired = await timelineRows(page);
      assert.deepEqual(
        expired.slice(-4).map((r) => `${r.label} (${r.state})`),
        [
          "wait: wait for approval (timed-out)",
          "step: release inventory (done)",
          "step: report progress (complete) (done)",
          "outcome: completed (complete)",
        ],
      );
      assert.match(expired.at(-4).text, /timed out waiting for approval, after 1\.\d s/);
      assert.match(expired.at(-1).text, /"outcome":"expired"/);
    });
  });

  test("a 1,000-step history draws its last rows, all of them on demand; a retried attempt shows its error and delay", async (t) => {
    await inPage(t, async (page) => {
      // No workflow of this Worker runs 1,000 steps or fails an attempt it retries, so the page
      // gets a stream of that shape for a real instance: the platform's events, as its
      // subscribe stream sends them, from that instance's own queued time.
      const id = `e2e-long-${run}`;
      await openDashboard(page, `e2e-long-${run}`);
      await start(page, { workflow: "my-workflow", id, via: "rpc", params: { ...SMALL_ORDER, order_id: id } });
      await inspected(page, id, "complete").waitFor();
      const times = await page.evaluate(
        async (path) => (await (await fetch(path)).json()).result,
        `/rpc/workflows/my-workflow/instances/${id}?simple=true`,
      );
      const steps = 1000;
      const frames = longHistory(id, times, steps);
      // The first answer breaks off after 1,500 events, so the EventSource reconnects; the second
      // starts over from the first event, as a server that missed the Last-Event-ID would: each
      // row is still drawn once. (Chromium adds Last-Event-ID after Playwright's route sees the
      // request, so the route cannot check it.)
      let answers = 0;
      const body = (text) => ({ status: 200, headers: { "content-type": "text/event-stream" }, body: text });
      await page.route(`**/instances/${id}/subscribe*`, async (route) => {
        answers++;
        await route.fulfill(
          body(
            answers === 1
              ? `retry: 100\n\n${frames.slice(0, 1500).join("")}`
              : `${frames.join("")}event: end\ndata: {}\n\n`,
          ),
        );
      });
      const added = await recordTimeline(page, { beforeLoad: true });
      await page.reload();
      await inspected(page, id, "complete").waitFor();
      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="complete"]').waitFor();
      await page.locator('#inspector-body .timeline-stream[data-stream="ended"]').waitFor();

      const rows = page.locator("#inspector-body .timeline > li");
      const total = steps + 2; // its start, its steps, its outcome
      assert.equal(answers, 2);
      const drawn = await added();
      assert.equal(drawn.length, total);
      assert.equal(new Set(drawn).size, total);
      assert.equal(await rows.count(), ROW_LIMIT);
      // That line is written once a frame.
      await page
        .locator("#inspector-body .timeline-more", {
          hasText: `${total - ROW_LIMIT} earlier rows not shown. Show all ${total}`,
        })
        .waitFor();
      assert.match(await rows.first().textContent(), new RegExp(`step ${total - ROW_LIMIT} done`));

      await page
        .locator("#inspector-body .timeline-more")
        .getByRole("button", { name: `Show all ${total}` })
        .click();
      assert.equal(await rows.count(), total);
      const flaky = stepRow(page, "step 2-1");
      assert.equal(await flaky.getAttribute("data-state"), "done");
      assert.deepEqual(await flaky.locator(".attempts li").allTextContents(), [
        "attempt 1: failed after 50 ms: Error: flaky (simulated); next attempt in 2.0 s",
        "attempt 2: succeeded in 10 ms",
      ]);
      await page
        .locator("#inspector-body .timeline-more")
        .getByRole("button", { name: `Show the last ${ROW_LIMIT} only` })
        .click();
      assert.equal(await rows.count(), ROW_LIMIT);
      // The instance reads meanwhile agree with the stream: it was not read a third time.
      assert.equal(answers, 2);
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
      await page.locator('#inspector-body .timeline li[data-kind="outcome"][data-state="terminated"]').waitFor();
      await page.locator('#inspector-body .timeline-stream[data-stream="ended"]').waitFor();

      // A restart starts the history over: so does the timeline.
      await button(page, "Restart").click();
      await inspected(page, id, "running").waitFor();
      await page.locator('#inspector-body .timeline li[data-kind="wait"][data-state="waiting"]').waitFor();
      const rows = await timelineRows(page);
      assert.equal(rows.filter((r) => r.label === "run: started").length, 1);
      assert.equal(rows.filter((r) => r.label.startsWith("outcome")).length, 0);
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
      const output = JSON.parse(await page.locator("#inspector-output").textContent());
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
        await page.locator("#inspector-output").textContent(),
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
