// @ts-check
import { ApiError, call, instancePath } from "./api.js";
import { h, setText } from "./dom.js";

/**
 * The run as the platform records it: the instance's event stream (`GET .../instances/:id/subscribe`,
 * Server-Sent Events of the platform's WorkflowInstanceEvent objects, history first, then live),
 * drawn as a timeline that grows by one row or one line per event. Each `step.do` with its
 * attempts, each sleep with its wake time, each wait with its event type, each rollback handler,
 * and the outcome.
 *
 * The EventSource reconnects by itself after a dropped stream or the stream's maximum duration,
 * sending the last `id:` it saw as Last-Event-ID, so the stream resumes after it; an event that
 * comes twice anyway is skipped by its eventId. The stream closes on `event: end` (the instance
 * ended) and when the instance view goes.
 */

/** Rows drawn at most until "Show all": a 1,000-step run stays as cheap to draw as a 100-step one. */
export const ROW_LIMIT = 100;

/** How long the stream must be quiet before new rows are announced (the history has been drawn). */
const QUIET_MS = 300;

/** The platform's event types (WorkflowInstanceEvent), each an SSE `event:` name of the stream. */
const EVENT_TYPES = [
  "workflow_queued",
  "workflow_started",
  "workflow_running",
  "workflow_paused",
  "workflow_waiting_for_pause",
  "workflow_waiting",
  "workflow_completed",
  "workflow_errored",
  "workflow_terminated",
  "step_started",
  "step_completed",
  "step_errored",
  "attempt_started",
  "attempt_completed",
  "attempt_errored",
  "sleep_started",
  "sleep_completed",
  "wait_started",
  "wait_completed",
  "wait_timed_out",
  "rollback_started",
  "rollback_step_started",
  "rollback_step_completed",
  "rollback_step_errored",
  "rollback_attempt_started",
  "rollback_attempt_completed",
  "rollback_attempt_errored",
  "rollback_completed",
  "rollback_errored",
];

/**
 * One event of the stream: the fields of WorkflowInstanceEvent (worker-configuration.d.ts).
 * @typedef {{ eventId: number, timestamp: number, type: string, stepName?: string, attempt?: number,
 *   retryDelayMs?: number, error?: { name: string, message: string }, durationMs?: number,
 *   eventType?: string, output?: unknown, config?: StepConfig }} RunEvent
 * @typedef {{ retries: { limit: number, delay: string | number, backoff?: string }, timeout: string | number }} StepConfig
 * @typedef {{ li: HTMLLIElement, state: HTMLElement, detail: HTMLElement, start: number,
 *   body?: HTMLDivElement, attempts?: HTMLOListElement, attemptRows?: Map<number, { li: HTMLLIElement, start: number }>,
 *   wake?: number, eventType?: string }} Row
 * @typedef {"connecting" | "live" | "reconnecting" | "ended" | "closed"} StreamState
 */

/**
 * @param {{ workflow: string, id: string, path: () => import("./api.js").Path,
 *   finished: () => boolean, onRunEvent: () => void }} options
 *   path: the calling path chosen in the header; finished: whether the instance read says the
 *   run ended; onRunEvent: a workflow-level event came (its status changed)
 */
export function createTimeline({ workflow, id, path, finished, onRunEvent }) {
  const list = h("ol", {
    class: "timeline",
    "aria-label": "Timeline of the run",
    "aria-live": "polite",
    "aria-relevant": "additions",
    // Quiet while the history replays; new steps are announced once it has.
    "aria-busy": "true",
  });
  const scroller = h("div", { class: "timeline-scroll", role: "region", tabIndex: 0, "aria-label": "Timeline" }, list);
  const streamText = h("span", {});
  const reconnect = h(
    "button",
    { type: "button", class: "link", hidden: true, onclick: () => open(lastId) },
    "Reconnect",
  );
  const stream = h(
    "p",
    { class: "hint timeline-stream", dataset: { stream: "connecting" } },
    streamText,
    " ",
    reconnect,
  );
  const moreText = h("span", {});
  const toggle = h("button", { type: "button", class: "link", onclick: () => showAll(!all) });
  const more = h("p", { class: "hint timeline-more", hidden: true }, moreText, " ", toggle);
  const root = h("div", { class: "timeline-block" }, stream, more, scroller);

  /** @type {EventSource | null} */
  let source = null;
  /** @type {import("./api.js").Path} */
  let sourcePath = path();
  let started = false;
  let lastId = 0;
  /** Whether the last instance read found the run ended: running again after it means a restart. */
  let wasFinished = false;
  /** When the outcome drawn happened, and the run's end time the timeline was last read again for. */
  /** @type {number | null} */
  let outcomeAt = null;
  /** @type {number | null} */
  let readAgainFor = null;
  /** The run's workflow_queued time: another one means the instance was restarted. */
  /** @type {number | null} */
  let queued = null;
  /** @type {Row[]} */
  let rows = [];
  /** @type {Map<string, Row>} */
  let byKey = new Map();
  let all = false;
  let paused = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let quiet;
  /** @type {number | undefined} */
  let busySince;
  let lastEventAt = 0;
  /** @type {Set<Row>} */
  const sleeping = new Set();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  let frame = 0;

  /** @param {StreamState} state @param {string} text */
  function setStream(state, text) {
    stream.dataset.stream = state;
    setText(streamText, text);
    reconnect.hidden = state !== "closed";
  }

  /** Opens the stream, after `cursor` (the last event id held) if given. */
  function open(cursor = 0) {
    shut();
    started = true;
    sourcePath = path();
    const url = `${instancePath(sourcePath, workflow, id)}/subscribe${cursor ? `?cursor=${cursor}` : ""}`;
    const es = new EventSource(url);
    source = es;
    setStream("connecting", "Connecting to the run's event stream…");
    es.onopen = () =>
      setStream("live", `Live from the platform's event stream (${sourcePath === "http" ? "/http" : "/rpc"}).`);
    es.onerror = () => {
      if (es !== source) return;
      if (es.readyState === EventSource.CONNECTING) {
        setStream("reconnecting", "Event stream interrupted; reconnecting from the last event…");
        return;
      }
      // Closed for good: a 204 (an ended run with nothing after the last event) or an error answer.
      source = null;
      if (finished()) setStream("ended", "The run has ended: this is its whole history.");
      else setStream("closed", "The event stream closed.");
    };
    for (const type of EVENT_TYPES) es.addEventListener(type, receive);
    es.addEventListener("end", () => {
      if (es !== source) return;
      shut();
      setStream("ended", "The run has ended: this is its whole history.");
    });
  }

  function shut() {
    source?.close();
    source = null;
  }

  /** @param {Event} message */
  function receive(message) {
    if (!(message instanceof MessageEvent)) return;
    /** @type {RunEvent} */
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    // After a reconnect, an event already drawn may come again.
    if (!(event.eventId > lastId)) return;
    lastId = event.eventId;
    nextFrame();
    apply(event);
    if (list.hasAttribute("aria-busy")) {
      lastEventAt = Date.now();
      busySince ??= lastEventAt;
      quiet ??= setTimeout(settle, QUIET_MS);
    }
    if (event.type.startsWith("workflow_")) onRunEvent();
  }

  /**
   * The history comes as a burst: rows are announced once it has been quiet for QUIET_MS (or
   * after a few seconds of a run that never pauses).
   */
  function settle() {
    const now = Date.now();
    const idle = now - lastEventAt;
    quiet = undefined;
    if (idle >= QUIET_MS || now - (busySince ?? now) > 3000) list.removeAttribute("aria-busy");
    else quiet = setTimeout(settle, QUIET_MS - idle);
  }

  /** @param {RunEvent} e */
  function apply(e) {
    const name = e.stepName ?? "";
    switch (e.type) {
      case "workflow_queued":
        queued = e.timestamp;
        break;
      case "workflow_started":
        add(`run:${e.eventId}`, e.timestamp, "run", "", "started");
        break;
      case "workflow_waiting_for_pause":
      case "workflow_paused": {
        paused = true;
        const row = byKey.get("run:pause") ?? add("run:pause", e.timestamp, "run", "", "");
        setState(row, e.type === "workflow_paused" ? "paused" : "pausing");
        break;
      }
      case "workflow_running":
        // The first one starts the run; one after a pause is its resume.
        if (!paused) break;
        paused = false;
        byKey.delete("run:pause");
        add(`run:${e.eventId}`, e.timestamp, "run", "", "resumed");
        break;
      case "workflow_completed":
        outcomeAt = e.timestamp;
        add("outcome", e.timestamp, "outcome", "", "completed", summary(e.output), "complete");
        break;
      case "workflow_errored":
        outcomeAt = e.timestamp;
        add("outcome", e.timestamp, "outcome", "", "errored", errorText(e.error));
        break;
      case "workflow_terminated":
        outcomeAt = e.timestamp;
        add("outcome", e.timestamp, "outcome", "", "terminated");
        break;

      case "step_started":
      case "rollback_step_started": {
        const kind = kindOf(e);
        const row = add(`${kind}:${name}`, e.timestamp, kind, name, "running");
        row.li.dataset.step = name;
        row.attempts = h("ol", { class: "attempts", "aria-label": "Attempts" });
        row.attemptRows = new Map();
        row.body = h(
          "div",
          { class: "body" },
          row.attempts,
          e.config ? h("span", { class: "config" }, configText(e.config)) : null,
        );
        row.li.append(row.body);
        break;
      }
      case "attempt_started":
      case "rollback_attempt_started": {
        const row = byKey.get(`${kindOf(e)}:${name}`);
        if (!row?.attempts || !row.attemptRows) break;
        const n = e.attempt ?? row.attemptRows.size + 1;
        const li = h("li", { dataset: { attempt: String(n), state: "running" } }, `attempt ${n}: running`);
        row.attemptRows.set(n, { li, start: e.timestamp });
        row.attempts.append(li);
        setState(row, "running", "");
        break;
      }
      case "attempt_completed":
      case "attempt_errored":
      case "rollback_attempt_completed":
      case "rollback_attempt_errored": {
        const row = byKey.get(`${kindOf(e)}:${name}`);
        const attempt = row?.attemptRows?.get(e.attempt ?? 0);
        if (!row || !attempt) break;
        const took = duration(e.timestamp - attempt.start);
        if (e.type.endsWith("completed")) {
          attempt.li.dataset.state = "done";
          setText(attempt.li, `attempt ${e.attempt}: succeeded in ${took}`);
          break;
        }
        attempt.li.dataset.state = "failed";
        const delay = e.retryDelayMs;
        const retry = delay !== undefined ? `; next attempt in ${duration(delay)}` : "";
        setText(attempt.li, `attempt ${e.attempt}: failed after ${took}: ${errorText(e.error)}${retry}`);
        if (delay !== undefined) setState(row, "retrying", `in ${duration(delay)}`);
        break;
      }
      case "step_completed":
      case "step_errored":
      case "rollback_step_completed":
      case "rollback_step_errored": {
        const row = byKey.get(`${kindOf(e)}:${name}`);
        if (!row) break;
        const ok = e.type.endsWith("completed");
        setState(row, ok ? "done" : "failed", `${ok ? "in" : "after"} ${duration(e.timestamp - row.start)}`);
        if (e.type === "rollback_step_errored") row.body?.append(h("span", { class: "error" }, errorText(e.error)));
        if (e.type === "step_completed") row.attempts?.after(outputToggle(name));
        break;
      }

      case "sleep_started": {
        const row = add(`sleep:${name}`, e.timestamp, "sleep", name, "sleeping");
        row.wake = e.timestamp + (e.durationMs ?? 0);
        row.li.dataset.wake = new Date(row.wake).toISOString();
        sleeping.add(row);
        tick();
        break;
      }
      case "sleep_completed": {
        const row = byKey.get(`sleep:${name}`);
        if (!row) break;
        sleeping.delete(row);
        tick();
        setState(row, "done");
        row.detail.replaceChildren("woke at ", clockOf(e.timestamp), ` after ${duration(e.timestamp - row.start)}`);
        break;
      }
      case "wait_started": {
        // The wait's timeout is not in the event: only its type.
        const row = add(`wait:${name}`, e.timestamp, "wait", name, "waiting", `for ${e.eventType}`);
        row.eventType = e.eventType;
        row.li.dataset.eventType = e.eventType ?? "";
        break;
      }
      case "wait_completed":
      case "wait_timed_out": {
        const row = byKey.get(`wait:${name}`);
        if (!row) break;
        const waited = duration(e.timestamp - row.start);
        if (e.type === "wait_completed") setState(row, "done", `\u201c${row.eventType}\u201d received after ${waited}`);
        else setState(row, "timed out", `waiting for ${row.eventType}, after ${waited}`);
        break;
      }

      case "rollback_started":
        add(`run:${e.eventId}`, e.timestamp, "run", "", "rollback started", "(handlers run newest first)", "started");
        break;
      case "rollback_completed":
        add(`run:${e.eventId}`, e.timestamp, "run", "", "rollback complete", "", "done");
        break;
      case "rollback_errored":
        add(`run:${e.eventId}`, e.timestamp, "run", "", "rollback failed", "", "failed");
        break;
    }
  }

  /**
   * A new row at the end. Past ROW_LIMIT, the oldest drawn row leaves the list (it is kept,
   * for "Show all").
   * @param {string} key @param {number} at @param {string} kind @param {string} stepName
   * @param {string} stateText @param {string} [detailText] @param {string} [dataState]
   * @returns {Row}
   */
  function add(key, at, kind, stepName, stateText, detailText = "", dataState = stateText) {
    const state = h("span", { class: "state" }, stateText);
    const detail = h("span", { class: "detail" }, detailText);
    const name = stepName ? h("span", { class: "name" }, labelOf(stepName)) : "";
    const kindText = h("span", { class: "kind" }, KIND_TEXT[kind] ?? kind);
    const status = h("span", { class: "status" }, state, " ", detail);
    const head = h("div", { class: "head" }, clockOf(at), " ", kindText, " ", name, " ", status);
    const li = h("li", { dataset: { kind, state: dataState } }, head);
    /** @type {Row} */
    const row = { li, state, detail, start: at };
    byKey.set(key, row);
    rows.push(row);
    list.append(li);
    if (!all && list.children.length > ROW_LIMIT) list.firstElementChild?.remove();
    return row;
  }

  /** @param {Row} row @param {string} text @param {string} [detail] @param {string} [dataState] */
  function setState(row, text, detail, dataState = text.replace(" ", "-")) {
    row.li.dataset.state = dataState;
    setText(row.state, text);
    if (detail !== undefined) setText(row.detail, detail);
  }

  function updateMore() {
    const hidden = rows.length - list.children.length;
    more.hidden = rows.length <= ROW_LIMIT;
    setText(moreText, all ? `All ${rows.length} rows shown.` : `${hidden} earlier rows not shown.`);
    setText(toggle, all ? `Show the last ${ROW_LIMIT} only` : `Show all ${rows.length}`);
  }

  /** @param {boolean} show */
  function showAll(show) {
    all = show;
    list.replaceChildren(...(all ? rows : rows.slice(-ROW_LIMIT)).map((r) => r.li));
    updateMore();
  }

  /**
   * Once a frame, however many events came: the "rows not shown" line, and the newest row kept
   * in view while the reader is at the bottom (measured before the frame's first change).
   */
  function nextFrame() {
    if (frame) return;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    frame = requestAnimationFrame(() => {
      frame = 0;
      updateMore();
      if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    });
  }

  /** Counts down to each sleep's wake time, once a second while one sleeps. */
  function tick() {
    for (const row of sleeping) {
      if (!row.wake) continue;
      const left = row.wake - Date.now();
      row.detail.replaceChildren("until ", clockOf(row.wake), left > 0 ? ` (in ${duration(left, true)})` : "");
    }
    if (sleeping.size && !ticker) ticker = setInterval(tick, 1000);
    if (!sleeping.size && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  /**
   * A completed step's full output, read on demand (`GET .../step?name=`): the stream carries it
   * too, but a row keeps only what it shows.
   * @param {string} stepName
   */
  function outputToggle(stepName) {
    const label = labelOf(stepName);
    const pre = h("pre", { class: "json", hidden: true, tabIndex: 0, "aria-label": `Output of ${label}` });
    const button = h(
      "button",
      {
        type: "button",
        class: "link output",
        "aria-expanded": "false",
        "aria-label": `output of ${label}`,
        onclick: async () => {
          const open = button.getAttribute("aria-expanded") !== "true";
          button.setAttribute("aria-expanded", String(open));
          pre.hidden = !open;
          if (!open || pre.dataset.loaded) return;
          pre.textContent = "Loading…";
          const query = new URLSearchParams({ name: stepName, type: "step" });
          try {
            const { result } = await call("GET", `${instancePath(path(), workflow, id)}/step?${query}`);
            pre.textContent = JSON.stringify(result.output, null, 2) ?? "undefined";
            pre.dataset.loaded = "true";
          } catch (error) {
            pre.textContent = `Could not read the output: ${error instanceof ApiError ? error.describe() : error}`;
          }
        },
      },
      "output",
    );
    return h("div", { class: "output" }, button, pre);
  }

  /** Drops every row and reads the history again from its start. */
  function reset() {
    rows = [];
    byKey = new Map();
    sleeping.clear();
    tick();
    lastId = 0;
    queued = null;
    outcomeAt = null;
    paused = false;
    list.replaceChildren();
    list.setAttribute("aria-busy", "true");
    busySince = undefined;
    clearTimeout(quiet);
    quiet = undefined;
    updateMore();
    open();
  }

  return {
    root,
    /** Opens the stream the first time; later calls do nothing. */
    start() {
      if (!started) open();
    },
    /**
     * Follows the instance read. A run queued at another time than the one drawn, running again
     * after it ended, or ended at another time than the outcome drawn, was restarted: a full restart starts its history over, a restart
     * from a step replaces the events from that step on (their ids counting on from the kept
     * ones), so the timeline reads it again from the start. A new calling path chosen in the
     * header takes the stream from the last event held.
     * @param {{ queued?: string | null, end?: string | null }} details
     */
    sync(details) {
      const queuedAt = details.queued ? Date.parse(details.queued) : null;
      const endAt = details.end ? Date.parse(details.end) : null;
      const ended = finished();
      const restarted =
        (queuedAt !== null && queued !== null && queuedAt !== queued) ||
        (wasFinished && !ended) ||
        (ended && endAt !== null && outcomeAt !== null && endAt !== outcomeAt && endAt !== readAgainFor);
      wasFinished = ended;
      if (started && restarted) {
        // Read again once for a given end time, whatever the stream says then: never in a loop.
        readAgainFor = endAt;
        return reset();
      }
      if (source && sourcePath !== path()) open(lastId);
      if (!source && stream.dataset.stream === "closed" && finished())
        setStream("ended", "The run has ended: this is its whole history.");
    },
    reset,
    /** Closes the stream (the instance view goes). */
    close() {
      shut();
      sleeping.clear();
      tick();
      clearTimeout(quiet);
    },
  };
}

/** Rows of the run as a whole (its start, pause, rollback) and its outcome say "run". */
/** @type {Record<string, string>} */
const KIND_TEXT = { outcome: "run" };

/** @param {RunEvent} e */
const kindOf = (e) => (e.type.startsWith("rollback") ? "rollback" : "step");

/**
 * A step's name as the platform records it (`charge payment-1`: its name and which call of that
 * name it is), as the timeline shows it: the name, with the count when it is not the first.
 * @param {string} stepName
 */
function labelOf(stepName) {
  const match = /^(.*)-(\d+)$/.exec(stepName);
  if (!match) return stepName;
  return match[2] === "1" ? match[1] : `${match[1]} (#${match[2]})`;
}

/** @param {number} ms */
const clockOf = (ms) => {
  const date = new Date(ms);
  return h("time", { dateTime: date.toISOString() }, CLOCK.format(date));
};

/** One formatter for every row (toLocaleTimeString would make one per call). */
const CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** "70 ms", "1.2 s", "3 min 5 s"; `whole`: seconds without tenths (a countdown). */
function duration(/** @type {number} */ ms, whole = false) {
  if (ms < 1000 && !whole) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return whole ? `${Math.ceil(s)} s` : `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** @param {{ name: string, message: string } | undefined} error */
const errorText = (error) => (error ? `${error.name}: ${error.message}` : "unknown error");

/** A config's delay or timeout: the platform gives a number of ms or a duration string. */
const span = (/** @type {string | number} */ value) => (typeof value === "number" ? duration(value) : value);

/** @param {StepConfig} config */
function configText(config) {
  const { limit, delay, backoff } = config.retries;
  const retries = limit
    ? `retries: up to ${limit}, delay ${delay === "[dynamic]" ? "computed per attempt" : span(delay)}${backoff ? ` ${backoff}` : ""}`
    : "no retries";
  return `${retries} \u00b7 timeout ${span(config.timeout)}`;
}

/** The run's output in a line: its JSON, cut. */
function summary(/** @type {unknown} */ output) {
  if (output === undefined || output === null) return "no output";
  const json = JSON.stringify(output) ?? String(output);
  return json.length > 160 ? `${json.slice(0, 159)}\u2026` : json;
}
