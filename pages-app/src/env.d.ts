// Both generated worker-configuration.d.ts files (the Worker's and this project's)
// merge their bindings into `Cloudflare.Env`. This program also compiles Worker code
// for its types (`App` for the typed client, WorkflowService for the binding), and
// some of that code requires `Env extends Cloudflare.Env` (an SDK's base class).
// So, in this program only, the Worker's `Env` carries the Pages bindings as well.
// Types only: nothing at runtime reads it.
interface Env extends PagesEnv {}
