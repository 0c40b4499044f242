import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LADDER,
  ffmpegArgs,
  gopFrames,
  ladderId,
  SHORT_LADDER,
  validateLadderSpec,
} from './ladder-spec.ts';

function argAfter(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args[i + 1];
}

describe('ladder specs', () => {
  it('meet the brief: 2 s segments, at least 3 renditions, valid', () => {
    for (const spec of [DEFAULT_LADDER, SHORT_LADDER]) {
      expect(validateLadderSpec(spec)).toEqual(spec);
      expect(spec.segmentDurationSec).toBe(2);
      expect(spec.renditions.length).toBeGreaterThanOrEqual(3);
    }
    expect(DEFAULT_LADDER.durationSec).toBeGreaterThanOrEqual(60);
  });

  it('get an id from a hash of their settings', () => {
    const id = ladderId(DEFAULT_LADDER);
    expect(id).toMatch(/^testpattern-[0-9a-f]{12}$/);
    // Key order does not matter; any value does.
    const reordered = { ...DEFAULT_LADDER, renditions: DEFAULT_LADDER.renditions, name: DEFAULT_LADDER.name };
    expect(ladderId(reordered)).toBe(id);
    expect(ladderId({ ...DEFAULT_LADDER, toneHz: 441 })).not.toBe(id);
    expect(ladderId(SHORT_LADDER)).not.toBe(id);
  });

  it('refuses odd sizes, duplicate ids and GOPs that cannot align', () => {
    const bad = (patch: object) => () => validateLadderSpec({ ...DEFAULT_LADDER, ...patch });
    expect(bad({ renditions: [{ id: 'a', width: 427, height: 240, videoBitrateKbps: 400 }] })).toThrow(
      /even/,
    );
    const r = { id: 'a', width: 426, height: 240, videoBitrateKbps: 400 };
    expect(bad({ renditions: [r, r] })).toThrow(/duplicate/);
    expect(bad({ frameRate: 23.976 })).toThrow();
  });
});

describe('ffmpegArgs', () => {
  const args = ffmpegArgs(DEFAULT_LADDER, '/out');

  it('fixes the GOP at one segment so every segment starts on a keyframe', () => {
    expect(gopFrames(DEFAULT_LADDER)).toBe(48); // 2 s at 24 fps
    expect(argAfter(args, '-g')).toBe('48');
    expect(argAfter(args, '-keyint_min')).toBe('48');
    expect(argAfter(args, '-sc_threshold')).toBe('0');
    expect(argAfter(args, '-hls_time')).toBe('2');
  });

  it('writes fMP4 VOD HLS with one stream per rendition, named by id', () => {
    expect(argAfter(args, '-hls_segment_type')).toBe('fmp4');
    expect(argAfter(args, '-hls_playlist_type')).toBe('vod');
    expect(argAfter(args, '-var_stream_map')).toBe(
      'v:0,a:0,name:240p v:1,a:1,name:360p v:2,a:2,name:480p v:3,a:3,name:720p',
    );
    expect(argAfter(args, '-b:v:3')).toBe('2500k');
    expect(args.at(-1)).toBe('/out/%v/index.m3u8');
    const graph = argAfter(args, '-filter_complex') ?? '';
    expect(graph).toContain('[0:v]split=4[s0][s1][s2][s3]');
    expect(graph).toContain('scale=1280:720');
    expect(graph).toContain("drawtext=text='720p  %{pts\\:hms}'");
  });
});
