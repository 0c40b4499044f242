/**
 * Common Media Client Data (CTA-5004): what a player says about itself on each request. hls.js
 * sends it as one `CMCD` query parameter (default) or as four headers (`useHeaders: true`):
 * CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session. The payload is a comma-separated list
 * of `key=value`; strings are double-quoted with `\"` and `\\` escapes, tokens (ot, sf, st)
 * are bare, numbers are integers (or decimals for `pr`), and a boolean key stands alone when
 * true (CTA-5004 §3.2). Pure parsing; the OCA counts and forwards what it reads.
 */

export type CmcdValue = string | number | boolean;
export type CmcdData = Readonly<Record<string, CmcdValue>>;

export const CMCD_HEADERS = ['cmcd-request', 'cmcd-object', 'cmcd-status', 'cmcd-session'] as const;

const KEY = /^[a-z][a-z0-9-]*$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Parses one CMCD payload. Malformed pairs are skipped: telemetry never fails a request. */
export function parseCmcd(payload: string): Record<string, CmcdValue> {
  const out: Record<string, CmcdValue> = {};
  let i = 0;
  while (i < payload.length) {
    let key = '';
    while (i < payload.length && payload[i] !== '=' && payload[i] !== ',') key += payload[i++];
    key = key.trim();
    let value: CmcdValue = true;
    if (payload[i] === '=') {
      i++;
      if (payload[i] === '"') {
        i++;
        let text = '';
        while (i < payload.length && payload[i] !== '"') {
          if (payload[i] === '\\' && i + 1 < payload.length) i++;
          text += payload[i++];
        }
        i++; // closing quote
        value = text;
      } else {
        let raw = '';
        while (i < payload.length && payload[i] !== ',') raw += payload[i++];
        raw = raw.trim();
        value = NUMBER.test(raw) ? Number(raw) : raw;
      }
    }
    while (i < payload.length && payload[i] !== ',') i++; // anything after a quoted string
    i++; // the comma
    if (KEY.test(key)) out[key] = value;
  }
  return out;
}

/**
 * CMCD of one request from the query string and the four headers together; undefined when
 * the player sent none.
 */
export function cmcdFromRequest(
  query: URLSearchParams,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): CmcdData | undefined {
  let found = false;
  const out: Record<string, CmcdValue> = {};
  const fromQuery = query.get('CMCD');
  if (fromQuery !== null) {
    found = true;
    Object.assign(out, parseCmcd(fromQuery));
  }
  for (const name of CMCD_HEADERS) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (value !== undefined) {
      found = true;
      Object.assign(out, parseCmcd(value));
    }
  }
  return found ? Object.freeze(out) : undefined;
}
