/**
 * How deeply a payload may nest objects and arrays. Not a documented platform limit:
 * passing a value to a binding or over RPC clones it recursively, and a value nested
 * tens of thousands deep overflows the stack there. No real payload comes near this.
 * No imports, so the Pages bundle can use it without the Worker's validation code.
 */
export const PAYLOAD_MAX_DEPTH = 64;

/** How deeply `value` nests objects and arrays, counted without recursion, stopping past `max`. */
export function nestingDepth(value: unknown, max: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > max) return deepest;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}
