// @ts-check
import { ApiError, call, instancePath } from "./api.js";
import { badge, h, isFinished, reconcile, say, setBadge, setDisabled, setText, when } from "./dom.js";

const PER_PAGE = 8;
const STATUSES = ["queued", "running", "waiting", "paused", "waitingForPause", "complete", "errored", "terminated"];

/**
 * One list per workflow, from the Worker's instance listing
 * (GET /workflows/:name/instances, newest first, a page at a time). Rows are kept
 * by id and updated in place, so a refresh does not steal keyboard focus.
 * @param {import("./main.js").Dashboard} app
 * @param {HTMLElement} container
 */
export function createInstanceLists(app, container) {
  /** @type {ReturnType<typeof instanceList>[]} */
  let lists = [];
  return {
    /** @param {import("./main.js").WorkflowInfo[]} workflows */
    setup(workflows) {
      lists = workflows.map((workflow) => instanceList(app, workflow));
      container.replaceChildren(...lists.map((l) => l.section));
    },
    refresh: () => Promise.all(lists.map((l) => l.refresh())),
    /** Marks the open instance and redraws agent progress. */
    redraw: () => {
      for (const l of lists) l.redraw();
    },
  };
}

/**
 * @param {import("./main.js").Dashboard} app
 * @param {import("./main.js").WorkflowInfo} workflow
 */
function instanceList(app, workflow) {
  let page = 1;
  let totalPages = 1;
  let loaded = false;
  /** The last page's query and ETag: polling the same page again answers 304 if nothing changed. */
  let last = { query: "", etag: /** @type {string | undefined} */ (undefined) };
  /** @type {Map<string, ReturnType<typeof row>>} */
  const rows = new Map();
  const titleId = `list-${workflow.name}`;
  const count = h("span", { class: "count" });
  const filter = h(
    "select",
    {
      onchange: () => {
        page = 1;
        refresh();
      },
    },
    h("option", { value: "" }, "all"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const note = h("p", { class: "note", role: "status" }, "Loading…");
  const ul = h("ul", { class: "list instances", "aria-labelledby": titleId });
  const newer = h(
    "button",
    {
      type: "button",
      onclick: () => {
        page = Math.max(1, page - 1);
        refresh();
      },
    },
    "Newer",
  );
  const older = h(
    "button",
    {
      type: "button",
      onclick: () => {
        page += 1;
        refresh();
      },
    },
    "Older",
  );
  const pageText = h("span", { class: "hint" });
  const pager = h(
    "nav",
    { class: "pager", "aria-label": `${workflow.name} pages`, hidden: true },
    newer,
    pageText,
    older,
  );
  const section = h(
    "section",
    { class: "card", "aria-labelledby": titleId, dataset: { workflow: workflow.name } },
    h(
      "div",
      { class: "card-head" },
      h("h3", { id: titleId }, workflow.name, " ", count),
      h("label", { class: "inline" }, "Status ", filter),
    ),
    h("p", { class: "hint", title: workflow.description }, `${workflow.class_name}, binding ${workflow.binding}`),
    note,
    ul,
    pager,
  );

  /** @param {any} item a listing entry: { id, status, started_by, created_on, ended_on, ... } */
  function row(item) {
    const open = h(
      "button",
      { type: "button", class: "link", onclick: () => app.open(workflow.name, item.id) },
      item.id,
    );
    const status = badge(item.status);
    const meta = h("span", { class: "meta" });
    const bar = h("progress", { max: 100, hidden: true });
    const li = h("li", { class: "instance", dataset: { instanceId: item.id } }, open, status, meta, bar);
    const update = (/** @type {any} */ next) => {
      item = next;
      setBadge(status, item.status);
      li.dataset.status = item.status;
      setText(meta, `by ${item.started_by ?? "?"} · ${when(item.created_on)}`);
      const selected = app.selected?.workflow === workflow.name && app.selected.id === item.id;
      if (selected) open.setAttribute("aria-current", "true");
      else open.removeAttribute("aria-current");
      // Progress is known only for runs the Agent started (they report it).
      const run = app.runs.get(item.id);
      const percent = isFinished(item.status) ? undefined : run?.progress?.percent;
      bar.hidden = percent === undefined;
      if (percent !== undefined) {
        bar.value = Math.round(percent * 100);
        bar.setAttribute("aria-label", `${item.id}: ${run?.progress?.step} ${bar.value}%`);
      }
    };
    update(item);
    return { li, update, item: () => item };
  }

  async function refresh() {
    const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
    if (filter.value) query.set("status", filter.value);
    const path = `${instancePath(app.readPath, workflow.name)}?${query}`;
    let page_;
    try {
      page_ = await call("GET", path, undefined, { etag: last.query === path ? last.etag : undefined });
    } catch (e) {
      say(note, `Could not list ${workflow.name} instances: ${e instanceof ApiError ? e.describe() : e}`, true);
      note.hidden = false;
      return;
    }
    if (page_.notModified) return;
    last = { query: path, etag: page_.etag };
    const { result, info } = page_;
    loaded = true;
    totalPages = Math.max(1, info?.total_pages ?? 1);
    if (page > totalPages) {
      page = totalPages;
      return refresh();
    }
    const nodes = result.map((/** @type {any} */ item) => {
      const existing = rows.get(item.id);
      if (existing) {
        existing.update(item);
        return existing.li;
      }
      const r = row(item);
      rows.set(item.id, r);
      return r.li;
    });
    for (const id of rows.keys()) if (!result.some((/** @type {any} */ i) => i.id === id)) rows.delete(id);
    reconcile(ul, nodes);
    setText(count, `(${info?.total_count ?? result.length})`);
    const empty = result.length === 0;
    note.hidden = !empty;
    if (empty) say(note, filter.value ? `No ${filter.value} instances.` : "No instances yet: start one with the form.");
    pager.hidden = totalPages <= 1;
    setText(pageText, `page ${page} of ${totalPages}`);
    setDisabled(newer, page <= 1);
    setDisabled(older, page >= totalPages);
  }

  function redraw() {
    if (!loaded) return;
    for (const r of rows.values()) r.update(r.item());
  }

  return { section, refresh, redraw };
}
