/**
 * CMCD (CTA-5004, Common Media Client Data) as a player puts it on a segment request: one
 * `CMCD` query parameter holding `key=value` pairs, comma-separated, keys in alphabetical
 * order (§3.2); strings double-quoted with `"` and `\` escaped; tokens (`ot`, `sf`, `st`)
 * bare; integers bare; a boolean key alone when true and left out when false.
 */
import type { Cmcd } from '../../schemas/generated/playback-event.ts';

const TOKENS = new Set(['ot', 'sf', 'st']);

type CmcdPairs = Record<string, string | number | boolean | null | undefined>;

export function encodeCmcd(pairs: CmcdPairs): string {
  const out: string[] = [];
  for (const key of Object.keys(pairs).sort()) {
    const value = pairs[key];
    if (value === null || value === undefined || value === false) continue;
    if (value === true) out.push(key);
    else if (typeof value === 'number') out.push(`${key}=${Math.round(value)}`);
    else if (TOKENS.has(key)) out.push(`${key}=${value}`);
    else out.push(`${key}="${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  }
  return out.join(',');
}

/** The request's CMCD with the session (`sid`) and content (`cid`) ids. */
export function cmcdQueryValue(cmcd: Cmcd, sessionId: string, titleId: string): string {
  return encodeCmcd({ ...cmcd, sid: sessionId, cid: titleId });
}
