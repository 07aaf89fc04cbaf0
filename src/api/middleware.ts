import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { failure } from "../shared/envelope";
import { InstanceError } from "../shared/errors";
import { LIMITS } from "../workflows/platform-limits";
import { errorResponse, kindResponse } from "./error-response";
import { EXAMPLE_API_TOKEN, EXAMPLE_TOKEN_MESSAGE, exampleTokenRefused, isLoopbackUrl } from "./example-token";
import type { AppEnv } from "./types";

const encoder = new TextEncoder();
const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/** The configured token's digest, computed once per isolate instead of on every request. */
let expectedDigest: { token: string; digest: ArrayBuffer } | undefined;

/**
 * Whether `given` is the configured token, in constant time: both sides are hashed to
 * 32 bytes first, so neither the comparison's duration nor a length mismatch tells
 * anything about the secret. An unset or empty secret matches nothing (fail closed).
 */
export async function tokenMatches(expected: string | undefined, given: string): Promise<boolean> {
  if (typeof expected !== "string" || expected.length === 0) return false;
  if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: await sha256(expected) };
  const digest = expectedDigest.digest;
  return crypto.subtle.timingSafeEqual(digest, await sha256(given));
}

/** How the Worker is set up is for its owner's logs, not for its callers. */
const logProblem = (message: string) => console.error(`auth: ${message}`);

/**
 * Bearer-token auth against the `API_TOKEN` secret. The comparison is constant-time.
 * It fails closed: with the secret unset every request is refused, and so is every
 * request to a host other than this machine's loopback while the secret is the public
 * example token (./example-token.ts). Why the whole API is refused is logged; a caller
 * is told only on a loopback host (local dev, where the caller is the owner), or, for
 * the example token, when they sent it themselves (it is public: that tells them
 * nothing new). The token never appears in logs or responses.
 */
export const requireToken = (): MiddlewareHandler<AppEnv> => {
  const bearer = bearerAuth({
    verifyToken: (token, c: Context<AppEnv>) =>
      !exampleTokenRefused(c.env.API_TOKEN, c.req.url) && tokenMatches(c.env.API_TOKEN, token),
    noAuthenticationHeader: { message: (c) => unauthorized(c, "missing Authorization: Bearer <API_TOKEN> header") },
    invalidAuthenticationHeader: {
      message: (c) => unauthorized(c, "malformed Authorization header; expected Bearer <token>"),
    },
    invalidToken: { message: (c: Context<AppEnv>) => unauthorized(c, invalidTokenMessage(c)) },
  });
  return async (c, next) => {
    if (exampleTokenRefused(c.env.API_TOKEN, c.req.url)) {
      logProblem(
        `API_TOKEN is the public example token: every request to a host but localhost is refused. ${SET_TOKEN}`,
      );
      const sent = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
      if (sent === EXAMPLE_API_TOKEN) return refused(c, 403, 40300, EXAMPLE_TOKEN_MESSAGE);
    }
    return bearer(c, next);
  };
};

const SET_TOKEN = "Set a real one: npx wrangler secret put API_TOKEN";

function invalidTokenMessage(c: Context<AppEnv>): string {
  if (c.env.API_TOKEN) return "invalid API token";
  const why = "API_TOKEN is not configured on this Worker; every request is refused";
  if (isLoopbackUrl(c.req.url)) return why;
  logProblem(`${why}. ${SET_TOKEN}`);
  return "invalid API token";
}

const refused = (c: Context, status: 401 | 403, code: number, message: string) =>
  new Response(JSON.stringify(failure(code, message)), {
    status,
    headers: { "content-type": "application/json", "x-request-id": c.get("requestId") ?? "" },
  });

const unauthorized = (c: Context, message: string) => refused(c, 401, 40100, message);

/** Request bodies: one instance's params may be 1 MiB, plus room for the envelope. */
export const MAX_BODY_BYTES = LIMITS.payloadBytes + 64 * 1024;

export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => kindResponse(c, "too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`),
  });

/** Reads a JSON body; an empty body is `undefined`, malformed JSON a 400. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InstanceError("invalid_input", "body: malformed JSON", "body");
  }
}

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof InstanceError) {
    return errorResponse(c, error.status as ContentfulStatusCode, error.code, error.message, error.field);
  }
  if (error instanceof HTTPException) {
    const res = error.getResponse();
    if (res.headers.get("content-type")?.includes("application/json")) return res;
    const status = error.status as ContentfulStatusCode;
    return errorResponse(c, status, status * 100, error.message || res.statusText || "request failed");
  }
  // A real fault: log it with the request id, answer without internals.
  console.error(`[${c.get("requestId")}] unhandled error`, error);
  return errorResponse(c, 500, 50000, `internal error (request id ${c.get("requestId")})`);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  kindResponse(c, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);

/** Registered after a path's real methods: any other method gets a 405 with `Allow`. */
export const methodNotAllowed =
  (...allowed: string[]) =>
  (c: Context<AppEnv>) => {
    c.header("Allow", allowed.join(", "));
    return errorResponse(c, 405, 40500, `${c.req.method} is not allowed here; use ${allowed.join(" or ")}`);
  };

/**
 * `/client/v4/accounts/:account_id/...`: the account id is checked for shape and
 * otherwise ignored; this Worker is one account's.
 */
export const accountId = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.req.param("account_id") ?? "")) {
    throw new InstanceError("invalid_input", "account_id: must be 1 to 64 letters, digits, '-' or '_'", "account_id");
  }
  await next();
};
