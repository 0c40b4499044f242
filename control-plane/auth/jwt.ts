/**
 * Compact JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 ("HS256", RFC 7518 §3.2) in
 * the JWS compact serialization (RFC 7515 §7.1): `b64url(header).b64url(claims).b64url(mac)`.
 * A standard shape, so any JWT tool can read a token while debugging; a deliberately small
 * implementation, so nothing in it can be talked into another algorithm.
 *
 * Hardening that matters for HS256 (RFC 8725, "JWT Best Current Practices"):
 * - the header is never parsed: a token's header must be byte-for-byte one of the headers
 *   this keyring writes (one per key id), so `alg: none` or an RSA/HMAC confusion cannot even
 *   be expressed (§3.1, §3.2);
 * - every purpose (viewer token, session token) gets its own key, derived from the configured
 *   secret with HKDF-SHA256 (RFC 5869) and its own `typ`, so a token minted for one purpose
 *   never verifies as another (§3.11, §3.12, cross-JWT confusion);
 * - the MAC is compared in constant time; the expiry is checked only after the MAC.
 *
 * HMAC keys are turned into KeyObjects once (no per-request key import). Pure apart from the
 * clock, which callers pass in.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';

export interface JwtKey {
  readonly id: string;
  readonly key: KeyObject;
  /** The encoded header this key writes: `b64url({"alg":"HS256","typ":...,"kid":...})`. */
  readonly header: string;
}

export interface JwtKeyring {
  readonly purpose: string;
  readonly active: JwtKey;
  readonly byHeader: ReadonlyMap<string, JwtKey>;
}

export type JwtFailure = 'missing' | 'malformed' | 'tampered' | 'expired';
export type JwtResult =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: JwtFailure; readonly detail: string };

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** SHA-256 output: 32 bytes are 43 base64url characters without padding. */
const MAC_CHARS = 43;
const HKDF_SALT = Buffer.from('playloop-control-plane-tokens', 'utf8');

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * A keyring for one purpose from config entries `keyId:secret` (first one signs). Each
 * purpose derives its own 32-byte key: HKDF-SHA256(secret, salt, info = "playloop <purpose>").
 */
export function jwtKeyring(entries: readonly string[], purpose: string): JwtKeyring {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(purpose)) throw new TypeError(`bad token purpose ${purpose}`);
  const byHeader = new Map<string, JwtKey>();
  const ids = new Set<string>();
  let active: JwtKey | undefined;
  for (const entry of entries) {
    const at = entry.indexOf(':');
    const id = entry.slice(0, at);
    const secret = entry.slice(at + 1);
    if (at <= 0 || !KEY_ID.test(id))
      throw new TypeError(`token key id ${JSON.stringify(id)} is not [A-Za-z0-9_-]{1,32}`);
    if (secret.length < 16) throw new TypeError(`token key ${id} is shorter than 16 characters`);
    if (ids.has(id)) throw new TypeError(`token key id ${id} appears twice`);
    ids.add(id);
    const derived = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, `playloop ${purpose}`, 32));
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: `${purpose}+jwt`, kid: id }));
    const key: JwtKey = Object.freeze({ id, key: createSecretKey(derived), header });
    byHeader.set(header, key);
    active ??= key;
  }
  if (active === undefined) throw new TypeError('a token keyring needs at least one key');
  return Object.freeze({ purpose, active, byHeader });
}

function mac(key: KeyObject, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

/** Signs `claims` (which should carry `exp`, seconds since the epoch) with the active key. */
export function signJwt(claims: Readonly<Record<string, unknown>>, ring: JwtKeyring): string {
  const input = `${ring.active.header}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', ring.active.key).update(input).digest('base64url')}`;
}

/**
 * Verifies a token and returns its claims. Checks, in order: three parts; a header this
 * keyring wrote (so the algorithm and key are ours); the MAC (constant time, canonical
 * base64url only); claims that are a JSON object with a numeric `exp`; `exp` after `nowMs`.
 */
export function verifyJwt(token: string | undefined, ring: JwtKeyring, nowMs: number): JwtResult {
  if (token === undefined || token === '') return { ok: false, reason: 'missing', detail: 'no token' };
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) {
    return { ok: false, reason: 'malformed', detail: 'a token has three dot-separated parts' };
  }
  const header = token.slice(0, first);
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  const key = ring.byHeader.get(header);
  if (key === undefined) return { ok: false, reason: 'tampered', detail: 'unknown header or key id' };
  if (signature.length !== MAC_CHARS || !B64URL.test(signature) || !B64URL.test(payload)) {
    return { ok: false, reason: 'malformed', detail: 'payload or signature is not base64url' };
  }
  const given = Buffer.from(signature, 'base64url');
  // The last character carries 2 spare bits; only the canonical spelling is accepted, so a
  // token has exactly one valid form (RFC 4648 §3.5).
  if (given.toString('base64url') !== signature) {
    return { ok: false, reason: 'tampered', detail: 'signature is not canonical' };
  }
  const expected = mac(key.key, token.slice(0, second));
  if (!timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'tampered', detail: 'signature does not match' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', detail: 'claims are not JSON' };
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return { ok: false, reason: 'malformed', detail: 'claims are not an object' };
  }
  const record = claims as Record<string, unknown>;
  const exp = record['exp'];
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    return { ok: false, reason: 'malformed', detail: 'exp is missing or not an integer' };
  }
  if (exp * 1000 <= nowMs) return { ok: false, reason: 'expired', detail: `expired at ${exp}` };
  return { ok: true, claims: record };
}
