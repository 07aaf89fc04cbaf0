// Takes docs/dashboard.png: the dashboard with workflows in progress, on the same stack
// as the e2e tests (`wrangler dev` + `wrangler pages dev`, their own state, Chromium).
//
//   npm run docs:screenshot
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { apiClient, sleep } from "./lib/dev-server.mjs";
import { launchChromium, startStack } from "./lib/stack.mjs";

const out = fileURLToPath(new URL("../docs/dashboard.png", import.meta.url));
const order = (order_id, unit_price_cents, extra = {}) => ({
  order_id,
  customer_email: "ada@example.com",
  items: [{ sku: "book-42", quantity: 1, unit_price_cents }],
  ...extra,
});

const stack = await startStack();
let browser;
try {
  const api = apiClient(stack.worker.baseUrl, stack.token);
  const create = async (workflow, body) => {
    const res = await api("POST", `/api/workflows/${workflow}/instances`, body);
    if (res.status !== 201) throw new Error(`create ${body.instance_id}: ${res.status} ${res.text}`);
  };
  const agent = (path, body) =>
    fetch(`${stack.pages.baseUrl}/worker/agents/workflow-scheduler/dashboard${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.pages.keyHeader },
      body: JSON.stringify(body),
    });

  // Some history: finished orders, a terminated one, a parent whose children wait for approval.
  await create("my-workflow", { instance_id: "order-1001", params: order("A-1001", 1999) });
  await create("my-workflow", { instance_id: "order-1002", params: order("A-1002", 4500) });
  await create("my-workflow", { instance_id: "order-1003", params: order("A-1003", 250_000) });
  await api("PATCH", "/api/workflows/my-workflow/instances/order-1003/status", { status: "terminate" });
  await create("parent-workflow", {
    instance_id: "batch-7",
    params: { batch_id: "B-7", customer_email: "ops@example.com", children: 3, approval_threshold_cents: 0 },
  });
  await agent("/workflows", { workflow: "my-workflow", instance_id: "order-1004", params: order("A-1004", 1250) });
  await agent("/schedules", { workflow: "my-workflow", params: order("nightly", 999), cron: "0 2 * * *" });
  await agent("/schedules", {
    workflow: "parent-workflow",
    params: { batch_id: "B-8", customer_email: "ops@example.com" },
    delay_seconds: 3600,
  });
  await sleep(6000);

  browser = await launchChromium();
  await browser.context.addCookies([stack.pages.keyCookie]);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto(`${stack.pages.baseUrl}/`);
  await page.locator('#live[data-state="live"]').waitFor();

  // Started from the page, through the Agent: its steps arrive live over the WebSocket.
  await page.fill("#start-id", "order-1042");
  await page.fill("#start-params", JSON.stringify(order("A-1042", 84_900), null, 2));
  await page.check("#start-form input[name=via][value=agent]");
  await page.click("#start-form button[type=submit]");
  await page.locator("#inspector-caption", { hasText: "wait for approval" }).waitFor({ timeout: 30_000 });
  await page.locator('#instance-lists li[data-instance-id="batch-7-c3"]').waitFor();
  await sleep(2500);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.locator("#start-id").blur();
  mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  await stack.stop();
}
