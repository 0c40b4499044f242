import { describe, expect, it } from 'vitest';
import { renderMultivariantPlaylist, type VariantSource } from './playlist.ts';

const ladder: VariantSource[] = [
  // Deliberately not in bandwidth order.
  {
    id: '720p',
    bandwidth: 2_893_492,
    averageBandwidth: 2_611_513,
    codecs: 'avc1.42c01f,mp4a.40.2',
    width: 1280,
    height: 720,
    frameRate: 24,
    playlist: '720p/index.m3u8',
  },
  {
    id: '240p',
    bandwidth: 502_588,
    averageBandwidth: 487_472,
    codecs: 'avc1.42c015,mp4a.40.2',
    width: 426,
    height: 240,
    frameRate: 24,
    playlist: '240p/index.m3u8',
  },
  {
    id: '480p',
    bandwidth: 1_159_292,
    averageBandwidth: 1_087_888,
    codecs: 'avc1.42c01e,mp4a.40.2',
    width: 854,
    height: 480,
    frameRate: 24,
    playlist: '480p/index.m3u8',
  },
];

/**
 * The attribute-list grammar of RFC 8216bis §4.2, written out independently of the code under
 * test: AttributeName is [A-Z0-9-]+, values are decimal-integer, hexadecimal-sequence,
 * decimal-floating-point, quoted-string, enumerated-string or decimal-resolution.
 */
const VALUE = {
  decimalInteger: /^[0-9]{1,20}$/,
  decimalFloat: /^[0-9]+(\.[0-9]+)?$/,
  quoted: /^"[^"\r\n]*"$/,
  resolution: /^[0-9]+x[0-9]+$/,
};
function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"\r\n]*"|[^",]*)(,|$)/g;
  let consumed = 0;
  for (const m of list.matchAll(re)) {
    expect(m.index).toBe(consumed); // no stray characters between attributes
    const name = m[1] as string;
    expect(out[name], `attribute ${name} appears twice`).toBeUndefined();
    out[name] = m[2] as string;
    consumed = m.index + m[0].length;
  }
  expect(consumed).toBe(list.length);
  return out;
}

function streamInfs(text: string): Array<{ attrs: Record<string, string>; uri: string }> {
  const lines = text.split('\n');
  const out: Array<{ attrs: Record<string, string>; uri: string }> = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return;
    // §4.4.6.2: the tag is followed by the URI line (blank lines aside, none are emitted here).
    const uri = lines[i + 1] ?? '';
    expect(uri.length).toBeGreaterThan(0);
    expect(uri.startsWith('#')).toBe(false);
    out.push({ attrs: attributes(line.slice('#EXT-X-STREAM-INF:'.length)), uri });
  });
  return out;
}

describe('renderMultivariantPlaylist', () => {
  const steered = renderMultivariantPlaylist(
    ladder,
    [
      { pathwayId: 'oca-edge-as3320-a', baseUrl: 'http://127.0.0.1:7102/t/title-001/s~1~k~sig/' },
      { pathwayId: 'oca-edge-as3320-b', baseUrl: 'http://127.0.0.1:7103/t/title-001/s~1~k~sig/' },
    ],
    {
      steering: { serverUri: 'http://127.0.0.1:7071/v1/steering?session=s1', pathwayId: 'oca-edge-as3320-a' },
    },
  );

  it('starts with #EXTM3U and holds no tag a Multivariant Playlist may not (§4.4.1.1, §4.4.3)', () => {
    const lines = steered.split('\n');
    expect(lines[0]).toBe('#EXTM3U');
    for (const mediaOnly of ['#EXTINF', '#EXT-X-TARGETDURATION', '#EXT-X-MEDIA-SEQUENCE', '#EXT-X-ENDLIST']) {
      expect(steered).not.toContain(mediaOnly);
    }
    expect(steered.endsWith('\n')).toBe(true);
  });

  it('carries one EXT-X-CONTENT-STEERING with SERVER-URI and a listed PATHWAY-ID (§4.4.6.6)', () => {
    const tags = steered.split('\n').filter((l) => l.startsWith('#EXT-X-CONTENT-STEERING:'));
    expect(tags).toHaveLength(1);
    const attrs = attributes((tags[0] as string).slice('#EXT-X-CONTENT-STEERING:'.length));
    expect(attrs['SERVER-URI']).toBe('"http://127.0.0.1:7071/v1/steering?session=s1"');
    expect(attrs['PATHWAY-ID']).toBe('"oca-edge-as3320-a"');
    // It precedes the variants it steers.
    expect(steered.indexOf('#EXT-X-CONTENT-STEERING')).toBeLessThan(steered.indexOf('#EXT-X-STREAM-INF'));
  });

  it('gives every variant typed attributes (§4.4.6.2)', () => {
    const variants = streamInfs(steered);
    expect(variants).toHaveLength(6);
    for (const { attrs } of variants) {
      expect(attrs['BANDWIDTH']).toMatch(VALUE.decimalInteger);
      expect(attrs['AVERAGE-BANDWIDTH']).toMatch(VALUE.decimalInteger);
      expect(Number(attrs['AVERAGE-BANDWIDTH'])).toBeLessThanOrEqual(Number(attrs['BANDWIDTH']));
      expect(attrs['CODECS']).toMatch(VALUE.quoted);
      expect(attrs['RESOLUTION']).toMatch(VALUE.resolution);
      // "rounded to three decimal places"
      expect(attrs['FRAME-RATE']).toMatch(/^[0-9]+\.[0-9]{3}$/);
      expect(attrs['FRAME-RATE']).toMatch(VALUE.decimalFloat);
      // Pathway IDs: [a-zA-Z0-9._-]; STABLE-VARIANT-ID: [a-zA-Z0-9+/=._-].
      expect(attrs['PATHWAY-ID']).toMatch(/^"[A-Za-z0-9._-]+"$/);
      expect(attrs['STABLE-VARIANT-ID']).toMatch(/^"[A-Za-z0-9+/=._-]+"$/);
    }
    expect(variants[0]?.attrs).toMatchObject({
      BANDWIDTH: '502588',
      CODECS: '"avc1.42c015,mp4a.40.2"',
      RESOLUTION: '426x240',
      'FRAME-RATE': '24.000',
    });
  });

  it('lists the same variants on every Pathway, each URI under its own OCA', () => {
    const variants = streamInfs(steered);
    const byPathway = new Map<string, string[]>();
    for (const { attrs, uri } of variants) {
      const pathway = (attrs['PATHWAY-ID'] ?? '').replaceAll('"', '');
      byPathway.set(pathway, [...(byPathway.get(pathway) ?? []), attrs['STABLE-VARIANT-ID'] ?? '']);
      const port = pathway.endsWith('-a') ? '7102' : '7103';
      expect(uri).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:${port}/t/title-001/s~1~k~sig/\\d+p/index\\.m3u8$`),
      );
    }
    expect([...byPathway.keys()]).toEqual(['oca-edge-as3320-a', 'oca-edge-as3320-b']);
    expect(byPathway.get('oca-edge-as3320-a')).toEqual(['"240p"', '"480p"', '"720p"']);
    expect(byPathway.get('oca-edge-as3320-b')).toEqual(byPathway.get('oca-edge-as3320-a'));
  });

  it('puts a chosen start variant first and otherwise orders by bandwidth', () => {
    const text = renderMultivariantPlaylist(ladder, [{ baseUrl: '' }], { firstVariantId: '480p' });
    expect(streamInfs(text).map((v) => v.uri)).toEqual([
      '480p/index.m3u8',
      '240p/index.m3u8',
      '720p/index.m3u8',
    ]);
    // A single unsteered copy: no PATHWAY-ID (the default Pathway "."), no steering tag.
    expect(text).not.toContain('PATHWAY-ID');
    expect(text).not.toContain('CONTENT-STEERING');
  });

  it('refuses what would make an invalid playlist', () => {
    const p = [{ pathwayId: 'a', baseUrl: '' }];
    expect(() => renderMultivariantPlaylist(ladder, [{ pathwayId: 'has space', baseUrl: '' }])).toThrow(
      /Pathway ID/,
    );
    expect(() =>
      renderMultivariantPlaylist(ladder, [
        { pathwayId: 'a', baseUrl: '' },
        { pathwayId: 'a', baseUrl: '' },
      ]),
    ).toThrow(/twice/);
    expect(() =>
      renderMultivariantPlaylist(ladder, p, { steering: { serverUri: 'x', pathwayId: 'b' } }),
    ).toThrow(/not one of/);
    expect(() => renderMultivariantPlaylist(ladder, p, { steering: { serverUri: 'a"b' } })).toThrow(
      /quoted-string/,
    );
    expect(() => renderMultivariantPlaylist([{ ...(ladder[0] as VariantSource), id: 'a b' }], p)).toThrow(
      /STABLE-VARIANT-ID/,
    );
    expect(() => renderMultivariantPlaylist(ladder, [{ baseUrl: '' }, { baseUrl: '' }])).toThrow(/pathwayId/);
    expect(() => renderMultivariantPlaylist([], p)).toThrow();
  });
});
