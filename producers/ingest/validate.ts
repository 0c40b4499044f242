/**
 * Step 2 (per event): one untrusted JSON value into a PlaybackEvent without its `server`
 * part, or a rejection naming the exact JSON path and why.
 *
 * Hand-written rather than a generic validator: it runs on every event at 100k events/s,
 * builds a fresh object in schema field order (so no key from the input, `__proto__`
 * included, is ever copied), and stops at the first fault. What it refuses:
 * - keys the contract does not have, and `__proto__` / `constructor` / `prototype` anywhere;
 * - wrong JSON types, non-finite numbers (`1e400` parses to Infinity), fractions where an
 *   integer is due, ints outside the Avro int range (32-bit signed, Avro 1.11 spec
 *   "Primitive Types"), longs outside the IEEE-754 safe range (avsc cannot hold them);
 * - strings over their bounds or holding lone UTF-16 surrogates (UTF-8 cannot carry them:
 *   the encoder would silently write U+FFFD);
 * - values outside an enum, payloads that do not match `kind` (exactly the payload field
 *   named by `kind` is set; pause and resume carry none);
 * - timestamps too far in the future or past once corrected for the batch's clock skew.
 */
import {
  EndReasonValues,
  ErrorTypeValues,
  EventKindValues,
  type PlaybackEvent,
} from '../../schemas/generated/playback-event.ts';
import { PAYLOAD_FIELD_OF_KIND } from '../client/wire.ts';
import { pathOfKey } from './parse.ts';
import { deadLetter, type Indexed, ok, type Rejection, type RejectionCode, type Step } from './pipeline.ts';

/** A validated event: everything but what ingest adds. */
export type ValidEvent = Omit<PlaybackEvent, 'server'>;

export const INT_MIN = -2_147_483_648;
export const INT_MAX = 2_147_483_647;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** String bounds, in UTF-16 code units. CTA-5004 caps `sid` and `cid` at 64 characters. */
export const STRING_BOUNDS = Object.freeze({
  id: 64,
  viewerId: 128,
  name: 128,
  userAgent: 1_024,
  url: 2_048,
  message: 1_024,
});
export const MAX_EXPERIMENTS = 32;

export const DEVICE_CLASSES = ['tv', 'mobile', 'tablet', 'desktop', 'console', 'stb'] as const;
/** CTA-5004 §3.3 object types (`ot`), stream types (`st`) and streaming formats (`sf`). */
export const CMCD_OBJECT_TYPES = ['m', 'a', 'v', 'av', 'i', 'c', 'tt', 'k', 'o'] as const;
export const CMCD_STREAM_TYPES = ['v', 'l'] as const;
export const CMCD_STREAMING_FORMATS = ['d', 'h', 's', 'o'] as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface ClockBounds {
  readonly maxSkewMs: number;
  readonly maxFutureMs: number;
  readonly maxPastMs: number;
}

/** What the request knows that judging one event needs. */
export interface ValidateContext {
  readonly receivedAt: number;
  /** Client clock minus server clock for this batch (0 when the client did not say). */
  readonly clockSkewMs: number;
  readonly clock: ClockBounds;
  /** JSON path of event `index`: `$.events[3]` for batches, `$` for a single beacon. */
  readonly pathOf: (index: number) => string;
  /** CMCD beacons are not in the player's event sequence: they use seq -1 ("unsequenced"). */
  readonly allowUnsequenced?: boolean;
}

/** Records the first fault; every helper returns a placeholder once one is recorded. */
class Checker {
  failure: Rejection | undefined;
  constructor(
    private readonly index: number,
    private readonly pathOf: (index: number) => string,
  ) {}

  fail(code: RejectionCode, rel: string, reason: string): void {
    // The event's own path is built only when something is wrong with it.
    if (this.failure === undefined) this.failure = { code, path: this.pathOf(this.index) + rel, reason };
  }
}

type Obj = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'number') return Number.isFinite(value) ? `${value}` : String(value);
  return `a ${typeof value}`;
}

function asObject(c: Checker, value: unknown, rel: string): Obj | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    c.fail(rel === '' ? 'not_an_object' : 'invalid_type', rel, `expected an object, got ${describe(value)}`);
    return undefined;
  }
  return value as Obj;
}

function checkKeys(c: Checker, o: Obj, rel: string, allowed: ReadonlySet<string>): void {
  for (const key in o) {
    // The usual key is allowed: one lookup. No allowed set holds a forbidden key.
    if (allowed.has(key) || !Object.hasOwn(o, key)) continue;
    if (FORBIDDEN_KEYS.has(key)) {
      c.fail('forbidden_key', pathOfKey(key, rel), `the key "${key}" is never accepted`);
      return;
    }
    if (!allowed.has(key)) {
      c.fail('unknown_field', pathOfKey(key, rel), 'is not a field of this record');
      return;
    }
  }
}

// A lone surrogate is a code point of category Cs only in /u mode; paired ones are not.
// The plain range test is much cheaper and almost never matches, so it goes first.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /\p{Cs}/u;

function str(c: Checker, o: Obj, key: string, rel: string, min: number, max: number): string {
  const v = o[key];
  if (typeof v !== 'string') {
    c.fail(v === undefined ? 'missing_field' : 'invalid_type', `${rel}.${key}`, expected('a string', v));
    return '';
  }
  if (v.length < min) c.fail('out_of_range', `${rel}.${key}`, `must not be empty`);
  else if (v.length > max) {
    c.fail('too_long', `${rel}.${key}`, `is ${v.length} characters long; at most ${max} are accepted`);
  } else if (ANY_SURROGATE.test(v) && LONE_SURROGATE.test(v)) {
    c.fail('invalid_string', `${rel}.${key}`, 'holds a lone UTF-16 surrogate, which UTF-8 cannot carry');
  }
  return v;
}

function optStr(c: Checker, o: Obj, key: string, rel: string, max: number): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return str(c, o, key, rel, 0, max);
}

function expected(what: string, v: unknown): string {
  return v === undefined ? `is required (${what})` : `expected ${what}, got ${describe(v)}`;
}

function integer(c: Checker, o: Obj, key: string, rel: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number') {
    c.fail(v === undefined ? 'missing_field' : 'invalid_type', `${rel}.${key}`, expected('an integer', v));
    return 0;
  }
  if (!Number.isFinite(v)) {
    c.fail('not_finite', `${rel}.${key}`, `expected a finite integer, got ${v}`);
    return 0;
  }
  if (!Number.isInteger(v)) {
    c.fail('invalid_type', `${rel}.${key}`, `expected an integer, got ${v}`);
    return 0;
  }
  if (v < min || v > max) {
    c.fail('out_of_range', `${rel}.${key}`, `expected an integer from ${min} to ${max}, got ${v}`);
    return 0;
  }
  // -0 is an integer to JSON but not to anyone reading the record.
  return v === 0 ? 0 : v;
}

function optInteger(c: Checker, o: Obj, key: string, rel: string, min: number, max: number): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return integer(c, o, key, rel, min, max);
}

function bool(c: Checker, o: Obj, key: string, rel: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') {
    c.fail(v === undefined ? 'missing_field' : 'invalid_type', `${rel}.${key}`, expected('true or false', v));
    return false;
  }
  return v;
}

function optBool(c: Checker, o: Obj, key: string, rel: string): boolean | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return bool(c, o, key, rel);
}

function oneOf<T extends string>(
  c: Checker,
  o: Obj,
  key: string,
  rel: string,
  values: readonly T[],
  set: ReadonlySet<string>,
): T {
  const v = o[key];
  if (typeof v !== 'string' || !set.has(v)) {
    const code = typeof v === 'string' ? 'not_in_enum' : v === undefined ? 'missing_field' : 'invalid_type';
    c.fail(code, `${rel}.${key}`, `expected one of ${values.join(', ')}, got ${describe(v)}`);
    return values[0] as T;
  }
  return v as T;
}

function optOneOf<T extends string>(
  c: Checker,
  o: Obj,
  key: string,
  rel: string,
  values: readonly T[],
  set: ReadonlySet<string>,
): T | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return oneOf(c, o, key, rel, values, set);
}

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);
const setOf = (values: readonly string[]): ReadonlySet<string> => new Set(values);

const EVENT_KEYS = keys(
  'sessionId',
  'seq',
  'viewerId',
  'titleId',
  'clientTs',
  'kind',
  'playheadMs',
  'device',
  'experiments',
  'cmcd',
  'playIntent',
  'manifestLoaded',
  'firstFrame',
  'renditionSwitch',
  'stall',
  'segment',
  'heartbeat',
  'error',
  'seek',
  'sessionEnd',
);
const PAYLOAD_FIELDS = [
  'playIntent',
  'manifestLoaded',
  'firstFrame',
  'renditionSwitch',
  'stall',
  'segment',
  'heartbeat',
  'error',
  'seek',
  'sessionEnd',
] as const;
type PayloadField = (typeof PAYLOAD_FIELDS)[number];

const KINDS = setOf(EventKindValues);
const DEVICE_CLASS_SET = setOf(DEVICE_CLASSES);
const OT_SET = setOf(CMCD_OBJECT_TYPES);
const ST_SET = setOf(CMCD_STREAM_TYPES);
const SF_SET = setOf(CMCD_STREAMING_FORMATS);
const ERROR_TYPES = setOf(ErrorTypeValues);
const END_REASONS = setOf(EndReasonValues);

const DEVICE_KEYS = keys('deviceClass', 'model', 'os', 'playerName', 'playerVersion', 'userAgent');
const EXPERIMENT_KEYS = keys('key', 'cell');
const CMCD_KEYS = keys('br', 'bl', 'mtp', 'ot', 'st', 'sf', 'su', 'd', 'rtp', 'tb', 'bs', 'dl');

function device(c: Checker, value: unknown, rel: string): ValidEvent['device'] {
  if (value === undefined || value === null) {
    return {
      deviceClass: null,
      model: null,
      os: null,
      playerName: null,
      playerVersion: null,
      userAgent: null,
    };
  }
  const o = asObject(c, value, rel);
  if (o === undefined) return device(c, null, rel);
  checkKeys(c, o, rel, DEVICE_KEYS);
  return {
    deviceClass: optOneOf(c, o, 'deviceClass', rel, DEVICE_CLASSES, DEVICE_CLASS_SET),
    model: optStr(c, o, 'model', rel, STRING_BOUNDS.name),
    os: optStr(c, o, 'os', rel, STRING_BOUNDS.name),
    playerName: optStr(c, o, 'playerName', rel, STRING_BOUNDS.name),
    playerVersion: optStr(c, o, 'playerVersion', rel, STRING_BOUNDS.name),
    userAgent: optStr(c, o, 'userAgent', rel, STRING_BOUNDS.userAgent),
  };
}

function experiments(c: Checker, value: unknown, rel: string): ValidEvent['experiments'] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    c.fail('invalid_type', rel, `expected an array of { key, cell }, got ${describe(value)}`);
    return [];
  }
  if (value.length > MAX_EXPERIMENTS) {
    c.fail('too_long', rel, `holds ${value.length} cells; at most ${MAX_EXPERIMENTS} are accepted`);
    return [];
  }
  const out: ValidEvent['experiments'] = [];
  for (let i = 0; i < value.length && c.failure === undefined; i++) {
    const at = `${rel}[${i}]`;
    const o = asObject(c, value[i], at);
    if (o === undefined) break;
    checkKeys(c, o, at, EXPERIMENT_KEYS);
    out.push({
      key: str(c, o, 'key', at, 1, STRING_BOUNDS.id),
      cell: str(c, o, 'cell', at, 1, STRING_BOUNDS.id),
    });
  }
  return out;
}

function cmcd(c: Checker, value: unknown, rel: string): ValidEvent['cmcd'] {
  if (value === undefined || value === null) return null;
  const o = asObject(c, value, rel);
  if (o === undefined) return null;
  checkKeys(c, o, rel, CMCD_KEYS);
  return {
    br: optInteger(c, o, 'br', rel, 0, INT_MAX),
    bl: optInteger(c, o, 'bl', rel, 0, INT_MAX),
    mtp: optInteger(c, o, 'mtp', rel, 0, INT_MAX),
    ot: optOneOf(c, o, 'ot', rel, CMCD_OBJECT_TYPES, OT_SET),
    st: optOneOf(c, o, 'st', rel, CMCD_STREAM_TYPES, ST_SET),
    sf: optOneOf(c, o, 'sf', rel, CMCD_STREAMING_FORMATS, SF_SET),
    su: optBool(c, o, 'su', rel),
    d: optInteger(c, o, 'd', rel, 0, INT_MAX),
    rtp: optInteger(c, o, 'rtp', rel, 0, INT_MAX),
    tb: optInteger(c, o, 'tb', rel, 0, INT_MAX),
    bs: optBool(c, o, 'bs', rel),
    dl: optInteger(c, o, 'dl', rel, 0, INT_MAX),
  };
}

/** Each payload record: its allowed keys and how to read it. */
const PAYLOADS: {
  [F in PayloadField]: {
    keys: ReadonlySet<string>;
    read: (c: Checker, o: Obj, rel: string) => NonNullable<ValidEvent[F]>;
  };
} = {
  playIntent: {
    keys: keys('autoplay', 'startPositionMs', 'planId', 'ocaId'),
    read: (c, o, rel) => ({
      autoplay: o['autoplay'] === undefined ? false : bool(c, o, 'autoplay', rel),
      startPositionMs:
        o['startPositionMs'] === undefined ? 0 : integer(c, o, 'startPositionMs', rel, 0, LONG_MAX),
      planId: optStr(c, o, 'planId', rel, STRING_BOUNDS.name),
      ocaId: optStr(c, o, 'ocaId', rel, STRING_BOUNDS.id),
    }),
  },
  manifestLoaded: {
    keys: keys('loadMs', 'renditions', 'ocaId'),
    read: (c, o, rel) => ({
      loadMs: integer(c, o, 'loadMs', rel, 0, INT_MAX),
      renditions: integer(c, o, 'renditions', rel, 0, INT_MAX),
      ocaId: optStr(c, o, 'ocaId', rel, STRING_BOUNDS.id),
    }),
  },
  firstFrame: {
    keys: keys('bitrateKbps'),
    read: (c, o, rel) => ({ bitrateKbps: integer(c, o, 'bitrateKbps', rel, 0, INT_MAX) }),
  },
  renditionSwitch: {
    keys: keys('fromKbps', 'toKbps', 'level', 'height'),
    read: (c, o, rel) => ({
      fromKbps: integer(c, o, 'fromKbps', rel, 0, INT_MAX),
      toKbps: integer(c, o, 'toKbps', rel, 0, INT_MAX),
      level: integer(c, o, 'level', rel, 0, INT_MAX),
      height: optInteger(c, o, 'height', rel, 0, INT_MAX),
    }),
  },
  stall: {
    keys: keys('durationMs', 'bufferMs'),
    read: (c, o, rel) => ({
      durationMs: optInteger(c, o, 'durationMs', rel, 0, LONG_MAX),
      bufferMs: optInteger(c, o, 'bufferMs', rel, 0, INT_MAX),
    }),
  },
  segment: {
    keys: keys('ocaId', 'bytes', 'downloadMs', 'bitrateKbps', 'durationMs', 'level', 'url', 'cacheHit'),
    read: (c, o, rel) => ({
      ocaId: str(c, o, 'ocaId', rel, 1, STRING_BOUNDS.id),
      bytes: integer(c, o, 'bytes', rel, 0, LONG_MAX),
      downloadMs: integer(c, o, 'downloadMs', rel, 0, INT_MAX),
      bitrateKbps: integer(c, o, 'bitrateKbps', rel, 0, INT_MAX),
      durationMs: integer(c, o, 'durationMs', rel, 0, INT_MAX),
      level: optInteger(c, o, 'level', rel, 0, INT_MAX),
      url: optStr(c, o, 'url', rel, STRING_BOUNDS.url),
      cacheHit: optBool(c, o, 'cacheHit', rel),
    }),
  },
  heartbeat: {
    keys: keys('bufferMs', 'bitrateKbps', 'droppedFrames'),
    read: (c, o, rel) => ({
      bufferMs: integer(c, o, 'bufferMs', rel, 0, INT_MAX),
      bitrateKbps: integer(c, o, 'bitrateKbps', rel, 0, INT_MAX),
      droppedFrames: o['droppedFrames'] === undefined ? 0 : integer(c, o, 'droppedFrames', rel, 0, INT_MAX),
    }),
  },
  error: {
    keys: keys('type', 'details', 'fatal', 'httpStatus', 'message'),
    read: (c, o, rel) => ({
      type: oneOf(c, o, 'type', rel, ErrorTypeValues, ERROR_TYPES),
      details: str(c, o, 'details', rel, 1, STRING_BOUNDS.name),
      fatal: bool(c, o, 'fatal', rel),
      // RFC 9110 §15: status codes are three digits, 100 to 599.
      httpStatus: optInteger(c, o, 'httpStatus', rel, 100, 599),
      message: optStr(c, o, 'message', rel, STRING_BOUNDS.message),
    }),
  },
  seek: {
    keys: keys('fromMs', 'toMs'),
    read: (c, o, rel) => ({
      fromMs: integer(c, o, 'fromMs', rel, 0, LONG_MAX),
      toMs: integer(c, o, 'toMs', rel, 0, LONG_MAX),
    }),
  },
  sessionEnd: {
    keys: keys('reason'),
    read: (c, o, rel) => ({ reason: oneOf(c, o, 'reason', rel, EndReasonValues, END_REASONS) }),
  },
};

function payload<F extends PayloadField>(
  c: Checker,
  o: Obj,
  field: F,
  expectedField: PayloadField | null,
  kind: string,
): ValidEvent[F] | null {
  const v = o[field];
  const rel = `.${field}`;
  if (field !== expectedField) {
    if (v !== undefined && v !== null) {
      c.fail(
        'kind_mismatch',
        rel,
        expectedField === null
          ? `a ${kind} event carries no payload, but ${field} is set`
          : `a ${kind} event carries ${expectedField}, but ${field} is set`,
      );
    }
    return null;
  }
  if (v === undefined || v === null) {
    c.fail('missing_field', rel, `a ${kind} event needs ${field}`);
    return null;
  }
  const po = asObject(c, v, rel);
  if (po === undefined) return null;
  const spec = PAYLOADS[field];
  checkKeys(c, po, rel, spec.keys);
  return spec.read(c, po, rel);
}

/** The per-event step; `ctx` is fixed for one request. */
export function validateEvent(ctx: ValidateContext): Step<Indexed<unknown>, Indexed<ValidEvent>> {
  const minSeq = ctx.allowUnsequenced ? -1 : 0;
  return ({ index, value: raw }) => {
    const c = new Checker(index, ctx.pathOf);
    const o = asObject(c, raw, '');
    if (o === undefined) return deadLetter(c.failure as Rejection);
    if (Object.hasOwn(o, 'server')) {
      c.fail('forbidden_key', '.server', 'server is set by ingest, never by the player');
    }
    checkKeys(c, o, '', EVENT_KEYS);
    const kind = oneOf(c, o, 'kind', '', EventKindValues, KINDS);
    if (c.failure !== undefined) return deadLetter(c.failure);
    const expectedField = PAYLOAD_FIELD_OF_KIND[kind];
    const event: ValidEvent = {
      sessionId: str(c, o, 'sessionId', '', 1, STRING_BOUNDS.id),
      seq: integer(c, o, 'seq', '', minSeq, INT_MAX),
      viewerId: str(c, o, 'viewerId', '', 0, STRING_BOUNDS.viewerId),
      titleId: str(c, o, 'titleId', '', 1, STRING_BOUNDS.id),
      clientTs: integer(c, o, 'clientTs', '', 0, LONG_MAX),
      kind,
      playheadMs: optInteger(c, o, 'playheadMs', '', 0, LONG_MAX),
      device: device(c, o['device'], '.device'),
      experiments: experiments(c, o['experiments'], '.experiments'),
      cmcd: cmcd(c, o['cmcd'], '.cmcd'),
      playIntent: payload(c, o, 'playIntent', expectedField, kind),
      manifestLoaded: payload(c, o, 'manifestLoaded', expectedField, kind),
      firstFrame: payload(c, o, 'firstFrame', expectedField, kind),
      renditionSwitch: payload(c, o, 'renditionSwitch', expectedField, kind),
      stall: payload(c, o, 'stall', expectedField, kind),
      segment: payload(c, o, 'segment', expectedField, kind),
      heartbeat: payload(c, o, 'heartbeat', expectedField, kind),
      error: payload(c, o, 'error', expectedField, kind),
      seek: payload(c, o, 'seek', expectedField, kind),
      sessionEnd: payload(c, o, 'sessionEnd', expectedField, kind),
    };
    if (c.failure !== undefined) return deadLetter(c.failure);
    const time = checkTime(event.clientTs, ctx);
    if (time !== undefined) {
      return deadLetter({ ...time, path: time.path === '' ? `${ctx.pathOf(index)}.clientTs` : time.path });
    }
    return ok({ index, value: event });
  };
}

/**
 * The skew-corrected client time must be near the server's receive time. Correction follows
 * Snowplow's derived_tstamp (collector_tstamp - (dvce_sent_tstamp - dvce_created_tstamp)):
 * the event's time on the server clock is clientTs - skew. Returns a rejection with an empty
 * path for the event's own clientTs, or `$.sentAt` when the batch's clock is the fault.
 */
export function checkTime(clientTs: number, ctx: ValidateContext): Rejection | undefined {
  const { clockSkewMs, receivedAt, clock } = ctx;
  if (Math.abs(clockSkewMs) > clock.maxSkewMs) {
    return {
      code: 'clock_skew_out_of_range',
      path: '$.sentAt',
      reason: `the client clock is ${clockSkewMs} ms off the server clock; at most ±${clock.maxSkewMs} ms is believed`,
    };
  }
  const onServerClock = clientTs - clockSkewMs;
  if (onServerClock > receivedAt + clock.maxFutureMs) {
    return {
      code: 'timestamp_out_of_range',
      path: '',
      reason: `clientTs is ${onServerClock - receivedAt} ms in the future (after correcting ${clockSkewMs} ms of clock skew); at most ${clock.maxFutureMs} ms is accepted`,
    };
  }
  if (onServerClock < receivedAt - clock.maxPastMs) {
    return {
      code: 'timestamp_out_of_range',
      path: '',
      reason: `clientTs is ${receivedAt - onServerClock} ms in the past (after correcting ${clockSkewMs} ms of clock skew); at most ${clock.maxPastMs} ms is accepted`,
    };
  }
  return undefined;
}
