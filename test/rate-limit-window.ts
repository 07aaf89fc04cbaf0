/**
 * The Workers Rate Limiting binding counts per fixed window of `period` seconds, aligned to
 * the clock, and does not say when one ends. The tests that spend a whole budget (the
 * Worker's and the Pages app's) do it within one window, with these two.
 */

/** The window of `period` seconds the binding counts in now. */
export const rateLimitWindow = (period: number) => Math.floor(Date.now() / (period * 1000));

/**
 * Runs `attempt` until one run begins and ends in the same window, at most twice, and returns
 * that run's result. Each run must spend the budget of a client of its own: a run cut by the end
 * of a window has already spent part of the next window's budget.
 */
export async function withinOneWindow<T>(period: number, attempt: () => Promise<T>): Promise<T> {
  for (let run = 0; run < 2; run++) {
    const started = rateLimitWindow(period);
    const result = await attempt();
    if (rateLimitWindow(period) === started) return result;
  }
  throw new Error("could not spend a budget within one rate-limit window");
}
