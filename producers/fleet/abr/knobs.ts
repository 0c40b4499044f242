/**
 * ABR knobs by the names players know, with the players' own defaults, validated once when
 * a plan hands them over. A plan may set any subset; the rest keep the defaults.
 *
 * - hls.js `HlsConfig` (src/config.ts, hls.js 1.7.4): abrBandWidthFactor 0.95,
 *   abrBandWidthUpFactor 0.7, abrEwmaDefaultEstimate 5e5 bit/s, abrEwmaFastVoD 3 s,
 *   abrEwmaSlowVoD 9 s, maxBufferLength 30 s, maxBufferSize 60 MB, maxMaxBufferLength
 *   600 s, maxStarvationDelay 4 s, startLevel undefined (automatic; -1 also means automatic).
 * - dash.js `streaming.abr.bandwidthSafetyFactor` 0.9 and `streaming.buffer`
 *   stableBufferTime 12 s, bufferTimeAtTopQuality 30 s, bufferTimeAtTopQualityLongForm
 *   60 s, longFormContentDurationThreshold 600 s.
 *
 * Contradictions are errors, not silent fixes (hls.js `mergeConfig` throws likewise).
 */
import { z } from 'zod';
import { PlayloopError } from '../../../core/errors.ts';

const share = z.number().gt(0).lte(1);
const seconds = z.number().positive().max(86_400);

export const abrKnobsSchema = z
  .strictObject({
    abrBandWidthFactor: share.default(0.95),
    abrBandWidthUpFactor: share.default(0.7),
    /** Bandwidth estimate before the first measurement, bit/s. Also BOLA's first guess. */
    abrEwmaDefaultEstimate: z.number().int().positive().default(500_000),
    abrEwmaFastVoD: seconds.default(3),
    abrEwmaSlowVoD: seconds.default(9),
    maxBufferLength: seconds.default(30),
    maxBufferSize: z.number().int().positive().default(60_000_000),
    maxMaxBufferLength: seconds.default(600),
    maxStarvationDelay: z.number().min(0).max(3_600).default(4),
    /** First level index; -1 or absent: automatic (from the default estimate). */
    startLevel: z.number().int().min(-1).default(-1),
    bandwidthSafetyFactor: share.default(0.9),
    stableBufferTime: seconds.default(12),
    bufferTimeAtTopQuality: seconds.default(30),
    bufferTimeAtTopQualityLongForm: seconds.default(60),
    longFormContentDurationThreshold: seconds.default(600),
  })
  .superRefine((k, ctx) => {
    if (k.maxBufferLength > k.maxMaxBufferLength) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBufferLength'],
        message: `must not exceed maxMaxBufferLength (${k.maxMaxBufferLength})`,
      });
    }
  });

export type AbrKnobs = Readonly<z.output<typeof abrKnobsSchema>>;
export type AbrKnobsInput = z.input<typeof abrKnobsSchema>;

export const DEFAULT_ABR_KNOBS: AbrKnobs = Object.freeze(abrKnobsSchema.parse({}));

/** Defaults overlaid with `input`; throws CONFIG_INVALID naming every bad knob. */
export function resolveAbrKnobs(input: unknown): AbrKnobs {
  const result = abrKnobsSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new PlayloopError('CONFIG_INVALID', `invalid ABR knobs:\n  ${issues.join('\n  ')}`, {
      details: { issues },
    });
  }
  return Object.freeze(result.data);
}
