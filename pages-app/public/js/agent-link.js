// @ts-check
import { agentPath, call } from "./api.js";

/**
 * @typedef {{ id: string, workflow: string, status: string, updated_at: string,
 *   progress?: { step: string, percent: number, message?: string }, output?: unknown, error?: string }} RunView
 * @typedef {{ runs: RunView[] }} SchedulerState
 * @typedef {{ mode: "connecting" | "live" | "retrying", retryInSeconds?: number, reason?: string }} LinkStatus
 */

const POLL_MS = 2000;
const MAX_BACKOFF_MS = 15_000;

/**
 * Watches one WorkflowScheduler Agent. Its WebSocket (the agents SDK protocol,
 * through the Pages app's /worker/* pass-through) sends the Agent's state on connect
 * and after every change (`cf_agent_state`). The connection is read-only: nothing is
 * sent. While the socket is down, the state is polled over HTTP instead and the
 * socket is retried with a growing delay.
 */
export class AgentLink {
  /**
   * @param {(state: SchedulerState) => void} onState
   * @param {(status: LinkStatus) => void} onStatus
   */
  constructor(onState, onStatus) {
    this.onState = onState;
    this.onStatus = onStatus;
    this.name = "";
    /** @type {WebSocket | null} */
    this.socket = null;
    this.backoff = 1000;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.pollTimer = undefined;
    this.generation = 0;
  }

  /** Watches the Agent `name`, closing any earlier connection. */
  watch(/** @type {string} */ name) {
    this.name = name;
    this.backoff = 1000;
    this.open();
  }

  /** Retries the socket now instead of waiting for the next attempt. */
  retryNow() {
    this.backoff = 1000;
    this.open();
  }

  open() {
    const generation = ++this.generation;
    clearTimeout(this.retryTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
    this.onStatus({ mode: "connecting" });
    const url = new URL(agentPath(this.name), location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      if (generation !== this.generation) return;
      this.backoff = 1000;
      this.stopPolling();
      this.onStatus({ mode: "live" });
    };
    socket.onmessage = (message) => {
      if (generation !== this.generation) return;
      let data;
      try {
        data = JSON.parse(String(message.data));
      } catch {
        return; // not one of the SDK's JSON messages
      }
      if (data?.type === "cf_agent_state" && Array.isArray(data.state?.runs)) this.onState(data.state);
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      this.onStatus({
        mode: "retrying",
        retryInSeconds: Math.round(delay / 1000),
        reason: event.reason || `closed (${event.code})`,
      });
      this.retryTimer = setTimeout(() => this.open(), delay);
      this.startPolling(generation);
    };
  }

  /** Polls the state over HTTP until the socket of this generation opens. */
  startPolling(/** @type {number} */ generation) {
    this.stopPolling();
    const stale = () => generation !== this.generation || this.socket?.readyState === WebSocket.OPEN;
    const poll = async () => {
      if (stale()) return;
      try {
        const { result } = await call("GET", agentPath(this.name));
        if (!stale()) this.onState(result);
      } catch {
        // The socket status already says the link is down; keep polling.
      }
      if (!stale()) this.pollTimer = setTimeout(poll, POLL_MS);
    };
    this.pollTimer = setTimeout(poll, 0);
  }

  stopPolling() {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }
}
