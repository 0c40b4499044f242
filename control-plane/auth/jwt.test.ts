import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jwtKeyring, signJwt, verifyJwt } from './jwt.ts';

const NOW = 1_700_000_000_000;
const ring = jwtKeyring(['k1:0123456789abcdef-secret'], 'viewer');

function part(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

describe('HS256 JWTs', () => {
  it('round-trips claims, in the RFC 7515 compact form, with an HKDF-derived key', () => {
    const token = signJwt({ sub: 'v-1', exp: NOW / 1000 + 60 }, ring);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'viewer+jwt',
      kid: 'k1',
    });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({
      sub: 'v-1',
      exp: NOW / 1000 + 60,
    });
    // Independently: HMAC-SHA256 (RFC 2104) over "header.payload" with the RFC 5869 HKDF key.
    const key = Buffer.from(
      hkdfSync('sha256', '0123456789abcdef-secret', 'playloop-control-plane-tokens', 'playloop viewer', 32),
    );
    expect(signature).toBe(createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url'));
    expect(verifyJwt(token, ring, NOW)).toEqual({ ok: true, claims: { sub: 'v-1', exp: NOW / 1000 + 60 } });
  });

  it('refuses missing, malformed, tampered and expired tokens with the reason', () => {
    const token = signJwt({ sub: 'v-1', exp: NOW / 1000 + 60 }, ring);
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(verifyJwt(undefined, ring, NOW)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyJwt('abc', ring, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyJwt(`${h}.${p}.${s}.x`, ring, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    // Another subject under the same signature.
    expect(verifyJwt(`${h}.${part({ sub: 'v-2', exp: NOW / 1000 + 60 })}.${s}`, ring, NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
    // Expiry pushed out: the MAC is checked first, so this is tampered, not valid.
    expect(verifyJwt(`${h}.${part({ sub: 'v-1', exp: NOW / 1000 + 1e6 })}.${s}`, ring, NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
    // alg "none" (RFC 8725 §3.1) cannot even be expressed: the header is not one we write.
    expect(verifyJwt(`${part({ alg: 'none', typ: 'JWT' })}.${p}.`, ring, NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
    expect(verifyJwt(token, ring, NOW + 61_000)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('accepts only the canonical spelling of a signature', () => {
    const token = signJwt({ exp: NOW / 1000 + 60 }, ring);
    const last = token.at(-1) as string;
    // The 43rd base64url character of a 32-byte MAC carries 2 unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    const sibling = alphabet[(index & ~3) | ((index + 1) & 3)] as string;
    expect(verifyJwt(token.slice(0, -1) + sibling, ring, NOW)).toMatchObject({
      ok: false,
      reason: 'tampered',
    });
  });

  it('keeps purposes apart and rotates keys', () => {
    const session = jwtKeyring(['k1:0123456789abcdef-secret'], 'session');
    const token = signJwt({ exp: NOW / 1000 + 60 }, ring);
    expect(verifyJwt(token, session, NOW)).toMatchObject({ ok: false, reason: 'tampered' });
    const rotated = jwtKeyring(['k2:a-brand-new-secret-key', 'k1:0123456789abcdef-secret'], 'viewer');
    expect(verifyJwt(token, rotated, NOW).ok).toBe(true);
    expect(signJwt({ exp: 1 }, rotated).split('.')[0]).toBe(
      part({ alg: 'HS256', typ: 'viewer+jwt', kid: 'k2' }),
    );
  });

  it('refuses bad key configuration', () => {
    expect(() => jwtKeyring([], 'viewer')).toThrow(/at least one/);
    expect(() => jwtKeyring(['k1:short'], 'viewer')).toThrow(/16/);
    expect(() => jwtKeyring(['k1:0123456789abcdef', 'k1:0123456789abcdef'], 'viewer')).toThrow(/twice/);
  });
});
