// @ts-check
import { ApiError, agentPath, call, instancePath } from "./api.js";
import { badge, byId, h, isFinished, reconcile, say, setBadge, setDisabled, setText, when } from "./dom.js";
import { createTimeline } from "./timeline.js";

/**
 * ParentWorkflow starts MyWorkflow children with deterministic ids `<parent id>-c<n>`
 * (`childIds` in src/workflows/parent-workflow.ts), so the dashboard finds them by id
 * while the parent runs, and from the parent's output once it completes. (A parent
 * id over 90 characters is hashed into its children's ids: those are known from the
 * output only.)
 * @type {Record<string, { workflow: string, id: (parent: string, n: number) => string, max: number }>}
 */
const CHILDREN = {
  "parent-workflow": { workflow: "my-workflow", id: (parent, n) => `${parent}-c${n}`, max: 50 },
};

const describe = (/** @type {unknown} */ e) => (e instanceof ApiError ? e.describe() : String(e));

/**
 * A milestone of `GET .../instances/:id` (`progress`, `milestones`): what the workflow
 * reported, recorded by the Worker. `live`: not recorded yet, seen on the Agent's socket.
 * @typedef {{ step: string, percent: number, message?: string, type?: "progress" | "complete" | "error" | "rollback", at?: string, live?: boolean }} Milestone
 */

/**
 * The open instance: its status, output or error, progress, the timeline of its run and its
 * children, and the buttons that steer it.
 * @param {import("./main.js").Dashboard} app
 */
export function createInspector(app) {
  const section = byId("inspector");
  const body = byId("inspector-body");
  const empty = byId("inspector-empty");
  /** @type {ReturnType<typeof instanceView> | null} */
  let view = null;
  return {
    /** @param {string} workflow @param {string} id @param {{ focus?: boolean }} [options] */
    open(workflow, id, { focus = true } = {}) {
      view?.close();
      view = instanceView(app, workflow, id);
      body.replaceChildren(view.root);
      body.hidden = false;
      empty.hidden = true;
      if (focus) section.focus();
      return view.refresh();
    },
    refresh: () => view?.refresh(),
    redraw: () => view?.redraw(),
    /** Poll fast while the instance can still change. */
    interval: () => (view && !isFinished(view.status()) ? 1000 : 4000),
  };
}

/**
 * @param {import("./main.js").Dashboard} app
 * @param {string} workflowName
 * @param {string} id
 */
function instanceView(app, workflowName, id) {
  const workflow = app.workflows.find((w) => w.name === workflowName);
  const approvable = workflow?.events?.some((e) => e.type === "approval") ?? false;
  const childSpec = CHILDREN[workflowName];
  /** @type {any} */
  let details = null;
  /** @type {{ id: string, status: string, outcome?: string }[] | null} */
  let children = null;

  const status = badge("loading");
  const facts = h("dl", { class: "facts" });
  const bar = h("progress", { max: 100, id: "inspector-progress" });
  const caption = h("p", { class: "caption", id: "inspector-caption" });
  const source = h("p", { class: "hint" });
  const timeline = createTimeline({
    workflow: workflowName,
    id,
    path: () => app.readPath,
    finished: () => isFinished(details?.status ?? "queued"),
    onRunEvent: () => app.refreshInstance(),
  });
  const childList = h("ul", { class: "list children", "aria-label": "Children" });
  const childNote = h("p", { class: "note" }, "Looking for children…");
  /** @type {Map<string, { li: HTMLLIElement, badge: HTMLSpanElement, outcome: HTMLSpanElement }>} */
  const childRows = new Map();
  const output = h("pre", { class: "json", id: "inspector-output", tabIndex: 0, "aria-label": "Output" });
  const outputBlock = h("div", { hidden: true }, h("h4", {}, "Output"), output);
  const errorBox = h("p", { class: "alert", hidden: true });
  const message = h("p", { class: "message", role: "status" });
  const by = h("input", { id: "approval-by", value: "dashboard", autocomplete: "off", spellcheck: false });

  const action = (/** @type {string} */ label, /** @type {() => Promise<unknown>} */ run) =>
    h("button", { type: "button", onclick: () => act(label, run) }, label);
  const statusPath = () => `${instancePath(app.readPath, workflowName, id)}/status`;
  const eventPath = () => `${instancePath(app.readPath, workflowName, id)}/events/approval`;
  const decide = (/** @type {boolean} */ approved) =>
    call("POST", eventPath(), { approved, by: by.value.trim() || "dashboard" });
  const buttons = {
    approve: action("Approve", () => decide(true)),
    reject: action("Reject", () => decide(false)),
    pause: action("Pause", () => call("PATCH", statusPath(), { status: "pause" })),
    resume: action("Resume", () => call("PATCH", statusPath(), { status: "resume" })),
    terminate: action("Terminate", () => call("PATCH", statusPath(), { status: "terminate" })),
    restart: action("Restart", () => call("PATCH", statusPath(), { status: "restart" })),
  };
  buttons.terminate.classList.add("danger");
  buttons.reject.classList.add("danger");

  const root = h(
    "div",
    { dataset: { workflow: workflowName, instanceId: id } },
    h("p", { class: "ident" }, h("code", { class: "id" }, id), " ", status),
    h(
      "div",
      { class: "overview" },
      facts,
      h(
        "div",
        {},
        h(
          "div",
          { class: "progress-block" },
          h("label", { for: "inspector-progress" }, "Progress"),
          bar,
          caption,
          source,
        ),
      ),
    ),
    h("div", { class: "timeline-section" }, h("h4", {}, "Timeline"), timeline.root),
    childSpec ? h("div", { class: "children-block" }, h("h4", {}, "Children"), childNote, childList) : null,
    errorBox,
    outputBlock,
    h(
      "div",
      { class: "actions", "data-focus-group": "" },
      approvable
        ? h(
            "fieldset",
            {},
            h("legend", {}, "Approval (event \u201capproval\u201d)"),
            h("label", { for: "approval-by" }, "Decided by"),
            by,
            h("div", { class: "buttons" }, buttons.approve, buttons.reject),
          )
        : null,
      h(
        "fieldset",
        {},
        h("legend", {}, "Control"),
        h("div", { class: "buttons" }, buttons.pause, buttons.resume, buttons.terminate, buttons.restart),
      ),
    ),
    message,
  );

  /** @param {string} label @param {() => Promise<unknown>} run */
  async function act(label, run) {
    say(message, `${label}…`);
    try {
      await run();
      say(message, `${label}: done.`);
    } catch (e) {
      say(message, `${label} failed: ${describe(e)}`, true);
    }
    // A run the Agent tracks learns of the change at once instead of at its next status cron.
    if (app.runs.has(id)) call("POST", `${agentPath(app.agentName)}/workflows/refresh`).catch(() => {});
    await refresh();
    app.refreshLists();
  }

  async function refresh() {
    try {
      // The steps come from the event stream (the timeline): the read skips them.
      details = (await call("GET", `${instancePath(app.readPath, workflowName, id)}?simple=true`)).result;
      errorBox.hidden = true;
    } catch (e) {
      if (!details) setBadge(status, "unknown");
      say(errorBox, `Could not read ${id}: ${describe(e)}`, true);
      errorBox.hidden = false;
      return;
    }
    timeline.start();
    if (childSpec) await loadChildren(childSpec);
    redraw();
  }

  /** @param {{ workflow: string, id: (parent: string, n: number) => string, max: number }} spec */
  async function loadChildren(spec) {
    const fromOutput = Array.isArray(details?.output?.children) ? details.output.children : null;
    const ids = fromOutput ? fromOutput.map((/** @type {any} */ c) => String(c.id)) : (children ?? []).map((c) => c.id);
    /** @type {any[]} instance details of each child */
    const found = [];
    const read = async (/** @type {string} */ childId) =>
      (
        await call("GET", `${instancePath(app.readPath, spec.workflow, childId)}?simple=true`, undefined, {
          log: false,
          quiet: true,
        })
      ).result;
    try {
      for (const child of await Promise.all(ids.map(read))) found.push(child);
      // Until the output lists them, look for the next child id until one does not exist.
      for (let n = found.length + 1; !fromOutput && n <= spec.max; n++) {
        try {
          found.push(await read(spec.id(id, n)));
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) break;
          throw e;
        }
      }
    } catch (e) {
      say(childNote, `Could not read the children: ${describe(e)}`, true);
      return;
    }
    children = found.map((c) => ({
      id: c.id,
      status: c.status,
      outcome: c.output?.outcome ?? fromOutput?.find((/** @type {any} */ o) => o.id === c.id)?.outcome,
    }));
  }

  function redraw() {
    if (!details) return;
    const current = details.status;
    setBadge(status, current);
    root.dataset.status = current;
    const run = app.runs.get(id);

    reconcile(facts, [
      ...fact("Workflow", workflowName),
      ...fact("Started by", details.started_by ?? "unknown"),
      ...fact("Created", when(details.created_on)),
      ...(details.ended_on ? fact("Ended", when(details.ended_on)) : []),
      ...fact("Read through", app.readPath === "http" ? "fetch with token (/http)" : "service binding (/rpc)"),
    ]);

    const reported = milestonesOf(details, run);
    const progress = progressOf(current, reported, children, app.agentName);
    if (progress.percent === null) bar.removeAttribute("value");
    else if (progress.percent !== undefined) bar.value = progress.percent;
    bar.hidden = progress.percent === undefined;
    setText(caption, progress.caption);
    setText(source, progress.source);
    timeline.sync(details);

    if (childSpec) {
      childNote.hidden = !!children?.length;
      if (children && !children.length) say(childNote, isFinished(current) ? "No children." : "No children yet.");
      reconcile(
        childList,
        (children ?? []).map((c) => {
          let row = childRows.get(c.id);
          if (!row) {
            const childBadge = badge(c.status);
            const outcome = h("span", { class: "meta" });
            const li = h(
              "li",
              { class: "instance", dataset: { instanceId: c.id } },
              h("button", { type: "button", class: "link", onclick: () => app.open(childSpec.workflow, c.id) }, c.id),
              childBadge,
              outcome,
            );
            row = { li, badge: childBadge, outcome };
            childRows.set(c.id, row);
          }
          row.li.dataset.status = c.status;
          setBadge(row.badge, c.status);
          setText(row.outcome, c.outcome ?? "");
          return row.li;
        }),
      );
    }

    const hasOutput = details.output !== undefined && details.output !== null;
    outputBlock.hidden = !hasOutput;
    if (hasOutput) setText(output, JSON.stringify(details.output, null, 2));
    if (details.error) {
      say(errorBox, `${details.error.name ?? "Error"}: ${details.error.message ?? ""}`, true);
      errorBox.hidden = false;
    }

    const finished = isFinished(current);
    const unknown = current === "unknown";
    setDisabled(buttons.approve, !unknown && (finished || current === "waitingForPause"));
    setDisabled(buttons.reject, !unknown && (finished || current === "waitingForPause"));
    setDisabled(buttons.pause, !unknown && !["queued", "running", "waiting"].includes(current));
    setDisabled(buttons.resume, !unknown && current !== "paused");
    setDisabled(buttons.terminate, !unknown && finished);
    setDisabled(buttons.restart, false);
  }

  return { root, refresh, redraw, status: () => details?.status ?? "queued", close: () => timeline.close() };
}

const fact = (/** @type {string} */ term, /** @type {string} */ value) => [h("dt", {}, term), h("dd", {}, value)];

/** The local time of day of an ISO string (a milestone's `at`). */
const clock = (/** @type {string | undefined} */ iso) => (iso ? new Date(iso).toLocaleTimeString() : "");

/**
 * The milestones of the instance read (the Worker's record, polled), plus, for a run
 * the Agent tracks, the step its socket reported last if the record does not have it
 * yet: the live update, until the next read brings it.
 * @param {any} details
 * @param {import("./agent-link.js").RunView | undefined} run
 * @returns {Milestone[]}
 */
function milestonesOf(details, run) {
  /** @type {Milestone[]} */
  const recorded = Array.isArray(details.milestones) ? details.milestones : [];
  const live = run?.progress;
  if (!live || isFinished(details.status) || recorded.some((m) => m.step === live.step)) return recorded;
  return [...recorded, { ...live, type: "progress", live: true }];
}

/**
 * What can honestly be said about progress. `percent`: a number, null for "running,
 * amount unknown" (an indeterminate bar), undefined for no bar.
 * @param {string} status
 * @param {Milestone[]} milestones
 * @param {{ status: string }[] | null} children
 * @param {string} agentName
 * @returns {{ percent: number | null | undefined, caption: string, source: string }}
 */
function progressOf(status, milestones, children, agentName) {
  const reported = milestones[milestones.length - 1];
  const fromChildren = children?.length
    ? { done: children.filter((c) => isFinished(c.status)).length, total: children.length }
    : undefined;
  if (status === "complete") {
    return {
      percent: 100,
      caption: `complete${reported?.message ? `: ${reported.message}` : ""}`,
      source: "From the instance status.",
    };
  }
  // While a parent waits, its children's statuses say more than its own last milestone.
  if (fromChildren && (!isFinished(status) || !reported)) {
    return {
      percent: Math.round((fromChildren.done / fromChildren.total) * 100),
      caption: `${status}: ${fromChildren.done} of ${fromChildren.total} children finished`,
      source: "Derived from the children's statuses.",
    };
  }
  if (reported) {
    const percent = Math.round(reported.percent * 100);
    return {
      percent,
      caption: `${isFinished(status) ? `${status}; last reported: ` : ""}${reported.step}${reported.message ? `: ${reported.message}` : ""} (${percent}%)`,
      source: reported.live
        ? `Reported live by the workflow to the Agent \u201c${agentName}\u201d that started it.`
        : `Reported by the workflow, recorded by the Worker${reported.at ? ` at ${clock(reported.at)}` : ""}.`,
    };
  }
  const statusOnly = "From the instance status only: no milestone reported.";
  if (status === "queued") return { percent: 0, caption: "queued", source: statusOnly };
  if (status === "running" || status === "waiting") return { percent: null, caption: status, source: statusOnly };
  return { percent: undefined, caption: status, source: statusOnly };
}
