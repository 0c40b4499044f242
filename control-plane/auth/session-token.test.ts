import { describe, expect, it } from 'vitest';
import { type SessionClaims, sessionKeyring, signSessionToken, verifySessionToken } from './session-token.ts';
import { bearerToken, issueViewerToken, verifyViewerToken, viewerKeyring } from './viewer-token.ts';

const KEYS = ['k1:0123456789abcdef-secret'];
const NOW = 1_700_000_000_000;
const claims: SessionClaims = {
  sid: 's-1',
  tid: 'title-001',
  isp: 'AS3320',
  reg: 'eu-central',
  pol: 'health-weighted',
  oc: ['oca-a', 'oca-b'],
  rv: ['240p', '480p'],
  fv: null,
  exp: NOW / 1000 + 3600,
};

describe('session tokens', () => {
  it('carry the session state and verify only for their own session', () => {
    const ring = sessionKeyring(KEYS);
    const token = signSessionToken(claims, ring);
    expect(verifySessionToken(token, 's-1', ring, NOW)).toEqual({ ok: true, claims });
    expect(verifySessionToken(token, 's-2', ring, NOW)).toMatchObject({ ok: false, reason: 'tampered' });
    expect(verifySessionToken(token, 's-1', ring, NOW + 3_600_000)).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('are not viewer tokens, and viewer tokens are not session tokens', () => {
    const viewer = issueViewerToken('viewer-1', viewerKeyring(KEYS), NOW, 60);
    expect(verifySessionToken(viewer.token, 's-1', sessionKeyring(KEYS), NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
    const session = signSessionToken(claims, sessionKeyring(KEYS));
    expect(verifyViewerToken(session, viewerKeyring(KEYS), NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
  });
});

describe('viewer tokens', () => {
  it('are issued for a viewer id and read from a Bearer header', () => {
    const ring = viewerKeyring(KEYS);
    const issued = issueViewerToken('viewer-1', ring, NOW, 60);
    expect(issued.expiresAtSec).toBe(NOW / 1000 + 60);
    expect(verifyViewerToken(bearerToken(`Bearer ${issued.token}`), ring, NOW)).toEqual({
      ok: true,
      viewerId: 'viewer-1',
    });
    expect(bearerToken(`bearer ${issued.token}`)).toBe(issued.token);
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(() => issueViewerToken('has space', ring, NOW, 60)).toThrow(/viewerId/);
  });
});

describe('viewer token cache', () => {
  it('answers a verified token from the cache, still checking its expiry', async () => {
    const { ViewerTokenVerifier } = await import('./viewer-token.ts');
    const ring = viewerKeyring(KEYS);
    const verifier = new ViewerTokenVerifier(ring, 2);
    const issued = issueViewerToken('viewer-1', ring, NOW, 60);
    expect(verifier.verify(issued.token, NOW)).toEqual({ ok: true, viewerId: 'viewer-1' });
    expect(verifier.verify(issued.token, NOW + 1_000)).toEqual({ ok: true, viewerId: 'viewer-1' });
    expect(verifier.verify(issued.token, NOW + 60_000)).toMatchObject({ ok: false, reason: 'expired' });
    // Failures are never cached: a tampered token is checked (and refused) every time.
    const bad = `${issued.token.slice(0, -2)}${issued.token.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(verifier.verify(bad, NOW)).toMatchObject({ ok: false, reason: 'tampered' });
    expect(verifier.verify(bad, NOW)).toMatchObject({ ok: false, reason: 'tampered' });
  });
});
