/**
 * The encoded HLS ladder on disk: `ensureLadder(dataDir)` runs Debian's ffmpeg once per
 * ladder spec and caches the result under `<dataDir>/media/<ladder-id>/` with a manifest;
 * later calls (and later processes) load the manifest instead of encoding again.
 *
 * Layout:
 *   <dataDir>/media/<ladder-id>/manifest.json      what follows, with sizes and codecs
 *   <dataDir>/media/<ladder-id>/<rendition>/index.m3u8, init_<n>.mp4, seg_00000.m4s, ...
 *
 * The encode writes into a temporary sibling directory and renames it into place, so a
 * crash never leaves a half ladder behind and two processes racing both end up with one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { parseMediaPlaylist, parseVariantStreams, variantBitrates } from './hls.ts';
import { DEFAULT_LADDER, ffmpegArgs, type LadderSpec, ladderId, validateLadderSpec } from './ladder-spec.ts';

export type LadderFileKind = 'playlist' | 'init' | 'segment';

export interface LadderFile {
  /** Relative to the ladder directory, `/`-separated: `720p/seg_00003.m4s`. */
  readonly path: string;
  readonly bytes: number;
  readonly kind: LadderFileKind;
  readonly renditionId: string;
  readonly contentType: string;
}

export interface Rendition {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  /** RFC 6381 codecs string as ffmpeg derived it from the encoded streams. */
  readonly codecs: string;
  /** Peak segment bit rate (RFC 8216bis BANDWIDTH), bits/s. */
  readonly bandwidth: number;
  /** Mean bit rate (AVERAGE-BANDWIDTH), bits/s. */
  readonly averageBandwidth: number;
  /** Media playlist path relative to the ladder directory. */
  readonly playlist: string;
  readonly init: string;
  readonly segments: ReadonlyArray<{
    readonly path: string;
    readonly durationSec: number;
    readonly bytes: number;
  }>;
}

export interface Ladder {
  readonly id: string;
  readonly dir: string;
  readonly spec: LadderSpec;
  readonly durationSec: number;
  readonly segmentDurationSec: number;
  /** Ascending by bandwidth. */
  readonly renditions: readonly Rendition[];
  /** Every servable file by relative path: the whitelist an OCA serves from. */
  readonly files: ReadonlyMap<string, LadderFile>;
  readonly totalBytes: number;
}

const manifestSchema = z.object({
  formatVersion: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  spec: z.unknown(),
  durationSec: z.number(),
  segmentDurationSec: z.number(),
  renditions: z.array(
    z.object({
      id: z.string(),
      width: z.number(),
      height: z.number(),
      frameRate: z.number(),
      codecs: z.string(),
      bandwidth: z.number(),
      averageBandwidth: z.number(),
      playlist: z.string(),
      playlistBytes: z.number(),
      init: z.string(),
      initBytes: z.number(),
      segments: z.array(z.object({ path: z.string(), durationSec: z.number(), bytes: z.number() })),
    }),
  ),
});
type Manifest = z.output<typeof manifestSchema>;

const MANIFEST = 'manifest.json';

export function contentTypeOf(path: string): string {
  if (path.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  // RFC 8216bis §3.1.2 / ISO BMFF: init sections are `video/mp4`; fMP4 media segments have
  // the IANA type `video/iso.segment`.
  if (path.endsWith('.m4s')) return 'video/iso.segment';
  return 'video/mp4';
}

function ladderFromManifest(dir: string, spec: LadderSpec, manifest: Manifest): Ladder {
  const files = new Map<string, LadderFile>();
  const add = (path: string, bytes: number, kind: LadderFileKind, renditionId: string): void => {
    files.set(path, Object.freeze({ path, bytes, kind, renditionId, contentType: contentTypeOf(path) }));
  };
  const renditions = manifest.renditions
    .map((r): Rendition => {
      add(r.playlist, r.playlistBytes, 'playlist', r.id);
      add(r.init, r.initBytes, 'init', r.id);
      for (const s of r.segments) add(s.path, s.bytes, 'segment', r.id);
      return Object.freeze({
        id: r.id,
        width: r.width,
        height: r.height,
        frameRate: r.frameRate,
        codecs: r.codecs,
        bandwidth: r.bandwidth,
        averageBandwidth: r.averageBandwidth,
        playlist: r.playlist,
        init: r.init,
        segments: Object.freeze(r.segments.map((s) => Object.freeze({ ...s }))),
      });
    })
    .sort((a, b) => a.bandwidth - b.bandwidth);
  let totalBytes = 0;
  for (const f of files.values()) totalBytes += f.bytes;
  return Object.freeze({
    id: manifest.id,
    dir,
    spec,
    durationSec: manifest.durationSec,
    segmentDurationSec: manifest.segmentDurationSec,
    renditions: Object.freeze(renditions),
    files,
    totalBytes,
  });
}

/** Loads a cached ladder if its manifest is readable and every file has the recorded size. */
async function loadCached(dir: string, id: string, spec: LadderSpec): Promise<Ladder | undefined> {
  let manifest: Manifest;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')));
    if (!parsed.success || parsed.data.id !== id) return undefined;
    manifest = parsed.data;
  } catch {
    return undefined;
  }
  const ladder = ladderFromManifest(dir, spec, manifest);
  for (const file of ladder.files.values()) {
    try {
      if ((await stat(join(dir, file.path))).size !== file.bytes) return undefined;
    } catch {
      return undefined;
    }
  }
  return ladder;
}

async function runFfmpeg(ffmpegPath: string, args: readonly string[], signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint =
        err.code === 'ENOENT'
          ? ` (${ffmpegPath} not found: install Debian's ffmpeg, apt-get install -y ffmpeg)`
          : '';
      reject(
        new PlayloopError('MEDIA_ENCODE_FAILED', `ffmpeg could not start${hint}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else {
        reject(
          new PlayloopError('MEDIA_ENCODE_FAILED', `ffmpeg exited with ${code ?? sig}: ${stderr.trim()}`, {
            details: { code, signal: sig },
          }),
        );
      }
    });
  });
}

/** Reads what ffmpeg wrote and measures it into a manifest. */
async function buildManifest(outDir: string, id: string, spec: LadderSpec): Promise<Manifest> {
  const multivariant = parseVariantStreams(await readFile(join(outDir, 'master.m3u8'), 'utf8'));
  const renditions: Manifest['renditions'] = [];
  for (const r of spec.renditions) {
    const playlist = `${r.id}/index.m3u8`;
    const text = await readFile(join(outDir, playlist), 'utf8');
    const media = parseMediaPlaylist(text);
    if (media.mapUri === undefined) {
      throw new PlayloopError('MEDIA_ENCODE_FAILED', `${playlist} has no EXT-X-MAP: not fMP4`);
    }
    const codecs = multivariant.find((v) => v.uri === playlist)?.attributes.get('CODECS');
    if (codecs === undefined)
      throw new PlayloopError('MEDIA_ENCODE_FAILED', `ffmpeg gave no CODECS for ${r.id}`);
    const init = `${r.id}/${media.mapUri}`;
    const segments = [];
    for (const s of media.segments) {
      const path = `${r.id}/${s.uri}`;
      segments.push({ path, durationSec: s.durationSec, bytes: (await stat(join(outDir, path))).size });
    }
    const rates = variantBitrates(segments, media.targetDurationSec);
    renditions.push({
      id: r.id,
      width: r.width,
      height: r.height,
      frameRate: spec.frameRate,
      codecs,
      bandwidth: rates.bandwidth,
      averageBandwidth: rates.averageBandwidth,
      playlist,
      playlistBytes: Buffer.byteLength(text),
      init,
      initBytes: (await stat(join(outDir, init))).size,
      segments,
    });
  }
  const first = renditions[0];
  const durationSec = first === undefined ? 0 : first.segments.reduce((sum, s) => sum + s.durationSec, 0);
  return {
    formatVersion: 1,
    id,
    createdAt: new Date().toISOString(),
    spec,
    durationSec: Math.round(durationSec * 1000) / 1000,
    segmentDurationSec: spec.segmentDurationSec,
    renditions,
  };
}

export interface EnsureLadderOptions {
  readonly ffmpegPath?: string;
  readonly log?: Logger;
  readonly signal?: AbortSignal;
}

const inProcess = new Map<string, Promise<Ladder>>();

/**
 * The encoded ladder for `spec` under `<dataDir>/media/`, encoding it first if needed.
 * Concurrent calls in one process share one encode.
 */
export function ensureLadder(
  dataDir: string,
  spec: LadderSpec = DEFAULT_LADDER,
  options: EnsureLadderOptions = {},
): Promise<Ladder> {
  const valid = validateLadderSpec(spec);
  const id = ladderId(valid);
  const dir = join(dataDir, 'media', id);
  let pending = inProcess.get(dir);
  if (pending === undefined) {
    pending = ensureLadderUncached(dir, id, valid, options);
    inProcess.set(dir, pending);
    pending.catch(() => inProcess.delete(dir));
  }
  return pending;
}

async function ensureLadderUncached(
  dir: string,
  id: string,
  spec: LadderSpec,
  options: EnsureLadderOptions,
): Promise<Ladder> {
  const cached = await loadCached(dir, id, spec);
  if (cached !== undefined) return cached;
  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = Date.now();
  options.log?.info(
    { ladder: id, renditions: spec.renditions.length, durationSec: spec.durationSec },
    'encoding',
  );
  try {
    for (const r of spec.renditions) await mkdir(join(tmp, r.id), { recursive: true });
    await runFfmpeg(options.ffmpegPath ?? 'ffmpeg', ffmpegArgs(spec, tmp), options.signal);
    const manifest = await buildManifest(tmp, id, spec);
    await writeFile(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    // A directory left by an older, broken encode is not a ladder: replace it.
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another process renamed its copy first: keep theirs.
      const theirs = await loadCached(dir, id, spec);
      if (theirs === undefined) throw err;
      return theirs;
    }
    options.log?.info({ ladder: id, ms: Date.now() - started }, 'encoded');
    return ladderFromManifest(dir, spec, manifest);
  } catch (err) {
    if (err instanceof PlayloopError) throw err;
    throw new PlayloopError('MEDIA_ENCODE_FAILED', `encoding ladder ${id} failed: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
