/** The fleet's ABR algorithms behind one interface, chosen by name. */
import { BolaAbr } from './bola.ts';
import type { AbrKnobs } from './knobs.ts';
import { ThroughputAbr } from './throughput.ts';
import type { Abr, AbrKind, AbrLevel } from './types.ts';

export { BolaAbr, bolaParameters } from './bola.ts';
export { Ewma, EwmaBandwidthEstimator } from './ewma.ts';
export { type AbrKnobs, type AbrKnobsInput, DEFAULT_ABR_KNOBS, resolveAbrKnobs } from './knobs.ts';
export { ThroughputAbr } from './throughput.ts';
export * from './types.ts';

export function createAbr(
  kind: AbrKind,
  levels: readonly AbrLevel[],
  knobs: AbrKnobs,
  contentDurationMs: number,
): Abr {
  return kind === 'bola' ? new BolaAbr(levels, knobs, contentDurationMs) : new ThroughputAbr(levels, knobs);
}
