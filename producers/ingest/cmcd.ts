/**
 * CMCD beacons (CTA-5004, Common Media Client Data) mapped onto playback events.
 *
 * A beacon is a segment request as the player sent it to the OCA, mirrored to
 * `/v1/cmcd`: the CMCD data in the `CMCD` query parameter (hls.js' default) or in the four
 * header shards (`useHeaders: true`): CMCD-Object (br, d, ot, tb), CMCD-Request (bl, dl,
 * mtp, nor, nrr, su), CMCD-Session (cid, pr, sf, sid, st, v) and CMCD-Status (bs, rtp)
 * (CTA-5004 §3.1, §3.2). Whoever mirrors it may add what the OCA measured serving it, as
 * plain query parameters: `oca` (the OCA id), `bytes` and `ms` (download time).
 *
 * Encoding (CTA-5004 §3.3, following RFC 8941 structured fields): `key=value` pairs
 * separated by commas; strings in double quotes with `\"` and `\\` escapes; a boolean key
 * alone means true (`?0` / `?1` are accepted too); unknown keys, custom keys (with a hyphen)
 * and CMCD v2 keys not mapped here are ignored, as the standard tells receivers to.
 *
 * Mapping: `sid` -> sessionId, `cid` -> titleId (both required), the CTA-5004 keys the
 * schema has -> `cmcd`, v2 `ts` -> clientTs (else the receive time), v2 `pt` -> playheadMs.
 * With `oca`, `bytes` and `ms` the beacon is a `segment_downloaded` (needs `br` and `d`);
 * without them it is the player's state when it asked for a segment: a `heartbeat` (needs
 * `bl` and `br`). The viewer is unknown to CMCD: viewerId is empty.
 *
 * Every beacon is unsequenced (seq -1), CMCD v2 `sn` included. `seq` numbers the player's own
 * events of a session, the stream the sessionizer orders and deduplicates; `sn` numbers CMCD
 * reports to one target (CTA-5004 v2), another sequence from 0 for the same session id.
 * Taken as seq, a beacon's `sn` would collide with the player's events of the same session:
 * one of the two would be dropped as a duplicate of the other. (`sn` is still validated.)
 */
import type { Cmcd } from '../../schemas/generated/playback-event.ts';
import type { WireEvent } from '../client/wire.ts';
import { deadLetter, type Indexed, ok, type Step } from './pipeline.ts';
import { INT_MAX } from './validate.ts';

type CmcdType = 'int' | 'decimal' | 'string' | 'token' | 'boolean';

/** CTA-5004 §3.3 key types, plus the CMCD v2 keys this mapping reads (sn, ts, pt). */
const KEY_TYPES: Readonly<Record<string, CmcdType>> = {
  br: 'int',
  bl: 'int',
  bs: 'boolean',
  cid: 'string',
  d: 'int',
  dl: 'int',
  mtp: 'int',
  nor: 'string',
  nrr: 'string',
  ot: 'token',
  pr: 'decimal',
  rtp: 'int',
  sf: 'token',
  sid: 'string',
  st: 'token',
  su: 'boolean',
  tb: 'int',
  v: 'int',
  sn: 'int',
  ts: 'int',
  pt: 'int',
};

export const CMCD_HEADERS = ['cmcd-object', 'cmcd-request', 'cmcd-session', 'cmcd-status'] as const;

export type CmcdValue = number | string | boolean;
export type CmcdData = Readonly<Record<string, CmcdValue>>;

export type CmcdParse =
  | { readonly ok: true; readonly data: Record<string, CmcdValue> }
  | { readonly ok: false; readonly key: string | null; readonly reason: string };

const MAX_PAYLOAD_CHARS = 4_096;

/** Parses one CMCD payload (a query value or one header shard). */
export function parseCmcdPayload(text: string): CmcdParse {
  if (text.length > MAX_PAYLOAD_CHARS) {
    return {
      ok: false,
      key: null,
      reason: `is ${text.length} characters; at most ${MAX_PAYLOAD_CHARS} are read`,
    };
  }
  const data: Record<string, CmcdValue> = Object.create(null) as Record<string, CmcdValue>;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && text[i] !== '=' && text[i] !== ',') i++;
    const key = text.slice(keyStart, i).trim();
    if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(key)) {
      return { ok: false, key: null, reason: `"${key.slice(0, 32)}" is not a CMCD key` };
    }
    let raw: string | null = null;
    let quoted = false;
    if (text[i] === '=') {
      i++;
      if (text[i] === '"') {
        quoted = true;
        i++;
        let s = '';
        let closed = false;
        while (i < text.length) {
          const ch = text[i] as string;
          if (ch === '\\') {
            const next = text[i + 1];
            if (next !== '"' && next !== '\\')
              return { ok: false, key, reason: 'has a bad escape in a string' };
            s += next;
            i += 2;
          } else if (ch === '"') {
            closed = true;
            i++;
            break;
          } else {
            s += ch;
            i++;
          }
        }
        if (!closed) return { ok: false, key, reason: 'has an unterminated string' };
        raw = s;
      } else {
        const valueStart = i;
        while (i < text.length && text[i] !== ',') i++;
        raw = text.slice(valueStart, i).trim();
      }
    }
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i < text.length && text[i] !== ',') return { ok: false, key, reason: 'has text after its value' };
    i++;
    const type = KEY_TYPES[key];
    if (type === undefined) continue; // unknown, custom or unmapped v2 key: ignored (CTA-5004 §3.3)
    const value = typedValue(type, raw, quoted);
    if (typeof value === 'object') return { ok: false, key, reason: value.reason };
    if (key === 'sn' || key === 'ts' || key === 'pt' ? !Number.isSafeInteger(value) : false) {
      return { ok: false, key, reason: 'must be a safe integer' };
    }
    // A sequence number counts from 0 (CTA-5004 v2 `sn`); a negative one is malformed.
    if (key === 'sn' && (value as number) < 0) return { ok: false, key, reason: 'must not be negative' };
    data[key] = value;
  }
  return { ok: true, data };
}

function typedValue(type: CmcdType, raw: string | null, quoted: boolean): CmcdValue | { reason: string } {
  switch (type) {
    case 'boolean':
      if (raw === null || raw === '?1') return true;
      if (raw === '?0') return false;
      return { reason: 'must be a boolean: the key alone for true' };
    case 'string':
      if (raw === null || !quoted) return { reason: 'must be a quoted string' };
      return raw;
    case 'token':
      if (raw === null || quoted || !/^[A-Za-z][A-Za-z0-9]*$/.test(raw)) return { reason: 'must be a token' };
      return raw;
    case 'int': {
      if (raw === null || quoted || !/^-?\d{1,16}$/.test(raw)) return { reason: 'must be an integer' };
      return Number(raw);
    }
    case 'decimal':
      if (raw === null || quoted || !/^-?\d{1,12}(\.\d{1,3})?$/.test(raw))
        return { reason: 'must be a decimal' };
      return Number(raw);
  }
}

/** A beacon as the route hands it over: the raw query and headers. */
export interface CmcdBeacon {
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly receivedAt: number;
}

function one(value: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return null; // repeated parameter or header
}

const rejectAt = (path: string, reason: string) =>
  deadLetter<Indexed<unknown>>({ code: 'cmcd_invalid', path, reason });

/** Collects CMCD from the query and the header shards; a key given twice must agree. */
function collect(
  beacon: CmcdBeacon,
): { data: Record<string, CmcdValue>; from: Map<string, string> } | { path: string; reason: string } {
  const sources: Array<[path: string, text: string]> = [];
  const q = one(beacon.query['CMCD']);
  if (q === null) return { path: '$.query.CMCD', reason: 'is given more than once' };
  if (q !== undefined) sources.push(['$.query.CMCD', q]);
  for (const name of CMCD_HEADERS) {
    const h = one(beacon.headers[name]);
    if (h === null) return { path: `$.headers["${name}"]`, reason: 'is given more than once' };
    if (h !== undefined) sources.push([`$.headers["${name}"]`, h]);
  }
  if (sources.length === 0) {
    return { path: '$', reason: 'no CMCD: send the CMCD query parameter or the CMCD-* headers' };
  }
  const data: Record<string, CmcdValue> = Object.create(null) as Record<string, CmcdValue>;
  const from = new Map<string, string>();
  for (const [path, text] of sources) {
    const parsed = parseCmcdPayload(text);
    if (!parsed.ok)
      return { path: parsed.key === null ? path : `${path}.${parsed.key}`, reason: parsed.reason };
    for (const [key, value] of Object.entries(parsed.data)) {
      const prior = from.get(key);
      if (prior !== undefined && data[key] !== value) {
        return { path: `${path}.${key}`, reason: `disagrees with ${prior}.${key}` };
      }
      data[key] = value;
      from.set(key, path);
    }
  }
  return { data, from };
}

function int(data: CmcdData, key: string): number | null {
  const v = data[key];
  return typeof v === 'number' ? v : null;
}

function optionalParam(
  query: CmcdBeacon['query'],
  name: string,
): { value: string | undefined } | { error: string } {
  const v = one(query[name]);
  if (v === null) return { error: 'is given more than once' };
  return { value: v };
}

/** The beacon step: CMCD into the same wire event a player would send (then validated). */
export const cmcdToEvent: Step<Indexed<CmcdBeacon>, Indexed<unknown>> = ({ index, value: beacon }) => {
  const got = collect(beacon);
  if ('reason' in got) return rejectAt(got.path, got.reason);
  const { data, from } = got;
  const where = (key: string): string => `${from.get(key) ?? '$.query.CMCD'}.${key}`;
  for (const key of ['sid', 'cid'] as const) {
    if (typeof data[key] !== 'string')
      return rejectAt(where(key), `${key} is required to map a beacon onto an event`);
  }
  const cmcd: Partial<Cmcd> = {};
  for (const key of ['br', 'bl', 'mtp', 'd', 'rtp', 'tb', 'dl'] as const) {
    const v = int(data, key);
    if (v !== null) cmcd[key] = v;
  }
  for (const key of ['ot', 'st', 'sf'] as const) {
    const v = data[key];
    if (typeof v === 'string') cmcd[key] = v;
  }
  for (const key of ['su', 'bs'] as const) {
    const v = data[key];
    if (typeof v === 'boolean') cmcd[key] = v;
  }
  const params: Record<string, string | undefined> = {};
  for (const name of ['oca', 'bytes', 'ms'] as const) {
    const p = optionalParam(beacon.query, name);
    if ('error' in p) return rejectAt(`$.query.${name}`, p.error);
    params[name] = p.value;
  }
  const event: WireEvent = {
    sessionId: data['sid'] as string,
    seq: -1,
    viewerId: '',
    titleId: data['cid'] as string,
    clientTs: int(data, 'ts') ?? beacon.receivedAt,
    kind: 'heartbeat',
    playheadMs: int(data, 'pt'),
    cmcd,
  };
  const br = int(data, 'br');
  if (params['oca'] !== undefined || params['bytes'] !== undefined || params['ms'] !== undefined) {
    for (const name of ['oca', 'bytes', 'ms'] as const) {
      if (params[name] === undefined) {
        return rejectAt(
          `$.query.${name}`,
          'oca, bytes and ms go together: the OCA, the bytes it served and the time it took',
        );
      }
    }
    const bytes = decimalParam(params['bytes'] as string);
    const ms = decimalParam(params['ms'] as string);
    if (bytes === undefined) return rejectAt('$.query.bytes', 'must be a non-negative integer');
    if (ms === undefined || ms > INT_MAX) return rejectAt('$.query.ms', 'must be a non-negative integer');
    const d = int(data, 'd');
    if (br === null) return rejectAt(where('br'), 'a segment beacon needs br (the encoded bitrate)');
    if (d === null) return rejectAt(where('d'), 'a segment beacon needs d (the segment duration)');
    return ok({
      index,
      value: {
        ...event,
        kind: 'segment_downloaded',
        segment: { ocaId: params['oca'] as string, bytes, downloadMs: ms, bitrateKbps: br, durationMs: d },
      },
    });
  }
  const bl = int(data, 'bl');
  if (bl === null)
    return rejectAt(where('bl'), 'a beacon without oca/bytes/ms maps onto a heartbeat, which needs bl');
  if (br === null)
    return rejectAt(where('br'), 'a beacon without oca/bytes/ms maps onto a heartbeat, which needs br');
  return ok({ index, value: { ...event, heartbeat: { bufferMs: bl, bitrateKbps: br } } });
};

function decimalParam(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** The beacon's `sid`, when it parses: the dead letter's key, so it sorts with its session. */
export function cmcdSessionId(beacon: CmcdBeacon): string | null {
  const got = collect(beacon);
  if ('reason' in got) return null;
  const sid = got.data['sid'];
  return typeof sid === 'string' && sid.length > 0 && sid.length <= 64 ? sid : null;
}
