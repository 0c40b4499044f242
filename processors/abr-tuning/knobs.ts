/**
 * ABR knob sets as config.abr carries them (schemas/abr-config.avsc): every knob present,
 * null meaning "inherit from the broader scope". Names are the players' own
 * (experiments/definitions/vocabulary.ts ABR_KNOBS).
 */
import type { AbrOverrides } from '../../experiments/definitions/schema.ts';
import { ABR_KNOB_NAMES } from '../../experiments/definitions/vocabulary.ts';
import type { AbrKnobs } from '../../schemas/generated/abr-config.ts';

export const EMPTY_KNOBS: AbrKnobs = Object.freeze({
  abrBandWidthFactor: null,
  abrBandWidthUpFactor: null,
  abrEwmaDefaultEstimate: null,
  maxBufferLength: null,
  startLevel: null,
  bandwidthSafetyFactor: null,
});

/** The knobs a cell overrides; the others inherit. */
export function knobsFromOverrides(overrides: AbrOverrides): AbrKnobs {
  const knobs: AbrKnobs = { ...EMPTY_KNOBS };
  for (const knob of ABR_KNOB_NAMES) {
    const value = overrides[knob];
    if (value !== undefined) knobs[knob] = value;
  }
  return knobs;
}

/** `base` with every knob `top` sets. */
export function overlayKnobs(base: AbrKnobs, top: AbrKnobs): AbrKnobs {
  const knobs: AbrKnobs = { ...base };
  for (const knob of ABR_KNOB_NAMES) {
    const value = top[knob];
    if (value !== null) knobs[knob] = value;
  }
  return knobs;
}

export function knobsEqual(a: AbrKnobs, b: AbrKnobs): boolean {
  return ABR_KNOB_NAMES.every((knob) => a[knob] === b[knob]);
}

/** A knob set from JSON (an audit row), refusing anything that is not one. */
export function parseKnobs(json: string): AbrKnobs | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const knobs: AbrKnobs = { ...EMPTY_KNOBS };
  for (const knob of ABR_KNOB_NAMES) {
    const v = record[knob];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    knobs[knob] = v;
  }
  return knobs;
}

/** "abrBandWidthFactor=0.8, maxBufferLength=30" or "all inherited". */
export function describeKnobs(knobs: AbrKnobs): string {
  const set = ABR_KNOB_NAMES.filter((k) => knobs[k] !== null).map((k) => `${k}=${knobs[k]}`);
  return set.length === 0 ? 'all inherited' : set.join(', ');
}
