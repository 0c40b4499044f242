import { describe, expect, it } from 'vitest';
import {
  createKeyring,
  keyringFromConfig,
  sign,
  signatureQuery,
  signMediaPrefix,
  verify,
  verifyMediaPath,
  verifyQuery,
} from './url-signing.ts';

const keyring = createKeyring([{ id: 'k1', secret: '0123456789abcdef-secret' }]);
const NOW_MS = 1_700_000_000_000;
const LATER = 1_700_000_600; // exp 10 minutes after NOW

/** Replaces the character at `index` with a different one from the same alphabet. */
function flipChar(text: string, index: number): string {
  const c = text[index];
  const replacement = c === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('sign / verify', () => {
  it('matches an HMAC-SHA256 computed independently', () => {
    // Python 3.11: base64.urlsafe_b64encode(hmac.new(b'0123456789abcdef-secret',
    //   b'playloop-url-v1\n/t/title-001/sess-1/\n1700000000\nk1', hashlib.sha256).digest()).rstrip(b'=')
    const s = sign('/t/title-001/sess-1/', 1_700_000_000, keyring);
    expect(s).toEqual({ exp: 1_700_000_000, kid: 'k1', sig: '-XpJP5PKXGVOE2l-ZL47Wmu07mamxZpCM1AZYXc2Z9g' });
  });

  it('accepts its own signature before expiry', () => {
    const s = sign('/x/', LATER, keyring);
    expect(verify('/x/', { exp: String(s.exp), kid: s.kid, sig: s.sig }, NOW_MS, keyring)).toEqual({
      ok: true,
    });
  });

  it('calls a past expiry expired, and exactly-at-expiry expired too', () => {
    const s = sign('/x/', 1_700_000_000, keyring);
    const params = { exp: String(s.exp), kid: s.kid, sig: s.sig };
    expect(verify('/x/', params, NOW_MS + 1, keyring)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verify('/x/', params, NOW_MS, keyring)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verify('/x/', params, NOW_MS - 1, keyring)).toEqual({ ok: true });
  });

  it('calls any one changed character tampered: scope, exp, kid or sig', () => {
    const s = sign('/x/', LATER, keyring);
    const good = { exp: String(s.exp), kid: s.kid, sig: s.sig };
    for (let i = 0; i < s.sig.length; i++) {
      expect(verify('/x/', { ...good, sig: flipChar(s.sig, i) }, NOW_MS, keyring)).toMatchObject({
        reason: 'tampered',
      });
    }
    expect(verify('/y/', good, NOW_MS, keyring)).toMatchObject({ reason: 'tampered' });
    // Pushing the expiry later is tampering, not a longer grant.
    expect(verify('/x/', { ...good, exp: String(LATER + 1) }, NOW_MS, keyring)).toMatchObject({
      reason: 'tampered',
    });
    expect(verify('/x/', { ...good, kid: 'k2' }, NOW_MS, keyring)).toMatchObject({ reason: 'tampered' });
  });

  it('refuses non-canonical base64url spellings of a good signature', () => {
    // The last of 43 characters holds 4 data bits and 2 padding bits that decoders drop.
    const s = sign('/x/', LATER, keyring);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.sig.at(-1) as string);
    const sibling = alphabet[last ^ 1] as string; // differs only in a padding bit
    const variant = s.sig.slice(0, -1) + sibling;
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(s.sig, 'base64url'));
    expect(verify('/x/', { exp: String(s.exp), kid: s.kid, sig: variant }, NOW_MS, keyring)).toMatchObject({
      reason: 'tampered',
    });
  });

  it('distinguishes missing from incomplete', () => {
    expect(verify('/x/', {}, NOW_MS, keyring)).toMatchObject({ reason: 'missing' });
    expect(verify('/x/', { exp: String(LATER) }, NOW_MS, keyring)).toMatchObject({ reason: 'tampered' });
  });

  it('round-trips through query parameters', () => {
    const q = new URLSearchParams(signatureQuery(sign('/one/file.mp4', LATER, keyring)));
    expect(verifyQuery('/one/file.mp4', q, NOW_MS, keyring)).toEqual({ ok: true });
    expect(verifyQuery('/one/other.mp4', q, NOW_MS, keyring)).toMatchObject({ reason: 'tampered' });
    expect(verifyQuery('/one/file.mp4', new URLSearchParams(), NOW_MS, keyring)).toMatchObject({
      reason: 'missing',
    });
  });

  it('rotates keys: the old key still verifies, the new one signs', () => {
    const old = createKeyring([{ id: 'k1', secret: '0123456789abcdef-secret' }]);
    const rotated = keyringFromConfig(['k2:a-brand-new-secret-value', 'k1:0123456789abcdef-secret']);
    const byOld = sign('/x/', LATER, old);
    expect(verify('/x/', { exp: String(byOld.exp), kid: 'k1', sig: byOld.sig }, NOW_MS, rotated)).toEqual({
      ok: true,
    });
    const byNew = sign('/x/', LATER, rotated);
    expect(byNew.kid).toBe('k2');
    expect(verify('/x/', { exp: String(byNew.exp), kid: 'k2', sig: byNew.sig }, NOW_MS, old)).toMatchObject({
      reason: 'tampered',
    });
  });

  it('refuses weak or duplicate keys', () => {
    expect(() => createKeyring([{ id: 'k1', secret: 'short' }])).toThrow(/16 bytes/);
    expect(() =>
      createKeyring([
        { id: 'k1', secret: '0123456789abcdef' },
        { id: 'k1', secret: 'fedcba9876543210' },
      ]),
    ).toThrow(/twice/);
    expect(() => createKeyring([])).toThrow();
  });
});

describe('media path tokens', () => {
  const grant = {
    titleId: 'title-001',
    sessionId: 'c0ffee00-1234-4abc-8def-000000000001',
    expiresAtSec: LATER,
  };

  it('covers every file below the prefix, query strings included', () => {
    const prefix = signMediaPrefix(grant, keyring);
    expect(prefix).toMatch(/^\/t\/title-001\/c0ffee00-[^/]+~1700000600~k1~[A-Za-z0-9_-]{43}\/$/);
    const result = verifyMediaPath(`${prefix}720p/seg_00003.m4s?CMCD=bl%3D2000%2Cbr%3D2500`, NOW_MS, keyring);
    expect(result).toMatchObject({
      ok: true,
      titleId: 'title-001',
      sessionId: grant.sessionId,
      keyId: 'k1',
      prefix,
      file: '720p/seg_00003.m4s',
    });
  });

  it('resolves relative segment URIs to paths that still verify (RFC 3986 §5.2)', () => {
    const playlist = new URL(`http://127.0.0.1:1${signMediaPrefix(grant, keyring)}240p/index.m3u8`);
    const segment = new URL('seg_00000.m4s', playlist);
    const variant = new URL('../480p/index.m3u8', playlist);
    expect(verifyMediaPath(segment.pathname, NOW_MS, keyring)).toMatchObject({
      ok: true,
      file: '240p/seg_00000.m4s',
    });
    expect(verifyMediaPath(variant.pathname, NOW_MS, keyring)).toMatchObject({
      ok: true,
      file: '480p/index.m3u8',
    });
  });

  it('is tampered when one character of the path prefix changes', () => {
    const path = `${signMediaPrefix(grant, keyring)}master.m3u8`;
    // Every position inside the title id and the token (not the leading `/t/`).
    const tokenEnd = path.lastIndexOf('/');
    for (let i = 3; i < tokenEnd; i++) {
      if (path[i] === '/' || path[i] === '~') continue;
      const result = verifyMediaPath(flipChar(path, i), NOW_MS, keyring);
      expect(result.ok, `position ${i}`).toBe(false);
      if (!result.ok) expect(result.reason, `position ${i}`).toBe('tampered');
    }
  });

  it('is expired after exp and missing without a token', () => {
    const path = `${signMediaPrefix({ ...grant, expiresAtSec: 1_699_999_999 }, keyring)}master.m3u8`;
    expect(verifyMediaPath(path, NOW_MS, keyring)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyMediaPath('/t/title-001/240p/index.m3u8', NOW_MS, keyring)).toMatchObject({
      reason: 'missing',
    });
    expect(verifyMediaPath('/metrics', NOW_MS, keyring)).toMatchObject({ reason: 'missing' });
  });

  it('treats percent-encoded unreserved characters as themselves (RFC 3986 §2.3)', () => {
    const path = `${signMediaPrefix(grant, keyring)}master.m3u8`.replaceAll('~', '%7E');
    expect(verifyMediaPath(path, NOW_MS, keyring)).toMatchObject({ ok: true });
  });

  it('refuses ids that are not path-safe', () => {
    expect(() => signMediaPrefix({ ...grant, titleId: '..' }, keyring)).toThrow(/path-safe/);
    expect(() => signMediaPrefix({ ...grant, sessionId: 'a/b' }, keyring)).toThrow(/path-safe/);
    expect(() => signMediaPrefix({ ...grant, sessionId: 'a~b' }, keyring)).toThrow(/path-safe/);
  });
});
