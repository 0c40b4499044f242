/**
 * Signed media URLs: HMAC-SHA256 (RFC 2104, FIPS 180-4) over a scope, an expiry and a key
 * id, checked in constant time, with key rotation by key id.
 *
 * Why the signature lives in the path and not in the query string
 * ----------------------------------------------------------------
 * A player fetches one multivariant playlist, then media playlists, then init segments and
 * media segments whose URIs are *relative* to the playlist that lists them (`seg_00001.m4s`).
 * RFC 3986 §5.2.2 resolves a relative reference against the base URL's path and takes the
 * query from the reference, so `?exp=..&sig=..` on a playlist URL is lost on every segment
 * URL the player builds from it. Signing each file would mean rewriting every playlist per
 * viewer. Instead the control plane signs a *path prefix* for one (title, session):
 *
 *     /t/<titleId>/<sessionId>~<exp>~<kid>~<sig>/<rendition>/<file>
 *
 * Everything under the prefix inherits the token through ordinary relative resolution, so
 * hls.js (and any player) fetches playlists and segments unchanged, and CMCD's own query
 * parameters (CTA-5004 `?CMCD=...`) can be added freely because the query is not signed.
 * This is the path-token form CDNs use for segmented streaming (Akamai Token Auth "ACL" with
 * a wildcard, CloudFront custom policies on `/path/*`): the grant is "this session may read
 * this title until exp", not "this one file". The file part is then checked by the OCA
 * against the title's list of files, so the token cannot reach anything else.
 *
 * `sign`/`verify` are the scope-level primitive (also usable with query parameters for
 * single-object URLs); `signMediaPrefix`/`verifyMediaPath` are the path-token form above.
 * Pure: no clock, no I/O; callers pass `nowMs`.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

export interface SigningKey {
  readonly id: string;
  readonly secret: Buffer;
  /** The secret imported once as an HMAC key: no key import per signature (every plan signs). */
  readonly key: KeyObject;
}

/** The active key signs; every key in `byId` verifies (old keys stay until their URLs expire). */
export interface Keyring {
  readonly active: SigningKey;
  readonly byId: ReadonlyMap<string, SigningKey>;
}

export interface SignatureParams {
  /** Expiry, Unix epoch seconds. */
  readonly exp: number;
  readonly kid: string;
  /** HMAC-SHA256, base64url without padding (RFC 4648 §5). */
  readonly sig: string;
}

export type VerifyFailure = 'expired' | 'tampered' | 'missing';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure; detail: string };

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** Title and session ids become path segments: unreserved characters, never `.` or `..`. */
const PATH_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const EXP = /^\d{1,12}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;
const DIGEST_BYTES = 32;
/** Domain separation: a signature made for one purpose or format version never verifies another. */
const CONTEXT = 'playloop-url-v1';
const TOKEN_SEPARATOR = '~';
export const MEDIA_PATH_ROOT = '/t/';

export function createKeyring(keys: ReadonlyArray<{ id: string; secret: string | Buffer }>): Keyring {
  const first = keys[0];
  if (first === undefined) throw new TypeError('a keyring needs at least one key');
  const byId = new Map<string, SigningKey>();
  for (const key of keys) {
    if (!KEY_ID.test(key.id))
      throw new TypeError(`signing key id ${JSON.stringify(key.id)} is not [A-Za-z0-9_-]{1,32}`);
    if (byId.has(key.id)) throw new TypeError(`signing key id ${key.id} appears twice`);
    const secret = typeof key.secret === 'string' ? Buffer.from(key.secret, 'utf8') : Buffer.from(key.secret);
    if (secret.length < 16) throw new TypeError(`signing key ${key.id} is shorter than 16 bytes`);
    byId.set(key.id, Object.freeze({ id: key.id, secret, key: createSecretKey(secret) }));
  }
  return Object.freeze({ active: byId.get(first.id) as SigningKey, byId });
}

/** From config `signing.keys` (`keyId:secret`, first one active). */
export function keyringFromConfig(keys: readonly string[]): Keyring {
  return createKeyring(
    keys.map((entry) => {
      const at = entry.indexOf(':');
      return { id: entry.slice(0, at), secret: entry.slice(at + 1) };
    }),
  );
}

/** What is signed: the context, the scope, the expiry and the key id, one per line. */
function signedText(key: SigningKey, scope: string, exp: number): string {
  return `${CONTEXT}\n${scope}\n${exp}\n${key.id}`;
}

function digest(key: SigningKey, scope: string, exp: number): Buffer {
  return createHmac('sha256', key.key)
    .update(signedText(key, scope, exp))
    .digest();
}

/** Signs `scope` until `expiresAtSec` (epoch seconds) with the active key or the one named. */
export function sign(scope: string, expiresAtSec: number, keyring: Keyring, keyId?: string): SignatureParams {
  if (!Number.isSafeInteger(expiresAtSec) || expiresAtSec < 0) {
    throw new TypeError(`expiresAtSec must be a non-negative integer, got ${expiresAtSec}`);
  }
  const key = keyId === undefined ? keyring.active : keyring.byId.get(keyId);
  if (key === undefined) throw new TypeError(`unknown signing key id ${keyId}`);
  return {
    exp: expiresAtSec,
    kid: key.id,
    sig: createHmac('sha256', key.key)
      .update(signedText(key, scope, expiresAtSec))
      .digest('base64url'),
  };
}

/**
 * Checks the signature first, then the expiry: a URL whose `exp` was pushed into the future
 * is `tampered`, not valid. Unknown key ids are `tampered` (nothing signed them that we trust).
 */
export function verify(
  scope: string,
  params: {
    readonly exp?: string | undefined;
    readonly kid?: string | undefined;
    readonly sig?: string | undefined;
  },
  nowMs: number,
  keyring: Keyring,
): VerifyResult {
  const { exp, kid, sig } = params;
  if (exp === undefined && kid === undefined && sig === undefined) {
    return { ok: false, reason: 'missing', detail: 'no signature' };
  }
  if (exp === undefined || kid === undefined || sig === undefined) {
    return { ok: false, reason: 'tampered', detail: 'signature is incomplete' };
  }
  if (!EXP.test(exp)) return { ok: false, reason: 'tampered', detail: 'exp is not an integer' };
  if (!SIG.test(sig)) return { ok: false, reason: 'tampered', detail: 'sig is not 32 bytes of base64url' };
  const key = keyring.byId.get(kid);
  if (key === undefined) return { ok: false, reason: 'tampered', detail: 'unknown key id' };
  const expected = digest(key, scope, Number(exp));
  const given = Buffer.from(sig, 'base64url');
  // The 43rd character carries 2 unused bits; a decoder ignores them, so four spellings
  // would decode to the same digest. Only the canonical spelling counts (RFC 4648 §3.5).
  if (given.toString('base64url') !== sig)
    return { ok: false, reason: 'tampered', detail: 'sig is not canonical' };
  // Lengths are public (always 32 here); the comparison itself must not leak how many bytes
  // matched, or the signature could be found byte by byte from response timings.
  if (given.length !== DIGEST_BYTES || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'tampered', detail: 'signature does not match' };
  }
  if (Number(exp) * 1000 <= nowMs) return { ok: false, reason: 'expired', detail: `expired at ${exp}` };
  return { ok: true };
}

/** `exp`, `kid` and `sig` as query parameters, for single-object URLs. */
export function signatureQuery(params: SignatureParams): string {
  return new URLSearchParams({ exp: String(params.exp), kid: params.kid, sig: params.sig }).toString();
}

export function verifyQuery(
  path: string,
  query: URLSearchParams,
  nowMs: number,
  keyring: Keyring,
): VerifyResult {
  return verify(
    path,
    {
      exp: query.get('exp') ?? undefined,
      kid: query.get('kid') ?? undefined,
      sig: query.get('sig') ?? undefined,
    },
    nowMs,
    keyring,
  );
}

export interface MediaGrant {
  readonly titleId: string;
  /** The playback session (CMCD `sid`); one grant per session so it can be traced and revoked. */
  readonly sessionId: string;
  readonly expiresAtSec: number;
}

function mediaScope(titleId: string, sessionId: string): string {
  return `${MEDIA_PATH_ROOT}${titleId}/${sessionId}/`;
}

/**
 * The signed prefix for one (title, session): `/t/<titleId>/<sessionId>~<exp>~<kid>~<sig>/`.
 * Append a file path (`master.m3u8`, `720p/index.m3u8`) to get a URL path.
 *
 * One HMAC per plan, not cached. CDNs that round the expiry up to a bucket do it so that one
 * signature serves every viewer of the same path for a while; that works when the signed scope
 * is shared (a title's path). Here the scope names the session, which every plan mints anew,
 * so no two plans ever sign the same (scope, exp) and a rounded expiry would save nothing.
 * Sharing a prefix across sessions would mean dropping the session from the grant, and with
 * it the per-session tracing (CMCD `sid` in the path) and revocation the OCAs rely on. The
 * HMAC is a fixed cost of the plan: 2.5-3.4 µs in a tight loop, ~8 µs inside the loaded server
 * (measured per request, interleaved, in one process), where OpenSSL's per-call set-up runs
 * cold; two one-shot SHA-256 calls over precomputed RFC 2104 pads measured the same there, so
 * node's createHmac stays.
 */
export function signMediaPrefix(grant: MediaGrant, keyring: Keyring, keyId?: string): string {
  if (!PATH_ID.test(grant.titleId))
    throw new TypeError(`title id ${JSON.stringify(grant.titleId)} is not path-safe`);
  if (!PATH_ID.test(grant.sessionId)) {
    throw new TypeError(`session id ${JSON.stringify(grant.sessionId)} is not path-safe`);
  }
  const s = sign(mediaScope(grant.titleId, grant.sessionId), grant.expiresAtSec, keyring, keyId);
  return `${MEDIA_PATH_ROOT}${grant.titleId}/${grant.sessionId}${TOKEN_SEPARATOR}${s.exp}${TOKEN_SEPARATOR}${s.kid}${TOKEN_SEPARATOR}${s.sig}/`;
}

export type MediaPathResult =
  | {
      ok: true;
      titleId: string;
      sessionId: string;
      expiresAtSec: number;
      keyId: string;
      /** The signed prefix, ending in `/`; an OCA reuses it to fill from its upstream. */
      prefix: string;
      /** What follows the prefix, e.g. `720p/seg_00003.m4s`; checked by the caller. */
      file: string;
    }
  | { ok: false; reason: VerifyFailure; detail: string };

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Verifies a request path (query string ignored) of the form made by `signMediaPrefix`.
 * No token at all is `missing`; a token that does not check out is `tampered`; a good token
 * past its expiry is `expired`.
 */
export function verifyMediaPath(rawPath: string, nowMs: number, keyring: Keyring): MediaPathResult {
  const queryAt = rawPath.indexOf('?');
  const path = queryAt === -1 ? rawPath : rawPath.slice(0, queryAt);
  if (!path.startsWith(MEDIA_PATH_ROOT)) return { ok: false, reason: 'missing', detail: 'not a media path' };
  const segments = path.slice(MEDIA_PATH_ROOT.length).split('/').map(decodeSegment);
  if (segments.some((s) => s === undefined))
    return { ok: false, reason: 'tampered', detail: 'bad percent-encoding' };
  const [titleId, token, ...rest] = segments as string[];
  if (titleId === undefined || token === undefined || !token.includes(TOKEN_SEPARATOR)) {
    return { ok: false, reason: 'missing', detail: 'no token in the path' };
  }
  const parts = token.split(TOKEN_SEPARATOR);
  if (parts.length !== 4) return { ok: false, reason: 'tampered', detail: 'token is malformed' };
  const [sessionId, exp, kid, sig] = parts as [string, string, string, string];
  if (!PATH_ID.test(titleId) || !PATH_ID.test(sessionId)) {
    return { ok: false, reason: 'tampered', detail: 'title or session id is malformed' };
  }
  const checked = verify(mediaScope(titleId, sessionId), { exp, kid, sig }, nowMs, keyring);
  if (!checked.ok) return checked;
  return {
    ok: true,
    titleId,
    sessionId,
    expiresAtSec: Number(exp),
    keyId: kid,
    prefix: `${MEDIA_PATH_ROOT}${titleId}/${token}/`,
    file: rest.join('/'),
  };
}
