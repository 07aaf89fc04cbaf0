import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

/** How long fetched keys are used before they are fetched again (jose's default too). */
const KEYS_MAX_AGE_MS = 10 * 60_000;
/** A token naming a key the set does not hold fetches the keys again at most this often. */
const UNKNOWN_KEY_COOLDOWN_MS = 30_000;
/** A key fetch that has not answered after this long is given up, and the next request fetches anew. */
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed fetch, requests are refused without fetching until this long has passed. */
const RETRY_AFTER_FAILURE_MS = 5_000;

/** The team's keys could not be fetched (or were no key set): nobody can be verified meanwhile. */
export class KeysUnavailable extends Error {
  override readonly name = "KeysUnavailable";
}

interface Fetched {
  keys: ReturnType<typeof createLocalJWKSet>;
  at: number;
}

/**
 * A team's signing keys (`<team domain>/cdn-cgi/access/certs`) for the isolate's lifetime,
 * with one fetch in flight at a time: the requests that arrive while the keys are being
 * fetched wait for that fetch instead of starting their own, and after a failure nobody
 * fetches again for a few seconds. jose's own remote key set cannot do that in Workers:
 * there it starts a fetch per request until one has succeeded (it does not share a
 * pending fetch across requests). What is shared here is plain data (the parsed key set)
 * and a promise of it, never a Response; a waiter also stops waiting after the fetch's own
 * timeout, so a fetch whose request went away cannot hold the others.
 */
export class TeamKeys {
  private fetched: Fetched | undefined;
  private inFlight: { promise: Promise<Fetched>; startedAt: number } | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly url: URL) {}

  /** jose's key lookup for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    let fetched = this.fetched;
    if (!fetched || Date.now() - fetched.at > KEYS_MAX_AGE_MS) fetched = await this.refresh();
    try {
      return await fetched.keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - fetched.at < UNKNOWN_KEY_COOLDOWN_MS)
        throw error;
      // A key the set does not hold: Access may have rotated its keys.
      return (await this.refresh()).keys(header, token);
    }
  };

  private refresh(): Promise<Fetched> {
    const now = Date.now();
    if (!this.inFlight || now - this.inFlight.startedAt > FETCH_TIMEOUT_MS) {
      if (now - this.failedAt < RETRY_AFTER_FAILURE_MS) {
        return Promise.reject(new KeysUnavailable("the last fetch of the team's signing keys failed moments ago"));
      }
      const entry = { promise: this.fetchKeys(), startedAt: now };
      this.inFlight = entry;
      entry.promise
        .finally(() => {
          if (this.inFlight === entry) this.inFlight = undefined;
        })
        .catch(() => {});
    }
    return withTimeout(this.inFlight.promise, FETCH_TIMEOUT_MS);
  }

  private async fetchKeys(): Promise<Fetched> {
    try {
      const res = await fetch(this.url, {
        headers: { accept: "application/json" },
        // The team's certs URL answers itself; a redirect is not followed anywhere else.
        redirect: "manual",
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (res.status !== 200) throw new KeysUnavailable(`the team's keys URL answered ${res.status}`);
      const fetched = { keys: createLocalJWKSet((await res.json()) as JSONWebKeySet), at: Date.now() };
      this.fetched = fetched;
      return fetched;
    } catch (error) {
      this.failedAt = Date.now();
      throw error instanceof KeysUnavailable ? error : new KeysUnavailable(String(error));
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeysUnavailable("the team's signing keys did not arrive in time")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
