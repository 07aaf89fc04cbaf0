// @ts-check
import { ApiError, agentPath, call } from "./api.js";
import { badge, byId, h, isFinished, reconcile, relative, say, setBadge, setText, when } from "./dom.js";
import { paramsEditor } from "./params-editor.js";

const describe = (/** @type {unknown} */ e) => (e instanceof ApiError ? e.describe() : String(e));

/**
 * The WorkflowScheduler Agent: which one to watch, a form that schedules a workflow
 * (delay, date or cron), its schedules (each can be cancelled), and the runs it
 * tracks with the progress they report.
 * @param {import("./main.js").Dashboard} app
 * @param {(name: string) => void} watch switches the live link to another Agent
 */
export function createAgentPanel(app, watch) {
  const agentForm = /** @type {HTMLFormElement} */ (byId("agent-form"));
  const agentName = /** @type {HTMLInputElement} */ (byId("agent-name"));
  const form = /** @type {HTMLFormElement} */ (byId("schedule-form"));
  const message = byId("schedule-message");
  const idInput = /** @type {HTMLInputElement} */ (byId("schedule-id"));
  const inputs = {
    delay: /** @type {HTMLInputElement} */ (byId("schedule-delay")),
    at: /** @type {HTMLInputElement} */ (byId("schedule-at")),
    cron: /** @type {HTMLInputElement} */ (byId("schedule-cron")),
  };
  const schedulesNote = byId("schedules-note");
  const schedulesList = byId("schedules");
  const runsNote = byId("runs-note");
  const runsList = byId("runs");
  const editor = paramsEditor(
    /** @type {HTMLSelectElement} */ (byId("schedule-workflow")),
    /** @type {HTMLTextAreaElement} */ (byId("schedule-params")),
  );
  /** @type {any[]} */
  let schedules = [];

  agentName.value = app.agentName;
  agentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = agentName.value.trim();
    try {
      // The Worker checks the name; a bad one is refused here rather than by a socket that keeps closing.
      await call("GET", agentPath(name), undefined, { log: true });
    } catch (e) {
      say(schedulesNote, `Agent \u201c${name}\u201d: ${describe(e)}`, true);
      return;
    }
    watch(name);
    refreshSchedules();
  });

  // Only the chosen "when" is sent; the other inputs are disabled so it is clear which.
  const chosenWhen = () => /** @type {"delay" | "at" | "cron"} */ (new FormData(form).get("when") ?? "delay");
  const syncWhen = () => {
    for (const [key, input] of Object.entries(inputs)) input.disabled = key !== chosenWhen();
  };
  form.addEventListener("change", (event) => {
    if (/** @type {HTMLInputElement} */ (event.target).name === "when") syncWhen();
  });
  syncWhen();
  // Two minutes from now, in the datetime-local format (local time, no zone).
  const soon = new Date(Date.now() + 120_000);
  inputs.at.value = new Date(soon.getTime() - soon.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const workflow = editor.current();
    if (!workflow) return;
    /** @type {Record<string, unknown>} */
    const body = { workflow: workflow.name, instance_id: idInput.value.trim() || undefined };
    try {
      body.params = editor.read();
    } catch (e) {
      say(message, e instanceof Error ? e.message : String(e), true);
      return;
    }
    const kind = chosenWhen();
    if (kind === "delay") body.delay_seconds = inputs.delay.valueAsNumber;
    if (kind === "at") {
      const at = new Date(inputs.at.value);
      if (Number.isNaN(at.getTime())) return say(message, "at: pick a date and time", true);
      body.at = at.toISOString();
    }
    if (kind === "cron") body.cron = inputs.cron.value;
    say(message, "Scheduling…");
    try {
      const { result } = await call("POST", `${agentPath(app.agentName)}/schedules`, body);
      say(message, `Scheduled ${result.id}: ${scheduleText(result)}.`);
      idInput.value = "";
      refreshSchedules();
    } catch (e) {
      say(message, `Not scheduled: ${describe(e)}`, true);
    }
  });

  /** @type {Map<string, { li: HTMLLIElement, text: HTMLSpanElement }>} */
  const scheduleRows = new Map();
  async function refreshSchedules() {
    try {
      schedules = (await call("GET", `${agentPath(app.agentName)}/schedules`)).result;
    } catch (e) {
      say(schedulesNote, `Could not list schedules: ${describe(e)}`, true);
      schedulesNote.hidden = false;
      return;
    }
    schedulesNote.hidden = schedules.length > 0;
    say(schedulesNote, `No schedules on Agent \u201c${app.agentName}\u201d.`);
    reconcile(
      schedulesList,
      schedules.map((s) => {
        let row = scheduleRows.get(s.id);
        if (!row) {
          const text = h("span", { class: "grow" });
          const cancel = h("button", { type: "button", onclick: () => cancelSchedule(s.id) }, "Cancel");
          cancel.setAttribute("aria-label", `Cancel schedule ${s.id}`);
          row = { li: h("li", { class: "schedule", dataset: { scheduleId: s.id } }, text, cancel), text };
          scheduleRows.set(s.id, row);
        }
        setText(row.text, `${s.workflow} · ${scheduleText(s)}`);
        return row.li;
      }),
    );
  }

  /** @param {string} id */
  async function cancelSchedule(id) {
    try {
      await call("DELETE", `${agentPath(app.agentName)}/schedules/${encodeURIComponent(id)}`);
      say(message, `Cancelled schedule ${id}.`);
    } catch (e) {
      say(message, `Not cancelled: ${describe(e)}`, true);
    }
    await refreshSchedules();
    byId("schedule-workflow").focus();
  }

  /** @type {Map<string, { li: HTMLLIElement, badge: HTMLSpanElement, bar: HTMLProgressElement, caption: HTMLSpanElement }>} */
  const runRows = new Map();
  function redrawRuns() {
    const runs = [...app.runs.values()];
    runsNote.hidden = runs.length > 0;
    say(runsNote, "No runs yet: start one through the Agent, or schedule one.");
    reconcile(
      runsList,
      runs.map((run) => {
        let row = runRows.get(run.id);
        if (!row) {
          const runBadge = badge(run.status);
          const bar = h("progress", { max: 100 });
          const caption = h("span", { class: "meta" });
          const open = h(
            "button",
            { type: "button", class: "link", onclick: () => app.open(run.workflow, run.id) },
            run.id,
          );
          row = {
            li: h("li", { class: "run", dataset: { instanceId: run.id } }, open, runBadge, bar, caption),
            badge: runBadge,
            bar,
            caption,
          };
          runRows.set(run.id, row);
        }
        setBadge(row.badge, run.status);
        row.li.dataset.status = run.status;
        const percent = run.status === "complete" ? 100 : Math.round((run.progress?.percent ?? 0) * 100);
        row.bar.value = percent;
        row.bar.setAttribute("aria-label", `${run.id} progress ${percent}%`);
        const step = run.progress
          ? `${run.progress.step}${run.progress.message ? `: ${run.progress.message}` : ""}`
          : "";
        setText(
          row.caption,
          `${run.workflow}${run.error ? ` · ${run.error}` : isFinished(run.status) || !step ? "" : ` · ${step}`}`,
        );
        return row.li;
      }),
    );
  }

  return {
    setup: editor.setup,
    refreshSchedules,
    redrawRuns,
    /** Poll schedules often while a one-shot is about to fire. */
    interval: () =>
      schedules.some((s) => s.type !== "cron" && new Date(s.next_run_at).getTime() - Date.now() < 60_000)
        ? 1500
        : 10_000,
  };
}

/** @param {any} s a schedule: { type, delay_seconds?, cron?, next_run_at } */
function scheduleText(s) {
  const next = `${when(s.next_run_at)} (${relative(s.next_run_at)})`;
  if (s.type === "cron") return `cron \u201c${s.cron}\u201d, next ${next}`;
  if (s.type === "delayed") return `after ${s.delay_seconds} s, at ${next}`;
  return `at ${next}`;
}
