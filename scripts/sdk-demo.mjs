// Drives the running Worker with the official `cloudflare` SDK, unchanged: the same
// code manages production Workflows when `baseURL` is left at its default.
//
//   npm run dev                 # in one terminal
//   npm run demo:sdk            # in another
//
// WORKER_URL (default http://localhost:8787) and API_TOKEN (default: the value in
// .dev.vars.example) choose the Worker.
import Cloudflare from "cloudflare";

const base = process.env.WORKER_URL ?? "http://localhost:8787";
const client = new Cloudflare({
  apiToken: process.env.API_TOKEN ?? "dev-token-change-me",
  baseURL: `${base}/client/v4`,
});
// Any id of the right shape: the Worker serves one account.
const account_id = process.env.CLOUDFLARE_ACCOUNT_ID ?? "local";
const workflow_name = "my-workflow";
const run = Date.now().toString(36);

const order = (n) => ({
  order_id: `sdk-${run}-${n}`,
  customer_email: "ada@example.com",
  // Above the 500.00 approval threshold: each instance waits for an approval event.
  items: [{ sku: "piano", quantity: 1, unit_price_cents: 250_000 }],
  settlement_seconds: 0,
});

for await (const workflow of client.workflows.list({ account_id })) {
  const one = await client.workflows.get(workflow.name, { account_id });
  const versions = [];
  for await (const version of client.workflows.versions.list(workflow.name, { account_id })) versions.push(version);
  const version = await client.workflows.versions.get(versions[0].id, { account_id, workflow_name: workflow.name });
  console.log(
    `${one.name}: class ${one.class_name} of ${one.script_name}, instances ${JSON.stringify(one.instances)}, version ${version.id}`,
  );
}

const since = new Date().toISOString();
const ids = [];
for (let n = 1; n <= 10; n++) {
  const instance = await client.workflows.instances.create(workflow_name, {
    account_id,
    instance_id: `sdk-${run}-${n}`,
    params: order(n),
  });
  ids.push(instance.id);
}
console.log(`created ${ids.length} instances: ${ids[0]} .. ${ids.at(-1)}`);
const bulk = [];
for await (const instance of client.workflows.instances.bulk(workflow_name, {
  account_id,
  body: [1, 2].map((n) => ({ instance_id: `sdk-${run}-bulk-${n}`, params: order(10 + n) })),
})) {
  bulk.push(instance.id);
}
console.log(`created ${bulk.length} more in one batch: ${bulk.join(", ")}`);

// Page by page, as the SDK fetches them.
let page = await client.workflows.instances.list(workflow_name, { account_id, per_page: 4, date_start: since });
for (let n = 1; ; n++) {
  const rows = page.getPaginatedItems();
  if (rows.length) console.log(`page ${n}: ${rows.map((i) => `${i.id}=${i.status}`).join(", ")}`);
  if (!page.hasNextPage()) break;
  page = await page.getNextPage();
}

const [approve, terminate] = ids;
await client.workflows.instances.events.create("approval", {
  account_id,
  workflow_name,
  instance_id: approve,
  body: { approved: true, by: "sdk-demo" },
});
console.log(`sent approval to ${approve}`);
await client.workflows.instances.status.edit(terminate, { account_id, workflow_name, status: "terminate" });
console.log(`terminated ${terminate}`);

// Give the approved order a moment to charge and ship.
for (let i = 0; i < 40; i++) {
  const { status } = await client.workflows.instances.get(approve, { account_id, workflow_name });
  if (status === "complete") break;
  await new Promise((r) => setTimeout(r, 250));
}

const statuses = {};
for await (const instance of client.workflows.instances.list(workflow_name, {
  account_id,
  per_page: 100,
  date_start: since,
})) {
  statuses[instance.status] = (statuses[instance.status] ?? 0) + 1;
}
const approved = await client.workflows.instances.get(approve, { account_id, workflow_name });
const stopped = await client.workflows.instances.get(terminate, { account_id, workflow_name });
console.log(`statuses: ${JSON.stringify(statuses)}`);
console.log(`${approve}: ${approved.status} (${JSON.stringify(approved.output)})`);
console.log(`  its ${approved.step_count} steps: ${approved.steps.map((s) => s.name ?? s.type).join(", ")}`);
const charge = await client.workflows.instances.step(approve, {
  account_id,
  workflow_name,
  name: "charge payment-1",
  type: "step",
});
console.log(`  charge payment-1: ${charge.status}, output ${JSON.stringify(charge.output)}`);
console.log(`${terminate}: ${stopped.status}`);
if (approved.status !== "complete" || stopped.status !== "terminated") process.exit(1);
