/**
 * The encoded ladder itself, checked with Debian's ffprobe: segment boundaries are keyframes
 * at the same presentation time in every rendition (so a player can switch at any boundary),
 * the encode is cached by a hash of its settings, and failures say what to do.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLadder, type Ladder } from '../control-plane/media/ladder.ts';
import { type LadderSpec, ladderId, SHORT_LADDER } from '../control-plane/media/ladder-spec.ts';
import { loadConfig } from '../core/config.ts';
import { PlayloopError } from '../core/errors.ts';

const run = promisify(execFile);

/** Tiny pictures, 12 fps, 4 s: an encode of about a second, for the caching tests. */
const TINY: LadderSpec = {
  ...SHORT_LADDER,
  name: 'tiny',
  durationSec: 4,
  frameRate: 12,
  renditions: [
    { id: 'a', width: 128, height: 72, videoBitrateKbps: 60 },
    { id: 'b', width: 192, height: 108, videoBitrateKbps: 100 },
    { id: 'c', width: 256, height: 144, videoBitrateKbps: 150 },
  ],
};

let ladder: Ladder;
let scratch: string;

beforeAll(async () => {
  ladder = await ensureLadder(loadConfig().dataDir, SHORT_LADDER);
  scratch = await mkdtemp(join(tmpdir(), 'playloop-media-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** First video packet of a segment played after its init section: [pts seconds, is keyframe]. */
async function firstVideoPacket(init: string, segment: string): Promise<[number, boolean]> {
  const joined = join(scratch, `probe-${Math.random().toString(36).slice(2)}.mp4`);
  await writeFile(joined, Buffer.concat([await readFile(init), await readFile(segment)]));
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,flags',
    '-read_intervals',
    '%+#1',
    '-of',
    'csv=p=0',
    joined,
  ]);
  await rm(joined);
  const [pts, flags] = (stdout.trim().split('\n')[0] ?? '').split(',');
  return [Number(pts), (flags ?? '').startsWith('K')];
}

describe('the encoded ladder', () => {
  it('starts every segment of every rendition on a keyframe at the same time', async () => {
    const count = ladder.renditions[0]?.segments.length ?? 0;
    expect(count).toBe(SHORT_LADDER.durationSec / SHORT_LADDER.segmentDurationSec);
    let offset: number | undefined;
    for (let k = 0; k < count; k++) {
      const starts: number[] = [];
      for (const r of ladder.renditions) {
        const segment = r.segments[k];
        if (segment === undefined) throw new Error(`${r.id} lacks segment ${k}`);
        const [pts, key] = await firstVideoPacket(join(ladder.dir, r.init), join(ladder.dir, segment.path));
        expect(key, `${r.id} segment ${k} starts on a keyframe`).toBe(true);
        starts.push(pts);
      }
      // Same start in every rendition, and 2 s after the previous segment's.
      for (const pts of starts) expect(pts).toBeCloseTo(starts[0] ?? Number.NaN, 3);
      offset ??= starts[0];
      expect((starts[0] ?? 0) - (offset ?? 0)).toBeCloseTo(k * 2, 3);
    }
  });

  it('lives under <dataDir>/media/<ladder id>/ with its manifest', async () => {
    expect(ladder.dir.endsWith(join('media', ladderId(SHORT_LADDER)))).toBe(true);
    const manifest = JSON.parse(await readFile(join(ladder.dir, 'manifest.json'), 'utf8')) as {
      id: string;
      renditions: Array<{ id: string; codecs: string; bandwidth: number; playlist: string }>;
    };
    expect(manifest.id).toBe(ladder.id);
    expect(manifest.renditions.map((r) => r.playlist)).toEqual([
      '240p/index.m3u8',
      '480p/index.m3u8',
      '720p/index.m3u8',
    ]);
  });
});

describe('ensureLadder caching', () => {
  it('encodes once per settings hash and loads the cache afterwards, even without ffmpeg', async () => {
    const dataDir = join(scratch, 'data');
    const [first, concurrent] = await Promise.all([ensureLadder(dataDir, TINY), ensureLadder(dataDir, TINY)]);
    expect(concurrent).toBe(first);
    expect(first.renditions).toHaveLength(3);
    const manifestTime = (await stat(join(first.dir, 'manifest.json'))).mtimeMs;

    // Another process (no in-process memo) loads it from disk; with no ffmpeg it could not
    // have encoded it again.
    const ladderModule = fileURLToPath(new URL('../control-plane/media/ladder.ts', import.meta.url));
    const script = [
      `import { ensureLadder } from ${JSON.stringify(ladderModule)};`,
      `const spec = JSON.parse(process.argv[1]);`,
      `const l = await ensureLadder(process.argv[2], spec, { ffmpegPath: '/nonexistent/ffmpeg' });`,
      `process.stdout.write(JSON.stringify({ id: l.id, files: l.files.size }));`,
    ].join('\n');
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
      JSON.stringify(TINY),
      dataDir,
    ]);
    expect(JSON.parse(stdout)).toEqual({ id: first.id, files: first.files.size });
    expect((await stat(join(first.dir, 'manifest.json'))).mtimeMs).toBe(manifestTime);

    // Any setting changed is a new ladder in a new directory.
    const changed = await ensureLadder(dataDir, { ...TINY, toneHz: 880 });
    expect(changed.id).not.toBe(first.id);
    const dirs = (await readdir(join(dataDir, 'media'))).sort();
    expect(dirs).toEqual([first.id, changed.id].sort());
  });

  it('fails with MEDIA_ENCODE_FAILED naming the fix when ffmpeg is missing, leaving nothing behind', async () => {
    const dataDir = join(scratch, 'no-ffmpeg');
    let caught: unknown;
    try {
      await ensureLadder(dataDir, { ...TINY, name: 'never' }, { ffmpegPath: '/nonexistent/ffmpeg' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PlayloopError);
    expect((caught as PlayloopError).code).toBe('PLAYLOOP_MEDIA_ENCODE_FAILED');
    expect((caught as PlayloopError).retriable).toBe(false);
    expect((caught as PlayloopError).message).toContain('apt-get install -y ffmpeg');
    expect(await readdir(join(dataDir, 'media'))).toEqual([]);
  });
});
