// @ts-check
import { ApiError, agentPath, call, instancePath } from "./api.js";
import { byId, say, setText } from "./dom.js";
import { paramsEditor } from "./params-editor.js";

const VIA = {
  rpc: "the service binding (RPC)",
  http: "fetch with token (HTTP API)",
  agent: "the Agent",
};

/**
 * "Start a workflow": POST /rpc/workflows/:name/instances, POST /http/workflows/:name/instances,
 * or POST /worker/agents/workflow-scheduler/:agent/workflows (a run the Agent tracks).
 * @param {import("./main.js").Dashboard} app
 */
export function createStartForm(app) {
  const form = /** @type {HTMLFormElement} */ (byId("start-form"));
  const idInput = /** @type {HTMLInputElement} */ (byId("start-id"));
  const approval = /** @type {HTMLInputElement} */ (byId("start-approval"));
  const approvalLabel = byId("start-approval-label");
  const message = byId("start-message");
  const textarea = /** @type {HTMLTextAreaElement} */ (byId("start-params"));
  const editor = paramsEditor(/** @type {HTMLSelectElement} */ (byId("start-workflow")), textarea, (workflow) => {
    setText(byId("start-description"), workflow.description);
    setText(byId("start-schema"), JSON.stringify(workflow.params_schema, null, 2));
    // Offered where the schema has the threshold (MyWorkflow, and ParentWorkflow for its children).
    approvalLabel.hidden = !workflow.params_schema?.properties?.approval_threshold_cents;
    approval.checked = false;
  });
  byId("start-example").addEventListener("click", () => editor.reset());

  // Orders above approval_threshold_cents wait for the "approval" event: 0 makes any order wait.
  approval.addEventListener("change", () => {
    try {
      const params = /** @type {Record<string, unknown>} */ (editor.read() ?? {});
      if (approval.checked) params.approval_threshold_cents = 0;
      else delete params.approval_threshold_cents;
      textarea.value = JSON.stringify(params, null, 2);
      say(message, "");
    } catch (e) {
      approval.checked = !approval.checked;
      say(message, e instanceof Error ? e.message : String(e), true);
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const workflow = editor.current();
    if (!workflow) return;
    const via = /** @type {"rpc" | "http" | "agent"} */ (new FormData(form).get("via") ?? "rpc");
    let params;
    try {
      params = editor.read();
    } catch (e) {
      say(message, e instanceof Error ? e.message : String(e), true);
      textarea.focus();
      return;
    }
    const instance_id = idInput.value.trim() || undefined;
    const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    submit.disabled = true;
    say(message, `Starting ${workflow.name} through ${VIA[via]}…`);
    try {
      const { result } =
        via === "agent"
          ? await call("POST", `${agentPath(app.agentName)}/workflows`, {
              workflow: workflow.name,
              params,
              instance_id,
            })
          : await call("POST", instancePath(via, workflow.name), { instance_id, params });
      say(message, `Started ${result.id} (${result.status}) through ${VIA[via]}.`);
      idInput.value = "";
      app.open(workflow.name, result.id, { focus: false });
      app.refreshLists();
    } catch (e) {
      say(message, `Not started: ${e instanceof ApiError ? e.describe() : e}`, true);
    } finally {
      submit.disabled = false;
    }
  });

  return { setup: editor.setup };
}
