// @ts-check

/**
 * A workflow picker and a JSON params textarea, prefilled with the workflow's
 * `example_params` (from GET /workflows) whenever the workflow changes.
 * @param {HTMLSelectElement} select
 * @param {HTMLTextAreaElement} textarea
 * @param {(workflow: import("./main.js").WorkflowInfo) => void} [onChange]
 */
export function paramsEditor(select, textarea, onChange) {
  /** @type {import("./main.js").WorkflowInfo[]} */
  let workflows = [];
  const current = () => workflows.find((w) => w.name === select.value);
  const reset = () => {
    const workflow = current();
    if (!workflow) return;
    textarea.value = JSON.stringify(workflow.example_params ?? {}, null, 2);
    onChange?.(workflow);
  };
  select.addEventListener("change", reset);
  return {
    /** @param {import("./main.js").WorkflowInfo[]} list */
    setup(list) {
      workflows = list;
      select.replaceChildren(...list.map((w) => new Option(`${w.name} (${w.class_name})`, w.name)));
      reset();
    },
    reset,
    current,
    /**
     * The params as JSON, or throws an Error saying why they are not.
     * @returns {unknown}
     */
    read() {
      const text = textarea.value.trim();
      if (text === "") return undefined;
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new Error(`params: not valid JSON (${e instanceof Error ? e.message : e})`);
      }
    },
  };
}
