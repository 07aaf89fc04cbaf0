// @ts-check
import { AgentLink } from "./agent-link.js";
import { createAgentPanel } from "./agent-panel.js";
import { ApiError, agentPath, call, onRequest, workflowsBase } from "./api.js";
import { byId, h, say, setText } from "./dom.js";
import { createInspector } from "./inspector.js";
import { createInstanceLists } from "./instance-lists.js";
import { createStartForm } from "./start-form.js";

/**
 * @typedef {{ name: string, class_name: string, binding: string, description: string,
 *   params_schema: any, example_params: unknown, events: { type: string, payload_schema: unknown }[] }} WorkflowInfo
 * @typedef {{
 *   workflows: WorkflowInfo[],
 *   readPath: import("./api.js").Path,
 *   agentName: string,
 *   runs: Map<string, import("./agent-link.js").RunView>,
 *   selected: { workflow: string, id: string } | null,
 *   open: (workflow: string, id: string, options?: { focus?: boolean }) => void,
 *   refreshLists: () => void,
 *   refreshInstance: () => void,
 * }} Dashboard
 */

const params = new URLSearchParams(location.search);

/** @type {Dashboard} */
const app = {
  workflows: [],
  readPath: params.get("path") === "http" ? "http" : "rpc",
  agentName: params.get("agent") || "dashboard",
  runs: new Map(),
  selected: null,
  open(workflow, id, options) {
    app.selected = { workflow, id };
    history.replaceState(null, "", `${location.search}#${encodeURIComponent(workflow)}/${encodeURIComponent(id)}`);
    lists.redraw();
    inspector.open(workflow, id, options);
  },
  refreshLists: () => listsPoller.kick(),
  // The open instance's status changed (its event stream said so): read it now.
  refreshInstance: () => inspectorPoller.kick(),
};

const lists = createInstanceLists(app, byId("instance-lists"));
const inspector = createInspector(app);
const startForm = createStartForm(app);
const agentPanel = createAgentPanel(app, (name) => {
  app.agentName = name;
  const address = new URL(location.href);
  address.searchParams.set("agent", name);
  history.replaceState(null, "", address);
  app.runs.clear();
  agentPanel.redrawRuns();
  link.watch(name);
});

/**
 * Runs `task` now and then again every `interval()` ms while the page is visible;
 * `kick()` runs it at once (or right after the run in progress).
 * @param {() => unknown} task
 * @param {() => number} interval
 */
function poller(task, interval) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let running = false;
  let again = false;
  async function run() {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      if (!document.hidden) await task();
    } catch (e) {
      console.error(e);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      return run();
    }
    timer = setTimeout(run, interval());
  }
  document.addEventListener("visibilitychange", () => document.hidden || run());
  return { kick: run };
}

const listsPoller = poller(
  () => lists.refresh(),
  () => 2000,
);
const inspectorPoller = poller(
  () => inspector.refresh(),
  () => inspector.interval(),
);
/** Set once the Worker is known to have the Agent (see hasAgent below). */
let withAgent = false;
const schedulesPoller = poller(
  () => withAgent && agentPanel.refreshSchedules(),
  () => agentPanel.interval(),
);

// The Agent's state: the runs it tracks and the progress they report.
const live = byId("live");
const liveText = byId("live-text");
const liveRetry = /** @type {HTMLButtonElement} */ (byId("live-retry"));
const link = new AgentLink(
  (state) => {
    let changed = false;
    let stepped = false;
    const runs = new Map();
    for (const run of state.runs) {
      const before = app.runs.get(run.id);
      if (before?.status !== run.status) changed = true;
      // A new step of the open instance: read its recorded milestones now.
      if (run.id === app.selected?.id && before?.progress?.step !== run.progress?.step) stepped = true;
      runs.set(run.id, run);
    }
    app.runs = runs;
    agentPanel.redrawRuns();
    lists.redraw();
    inspector.redraw();
    if (changed || stepped) inspectorPoller.kick();
    if (changed) {
      listsPoller.kick();
      schedulesPoller.kick();
    }
  },
  (status) => {
    live.dataset.state = status.mode;
    liveRetry.hidden = status.mode !== "retrying";
    setText(
      liveText,
      status.mode === "live"
        ? `Live updates: connected to Agent \u201c${app.agentName}\u201d`
        : status.mode === "connecting"
          ? "Live updates: connecting…"
          : `Live updates: disconnected (${status.reason}); retrying in ${status.retryInSeconds} s, polling meanwhile`,
    );
  },
);
liveRetry.addEventListener("click", () => link.retryNow());

const readPath = /** @type {HTMLSelectElement} */ (byId("read-path"));
readPath.value = app.readPath;
readPath.addEventListener("change", () => {
  app.readPath = readPath.value === "http" ? "http" : "rpc";
  listsPoller.kick();
  inspectorPoller.kick();
});

// Requests the page made: what each button did, through which path, and the answer.
const requestsList = byId("requests-list");
let requestCount = 0;
onRequest((r) => {
  setText(byId("requests-count"), String(++requestCount));
  requestsList.prepend(
    h(
      "li",
      { class: r.error ? "error" : "" },
      h("code", {}, `${r.method} ${r.path}`),
      ` \u2192 ${r.status || "no answer"} (${r.ms} ms)`,
      r.error ? `: ${r.error}` : "",
    ),
  );
  while (requestsList.children.length > 50) requestsList.lastElementChild?.remove();
});

/** Loads the workflows (names, schemas, examples), retrying until the Worker answers. */
async function loadWorkflows() {
  const note = byId("workflows-note");
  for (let attempt = 1; ; attempt++) {
    try {
      const { result } = await call("GET", workflowsBase(app.readPath));
      note.hidden = true;
      return /** @type {WorkflowInfo[]} */ (result);
    } catch (e) {
      say(note, `Could not load the workflows: ${e instanceof ApiError ? e.describe() : e}. Retrying…`, true);
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
}

/**
 * Whether the Worker has the Agent: a Worker it was removed from (npm run remove -- agent)
 * answers its routes with 404. Anything else, a failure included, counts as having it.
 */
async function hasAgent() {
  try {
    await call("GET", agentPath(app.agentName), undefined, { quiet: true });
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 404);
  }
}

app.workflows = await loadWorkflows();
lists.setup(app.workflows);
startForm.setup(app.workflows);
listsPoller.kick();
inspectorPoller.kick();
withAgent = await hasAgent();
if (withAgent) {
  agentPanel.setup(app.workflows);
  schedulesPoller.kick();
  link.watch(app.agentName);
} else {
  // Without the Agent, its panels and the start form's "through the Agent" go.
  for (const element of document.querySelectorAll("[data-part=agent]")) {
    if (element instanceof HTMLElement) element.hidden = true;
  }
}

// #workflow/id opens that instance (the address of an open instance can be shared).
function openFromHash() {
  const [workflow, id] = location.hash.slice(1).split("/").map(decodeURIComponent);
  if (workflow && id && app.workflows.some((w) => w.name === workflow)) app.open(workflow, id, { focus: false });
}
addEventListener("hashchange", openFromHash);
openFromHash();
