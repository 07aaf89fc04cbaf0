/**
 * The Cloudflare v4 API envelope, so clients of the REST API read ours the same way. The
 * Worker answers with it on every path, and the Pages app too.
 */
export interface Envelope<T> {
  success: boolean;
  errors: { code: number; message: string; field?: string }[];
  messages: { code: number; message: string }[];
  result: T | null;
  result_info?: ResultInfo;
}

/** A page of a list, as the REST API describes it beside `result`. */
export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
  cursor?: string;
}

export const ok = <T>(result: T): Envelope<T> => ({ success: true, errors: [], messages: [], result });

/** A page of a list, with the REST API's `result_info` beside `result`. */
export const okPage = <T>(result: T[], result_info: ResultInfo): Envelope<T[]> => ({ ...ok(result), result_info });

export const failure = (code: number, message: string, field?: string): Envelope<null> => ({
  success: false,
  errors: [{ code, message, ...(field ? { field } : {}) }],
  messages: [],
  result: null,
});
