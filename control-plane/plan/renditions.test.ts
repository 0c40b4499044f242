import { describe, expect, it } from 'vitest';
import { codecCovered, playableRenditions, startRendition } from './renditions.ts';
import { fakeLadder } from './testing.ts';

const { renditions } = fakeLadder();

describe('playable renditions', () => {
  it('matches RFC 6381 codecs exactly or by a prefix ending at a dot', () => {
    expect(codecCovered(['avc1'], 'avc1.42c01e')).toBe(true);
    expect(codecCovered(['AVC1'], 'avc1.42c01e')).toBe(true);
    expect(codecCovered(['mp4a.40'], 'mp4a.40.2')).toBe(true);
    expect(codecCovered(['avc1.42c01e'], 'avc1.42c01e')).toBe(true);
    expect(codecCovered(['avc1.42c01e'], 'avc1.42c01f')).toBe(false);
    expect(codecCovered(['avc'], 'avc1.42c01e')).toBe(false);
    expect(codecCovered(['mp4a.4'], 'mp4a.40.2')).toBe(false);
  });

  it('keeps renditions whose every codec is covered and whose picture fits', () => {
    const all = { codecs: ['avc1', 'mp4a'], maxWidth: 1920, maxHeight: 1080 };
    expect(playableRenditions(renditions, all).map((r) => r.id)).toEqual(['240p', '480p', '720p']);
    expect(
      playableRenditions(renditions, { ...all, maxWidth: 854, maxHeight: 480 }).map((r) => r.id),
    ).toEqual(['240p', '480p']);
    // No audio decoder: nothing plays (every rendition muxes AAC).
    expect(playableRenditions(renditions, { ...all, codecs: ['avc1'] })).toEqual([]);
    expect(
      playableRenditions(renditions, { ...all, codecs: ['avc1.42c015', 'avc1.42c01e', 'mp4a.40.2'] }).map(
        (r) => r.id,
      ),
    ).toEqual(['240p', '480p']);
  });

  it('lists first the highest rendition the throughput hint affords', () => {
    // 2,000 kbit/s x 0.7 = 1.4 Mbit/s: 480p (1.16 Mbit/s peak) fits, 720p (2.89) does not.
    expect(startRendition(renditions, 2_000)?.id).toBe('480p');
    expect(startRendition(renditions, 2_000, 0.5)?.id).toBe('240p');
    expect(startRendition(renditions, 100)?.id).toBe('240p');
    expect(startRendition(renditions, 50_000)?.id).toBe('720p');
    expect(startRendition(renditions, undefined)).toBeUndefined();
  });
});
