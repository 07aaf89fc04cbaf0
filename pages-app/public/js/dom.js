// @ts-check
/**
 * DOM helpers. Data from the Worker is only ever set as text (textContent, text
 * nodes, attribute values): nothing here parses HTML, so an instance id, an error
 * message or an output cannot inject markup.
 */

/**
 * Creates an element. `props`: `class`, `dataset`, `on<event>` listeners, DOM
 * properties (`value`, `disabled`, `type`, ...) or attributes (`aria-*`, `role`, ...).
 * Children: nodes, or strings and numbers (added as text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | number | null | undefined | false)[] | Node | string | number | null | undefined | false} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key.includes("-") || key === "role" || key === "for")
      el.setAttribute(key, value === true ? "" : String(value));
    else Reflect.set(el, key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
}

/** @param {string} id */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/** Sets text only when it changed (keeps screen readers from re-announcing). */
export function setText(/** @type {Element} */ el, /** @type {string} */ text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Puts `nodes` into `parent` in order, moving only what is out of place: a node that
 * stays put keeps its focus and state across a refresh.
 * @param {Element} parent
 * @param {Element[]} nodes
 */
export function reconcile(parent, nodes) {
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild?.remove();
}

/**
 * Enables or disables a button. If the button had focus, focus moves to the next
 * enabled button of its group instead of falling back to the page.
 * @param {HTMLButtonElement} button
 * @param {boolean} disabled
 */
export function setDisabled(button, disabled) {
  if (button.disabled === disabled) return;
  const hadFocus = document.activeElement === button;
  button.disabled = disabled;
  if (hadFocus && disabled) {
    const group = button.closest("[data-focus-group]");
    const next = group && /** @type {HTMLButtonElement | null} */ (group.querySelector("button:not([disabled])"));
    next?.focus();
  }
}

/** A status badge: the status as text, its colour from CSS. */
export const badge = (/** @type {string} */ status) => h("span", { class: "badge", dataset: { status } }, status);

/** Updates a badge made by `badge`. */
export function setBadge(/** @type {HTMLElement} */ el, /** @type {string} */ status) {
  el.dataset.status = status;
  setText(el, status);
}

export const FINISHED = ["complete", "errored", "terminated"];
export const isFinished = (/** @type {string} */ status) => FINISHED.includes(status);

/** Local date and time of an ISO string, or "" for none. */
export function when(/** @type {string | null | undefined} */ iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/** "in 4 s", "3 min ago". */
export function relative(/** @type {string} */ iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] =
    abs < 90
      ? [seconds, "second"]
      : abs < 5400
        ? [Math.round(seconds / 60), "minute"]
        : abs < 129600
          ? [Math.round(seconds / 3600), "hour"]
          : [Math.round(seconds / 86400), "day"];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" }).format(
    value,
    /** @type {Intl.RelativeTimeFormatUnit} */ (unit),
  );
}

/** Shows a message in a status line; `error` styles it and makes it an alert. */
export function say(/** @type {HTMLElement} */ el, /** @type {string} */ text, error = false) {
  el.classList.toggle("error", error);
  el.setAttribute("role", error ? "alert" : "status");
  setText(el, text);
}
