import { match } from "path-to-regexp";

/**
 * The Functions that start a workflow: functions/seed/create.ts and the guide's
 * functions/guide/create.js. They answer POST only, so no link, preview or crawler starts
 * one: any other method is refused before Pages' router runs them (../app.ts).
 */
const CREATE_FUNCTIONS = ["/seed/create", "/guide/create"];

/**
 * Pages' router (wrangler's templates/pages-template-worker.ts, which every Functions build
 * carries) runs a Function for a request whose path its route matches with path-to-regexp's
 * `match(route, { end: true })`: any letter case, one trailing slash (`/GUIDE/Create/` runs the
 * guide's Function). The rule matches with the same function, the same options and the same
 * escaping, from the same package at the version wrangler pins, so it refuses every path the
 * router would send to a create Function, and no other.
 */
const escapeRegex = /[.+?^${}()|[\]\\]/g;
const matchers = CREATE_FUNCTIONS.map((route) => match(route.replace(escapeRegex, "\\$&"), { end: true }));

/** Whether Pages' router would run a create Function for `pathname`. */
export const runsCreateFunction = (pathname: string) => matchers.some((matches) => matches(pathname) !== false);
