/**
 * What an encoded ladder is made of, and the ffmpeg command that makes it. Pure: the id is
 * a content hash of the settings, so changing any setting yields a new directory and a new
 * encode, while an unchanged spec reuses the cached one.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Bump when the on-disk layout or the ffmpeg command changes in a way the spec does not show. */
export const LADDER_FORMAT_VERSION = 1;

const renditionSpecSchema = z.strictObject({
  /** Directory name, STABLE-VARIANT-ID and label burnt into the picture. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected [A-Za-z0-9_-]{1,32}'),
  width: z.number().int().min(16).max(3840),
  height: z.number().int().min(16).max(2160),
  videoBitrateKbps: z.number().int().min(50).max(50_000),
});

export const ladderSpecSchema = z
  .strictObject({
    /** Readable part of the ladder id. */
    name: z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected [a-z0-9-]{1,32}'),
    durationSec: z.number().int().min(2).max(3_600),
    frameRate: z.number().int().min(1).max(60),
    segmentDurationSec: z.number().int().min(1).max(10),
    audioBitrateKbps: z.number().int().min(16).max(320),
    audioSampleRate: z.union([z.literal(44_100), z.literal(48_000)]),
    toneHz: z.number().int().min(20).max(20_000),
    /** libx264 preset: speed over quality, the picture is a test pattern. */
    x264Preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']),
    renditions: z.array(renditionSpecSchema).min(1),
  })
  .superRefine((spec, ctx) => {
    const ids = new Set<string>();
    spec.renditions.forEach((r, i) => {
      if (ids.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['renditions', i, 'id'], message: 'duplicate id' });
      ids.add(r.id);
      // 4:2:0 chroma subsampling needs even dimensions.
      if (r.width % 2 !== 0 || r.height % 2 !== 0) {
        ctx.addIssue({ code: 'custom', path: ['renditions', i], message: 'width and height must be even' });
      }
    });
  });

export type LadderSpec = Readonly<z.output<typeof ladderSpecSchema>>;
export type RenditionSpec = LadderSpec['renditions'][number];

/**
 * The default ladder: 120 s, 24 fps, 2 s segments, four renditions from 240p to 720p. Four
 * steps give ABR room to move; ultrafast keeps the one-time encode to tens of seconds on two
 * cores (ultrafast implies the Constrained Baseline profile, which every player decodes).
 */
export const DEFAULT_LADDER: LadderSpec = Object.freeze({
  name: 'testpattern',
  durationSec: 120,
  frameRate: 24,
  segmentDurationSec: 2,
  audioBitrateKbps: 64,
  audioSampleRate: 48_000,
  toneHz: 440,
  x264Preset: 'ultrafast',
  renditions: [
    { id: '240p', width: 426, height: 240, videoBitrateKbps: 400 },
    { id: '360p', width: 640, height: 360, videoBitrateKbps: 700 },
    { id: '480p', width: 854, height: 480, videoBitrateKbps: 1_200 },
    { id: '720p', width: 1280, height: 720, videoBitrateKbps: 2_500 },
  ],
});

/** A short three-rendition ladder for tests: seconds to encode, same shape as the default. */
export const SHORT_LADDER: LadderSpec = Object.freeze({
  ...DEFAULT_LADDER,
  name: 'testpattern-short',
  durationSec: 10,
  renditions: [
    { id: '240p', width: 426, height: 240, videoBitrateKbps: 400 },
    { id: '480p', width: 854, height: 480, videoBitrateKbps: 1_000 },
    { id: '720p', width: 1280, height: 720, videoBitrateKbps: 2_500 },
  ],
});

export function validateLadderSpec(spec: unknown): LadderSpec {
  return ladderSpecSchema.parse(spec);
}

/** Keys sorted at every level so the hash depends on the settings, not on how they were written. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `<name>-<12 hex of sha256(format version, settings)>`. */
export function ladderId(spec: LadderSpec): string {
  const hash = createHash('sha256')
    .update(canonicalJson({ format: LADDER_FORMAT_VERSION, spec }))
    .digest('hex');
  return `${spec.name}-${hash.slice(0, 12)}`;
}

/** Frames per segment: every segment starts on an IDR frame, and no other IDR frames appear. */
export function gopFrames(spec: LadderSpec): number {
  return spec.segmentDurationSec * spec.frameRate;
}

/** Escapes text for a drawtext option inside a single-quoted filtergraph value. */
function drawtextLabel(text: string): string {
  return text.replace(/[\\':%]/g, (c) => `\\${c}`);
}

/**
 * The ffmpeg arguments (no shell) that encode the whole ladder in one pass: one testsrc2
 * source at the largest size, split and scaled per rendition, each with its label and the
 * presentation time burnt in (so a screenshot shows which rendition played and when), plus a
 * beeping sine tone; libx264 + AAC in fMP4 HLS with fixed 2 s GOPs (scene-cut off) so every
 * rendition's segment boundaries align and a player can switch at any boundary
 * (RFC 8216bis §6.2.4 requires matching timestamps across Variant Streams).
 */
export function ffmpegArgs(spec: LadderSpec, outDir: string): string[] {
  const maxWidth = Math.max(...spec.renditions.map((r) => r.width));
  const maxHeight = Math.max(...spec.renditions.map((r) => r.height));
  const n = spec.renditions.length;
  const gop = gopFrames(spec);
  const split = `[0:v]split=${n}${spec.renditions.map((_, i) => `[s${i}]`).join('')}`;
  const branches = spec.renditions.map((r, i) => {
    const fontSize = Math.max(12, Math.round(r.height / 12));
    const text = `${drawtextLabel(r.id)}  %{pts\\:hms}`;
    return (
      `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,` +
      `drawtext=text='${text}':fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.6:` +
      `boxborderw=${Math.round(fontSize / 4)}:x=(w-text_w)/2:y=h-text_h-${Math.round(fontSize / 2)}[v${i}]`
    );
  });
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${maxWidth}x${maxHeight}:rate=${spec.frameRate}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${spec.toneHz}:beep_factor=4:sample_rate=${spec.audioSampleRate}`,
    '-filter_complex',
    [split, ...branches].join(';'),
  ];
  spec.renditions.forEach((_, i) => {
    args.push('-map', `[v${i}]`, '-map', '1:a');
  });
  args.push(
    '-t',
    String(spec.durationSec),
    '-c:v',
    'libx264',
    '-preset',
    spec.x264Preset,
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
  );
  spec.renditions.forEach((r, i) => {
    // Capped VBR: maxrate 110 % of the target over a 2 s buffer keeps segment sizes near the
    // declared rate, so BANDWIDTH (peak) stays close to the nominal ladder step.
    args.push(
      `-b:v:${i}`,
      `${r.videoBitrateKbps}k`,
      `-maxrate:v:${i}`,
      `${Math.round(r.videoBitrateKbps * 1.1)}k`,
      `-bufsize:v:${i}`,
      `${r.videoBitrateKbps * 2}k`,
    );
  });
  args.push(
    '-c:a',
    'aac',
    '-b:a',
    `${spec.audioBitrateKbps}k`,
    '-ac',
    '2',
    '-ar',
    String(spec.audioSampleRate),
    '-f',
    'hls',
    '-hls_time',
    String(spec.segmentDurationSec),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_flags',
    'independent_segments',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    `${outDir}/%v/seg_%05d.m4s`,
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    spec.renditions.map((r, i) => `v:${i},a:${i},name:${r.id}`).join(' '),
    `${outDir}/%v/index.m3u8`,
  );
  return args;
}
