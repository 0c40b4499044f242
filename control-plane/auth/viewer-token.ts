/**
 * Viewer tokens: who is asking for a playback plan. A JWT (jwt.ts) whose subject is the
 * viewer id, sent as `Authorization: Bearer <token>` (RFC 6750 §2.1). Issuing one for a
 * viewer id is all a local deployment needs; a real one would issue it after login.
 */
import { PlayloopError } from '../../core/errors.ts';
import { ByteLru } from '../oca/lru.ts';
import { type JwtFailure, type JwtKeyring, jwtKeyring, signJwt, verifyJwt } from './jwt.ts';

export const VIEWER_TOKEN_PURPOSE = 'viewer';

/**
 * Viewer ids travel in allocation events, the assignment hash and logs: printable ASCII
 * without separators keeps them identical on every platform.
 */
export const VIEWER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface ViewerToken {
  readonly token: string;
  readonly viewerId: string;
  /** Seconds since the epoch. */
  readonly expiresAtSec: number;
}

export function viewerKeyring(entries: readonly string[]): JwtKeyring {
  return jwtKeyring(entries, VIEWER_TOKEN_PURPOSE);
}

export function issueViewerToken(
  viewerId: string,
  ring: JwtKeyring,
  nowMs: number,
  ttlSec: number,
): ViewerToken {
  if (!VIEWER_ID.test(viewerId)) {
    throw new PlayloopError('BAD_REQUEST', `viewerId must match ${VIEWER_ID.source}`, {
      details: { field: 'viewerId' },
    });
  }
  const iat = Math.floor(nowMs / 1000);
  const expiresAtSec = iat + ttlSec;
  return { token: signJwt({ sub: viewerId, iat, exp: expiresAtSec }, ring), viewerId, expiresAtSec };
}

export type ViewerAuth =
  | { readonly ok: true; readonly viewerId: string }
  | { readonly ok: false; readonly reason: JwtFailure; readonly detail: string };

/** The token from an Authorization header value (`Bearer <token>`, scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}

export function verifyViewerToken(token: string | undefined, ring: JwtKeyring, nowMs: number): ViewerAuth {
  return new ViewerTokenVerifier(ring, 0).verify(token, nowMs);
}

/**
 * Verification with a bounded cache of tokens already verified, as fast-jwt's `cache` option
 * does: a viewer's token comes back with every playback of the day, and a hit skips the
 * HMAC, the base64 and the JSON. Only verified tokens are cached, keyed by the exact token
 * string, with their expiry, which is still checked on every hit.
 */
export class ViewerTokenVerifier {
  private readonly verified: ByteLru<{ readonly viewerId: string; readonly expMs: number }>;

  constructor(
    private readonly ring: JwtKeyring,
    maxCached = 10_000,
  ) {
    // Every entry weighs 1: the byte bound is an entry bound.
    this.verified = new ByteLru(maxCached, () => 1);
  }

  verify(token: string | undefined, nowMs: number): ViewerAuth {
    if (token !== undefined) {
      const hit = this.verified.get(token);
      if (hit !== undefined) {
        if (hit.expMs > nowMs) return { ok: true, viewerId: hit.viewerId };
        this.verified.delete(token);
        return { ok: false, reason: 'expired', detail: `expired at ${hit.expMs / 1000}` };
      }
    }
    const result = verifyJwt(token, this.ring, nowMs);
    if (!result.ok) return result;
    const sub = result.claims['sub'];
    if (typeof sub !== 'string' || !VIEWER_ID.test(sub)) {
      return { ok: false, reason: 'malformed', detail: 'sub is not a viewer id' };
    }
    this.verified.set(token as string, { viewerId: sub, expMs: (result.claims['exp'] as number) * 1000 });
    return { ok: true, viewerId: sub };
  }
}
