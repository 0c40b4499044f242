/**
 * Session tokens: everything the control plane needs to serve a session's multivariant
 * playlist and its Content Steering manifests, carried in the URLs of the plan rather than
 * kept in memory. Any control-plane instance can answer any session (horizontal scaling, no
 * sticky routing, nothing to evict), and a restart loses nothing. The token is a JWT
 * (jwt.ts) with its own derived key, so it cannot be replayed as a viewer token.
 *
 * What it holds, and why each field is needed later:
 * - `sid`, `tid`: the session and title, which the media grant (signed path prefix) covers;
 * - `isp`, `reg`: the viewer's network scope, to pick the steering config of the session;
 * - `pol`: the steering policy of the viewer's experiment cell;
 * - `oc`: the OCAs listed as Pathways in the playlist, initial Pathway first. A steering
 *   manifest may only order these (a Pathway the playlist lacks means nothing to hls.js);
 * - `rv`, `fv`: the renditions the device can play, and the one listed first;
 * - `exp`: the token's and the media grant's expiry (epoch seconds), so the playlist
 *   rendered later signs exactly the prefix the plan handed out.
 */
import { STEERING_POLICIES, type SteeringPolicy } from '../../experiments/definitions/vocabulary.ts';
import { type JwtFailure, type JwtKeyring, jwtKeyring, signJwt, verifyJwt } from './jwt.ts';

export const SESSION_TOKEN_PURPOSE = 'session';

export interface SessionClaims {
  readonly sid: string;
  readonly tid: string;
  readonly isp: string | null;
  readonly reg: string | null;
  readonly pol: SteeringPolicy;
  readonly oc: readonly string[];
  readonly rv: readonly string[];
  readonly fv: string | null;
  readonly exp: number;
}

export function sessionKeyring(entries: readonly string[]): JwtKeyring {
  return jwtKeyring(entries, SESSION_TOKEN_PURPOSE);
}

export function signSessionToken(claims: SessionClaims, ring: JwtKeyring): string {
  // Field by field, in a fixed order: the token's bytes depend on nothing but the values.
  return signJwt(
    {
      sid: claims.sid,
      tid: claims.tid,
      isp: claims.isp,
      reg: claims.reg,
      pol: claims.pol,
      oc: claims.oc,
      rv: claims.rv,
      fv: claims.fv,
      exp: claims.exp,
    },
    ring,
  );
}

export type SessionAuth =
  | { readonly ok: true; readonly claims: SessionClaims }
  | { readonly ok: false; readonly reason: JwtFailure; readonly detail: string };

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function nullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Verifies the token and that it was issued for `sessionId` (the id in the URL path). */
export function verifySessionToken(
  token: string | undefined,
  sessionId: string,
  ring: JwtKeyring,
  nowMs: number,
): SessionAuth {
  const result = verifyJwt(token, ring, nowMs);
  if (!result.ok) return result;
  const c = result.claims;
  const { sid, tid, isp, reg, pol, oc, rv, fv, exp } = c;
  if (
    typeof sid !== 'string' ||
    typeof tid !== 'string' ||
    !nullableString(isp) ||
    !nullableString(reg) ||
    typeof pol !== 'string' ||
    !(STEERING_POLICIES as readonly string[]).includes(pol) ||
    !isStringArray(oc) ||
    oc.length === 0 ||
    !isStringArray(rv) ||
    !nullableString(fv) ||
    typeof exp !== 'number'
  ) {
    return { ok: false, reason: 'malformed', detail: 'session claims are incomplete' };
  }
  // A signed token whose session differs from the path was issued for another session.
  if (sid !== sessionId) return { ok: false, reason: 'tampered', detail: 'token is for another session' };
  return {
    ok: true,
    claims: { sid, tid, isp, reg, pol: pol as SteeringPolicy, oc, rv, fv, exp },
  };
}
