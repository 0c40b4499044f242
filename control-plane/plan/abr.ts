/**
 * The ABR knobs a viewer gets. Pure.
 *
 * Layers, broadest first, each overriding the knobs it sets (a null knob inherits):
 *   global  <  device:<class>  <  isp:<isp>  <  cohort scopes whose targeting matches
 * then the viewer's experiment cells on top: a cell's override is the experiment, so it
 * beats every config layer (otherwise a promoted config for the cohort would erase the
 * difference the experiment measures).
 *
 * Cohort scopes are every other scope (`cohort:tv-de`, ...): they apply when their
 * targeting matches (each non-empty list contains the viewer's value; an unknown value
 * matches only an empty list, as in experiment targeting), more specific cohorts (more
 * non-empty lists) after broader ones, then by scope name so the order never depends on
 * arrival. `device:` and `isp:` documents must match their targeting too.
 *
 * Knob values are checked against the same bounds as experiment cells
 * (experiments/definitions/schema.ts): a config document with an out-of-range knob has that
 * knob ignored (inherited), never handed to players.
 */
import { abrOverridesSchema } from '../../experiments/definitions/schema.ts';
import { ABR_KNOB_NAMES, type AbrKnob } from '../../experiments/definitions/vocabulary.ts';
import type { AbrConfig, Cohort } from '../../schemas/generated/abr-config.ts';

export interface AbrViewer {
  readonly deviceClass: string;
  readonly isp: string | null;
  readonly country: string | null;
}

export type AbrKnobValues = Partial<Record<AbrKnob, number>>;

export interface ResolvedAbr {
  readonly knobs: Readonly<AbrKnobValues>;
  /** Knob -> where its value came from: `global@3`, `device:tv@1`, `experiment:<key>/<cell>`. */
  readonly sources: Readonly<Partial<Record<AbrKnob, string>>>;
  /** Config documents applied, broadest first, as `scope@version`. */
  readonly layers: readonly string[];
}

/** One knob a cell overrides, and who: `experiment:<key>/<cell>`. */
export interface AbrOverride {
  readonly knob: AbrKnob;
  readonly value: number;
  readonly source: string;
}

function listMatches(allowed: readonly string[], value: string | null): boolean {
  return allowed.length === 0 || (value !== null && allowed.includes(value));
}

export function cohortMatches(targeting: Cohort, viewer: AbrViewer): boolean {
  return (
    listMatches(targeting.deviceClasses, viewer.deviceClass) &&
    listMatches(targeting.countries, viewer.country) &&
    listMatches(targeting.isps, viewer.isp)
  );
}

function specificity(targeting: Cohort): number {
  return (
    (targeting.deviceClasses.length > 0 ? 1 : 0) +
    (targeting.countries.length > 0 ? 1 : 0) +
    (targeting.isps.length > 0 ? 1 : 0)
  );
}

/** Is `value` a legal value of `knob` (the bounds experiment cells are held to)? */
export function validKnobValue(knob: AbrKnob, value: number): boolean {
  return abrOverridesSchema.shape[knob].safeParse(value).success;
}

/** A document with only its legal knobs, and the names of those it dropped. */
interface CleanDoc {
  readonly doc: AbrConfig;
  readonly knobs: ReadonlyArray<readonly [AbrKnob, number]>;
}

function clean(doc: AbrConfig, onInvalid?: (doc: AbrConfig, knob: AbrKnob, value: number) => void): CleanDoc {
  const knobs: Array<readonly [AbrKnob, number]> = [];
  for (const knob of ABR_KNOB_NAMES) {
    const value = doc.knobs[knob];
    if (value === null || value === undefined) continue;
    if (validKnobValue(knob, value)) knobs.push([knob, value]);
    else onInvalid?.(doc, knob, value);
  }
  return { doc, knobs };
}

/**
 * The config documents of a snapshot, indexed by layer so resolving a viewer touches only
 * the documents that can apply. Build one per config change.
 */
export class AbrIndex {
  private readonly global: CleanDoc | undefined;
  private readonly byDevice = new Map<string, CleanDoc>();
  private readonly byIsp = new Map<string, CleanDoc>();
  private readonly cohorts: CleanDoc[] = [];

  constructor(docs: Iterable<AbrConfig>, onInvalid?: (doc: AbrConfig, knob: AbrKnob, value: number) => void) {
    let global: CleanDoc | undefined;
    for (const doc of docs) {
      const entry = clean(doc, onInvalid);
      if (doc.scope === 'global') global = entry;
      else if (doc.scope.startsWith('device:')) this.byDevice.set(doc.scope.slice(7), entry);
      else if (doc.scope.startsWith('isp:')) this.byIsp.set(doc.scope.slice(4), entry);
      else this.cohorts.push(entry);
    }
    this.global = global;
    this.cohorts.sort(
      (a, b) =>
        specificity(a.doc.targeting) - specificity(b.doc.targeting) ||
        (a.doc.scope < b.doc.scope ? -1 : a.doc.scope > b.doc.scope ? 1 : 0),
    );
  }

  /** The config layers that apply to `viewer`, broadest first. */
  layersFor(viewer: AbrViewer): CleanDoc[] {
    const layers: CleanDoc[] = [];
    const push = (entry: CleanDoc | undefined): void => {
      if (entry !== undefined && cohortMatches(entry.doc.targeting, viewer)) layers.push(entry);
    };
    push(this.global);
    push(this.byDevice.get(viewer.deviceClass));
    if (viewer.isp !== null) push(this.byIsp.get(viewer.isp));
    for (const cohort of this.cohorts) push(cohort);
    return layers;
  }

  /** Config layers only (no experiment cells). */
  resolve(viewer: AbrViewer): ResolvedAbr {
    const knobs: AbrKnobValues = {};
    const sources: Partial<Record<AbrKnob, string>> = {};
    const layers: string[] = [];
    for (const { doc, knobs: set } of this.layersFor(viewer)) {
      const label = `${doc.scope}@${doc.version}`;
      layers.push(label);
      for (const [knob, value] of set) {
        knobs[knob] = value;
        sources[knob] = label;
      }
    }
    return { knobs, sources, layers };
  }
}

/** `base` with the experiment cells' overrides on top. */
export function withOverrides(base: ResolvedAbr, overrides: readonly AbrOverride[]): ResolvedAbr {
  if (overrides.length === 0) return base;
  const knobs: AbrKnobValues = { ...base.knobs };
  const sources: Partial<Record<AbrKnob, string>> = { ...base.sources };
  for (const { knob, value, source } of overrides) {
    knobs[knob] = value;
    sources[knob] = source;
  }
  return { knobs, sources, layers: base.layers };
}

/** Resolution in one call, for callers without an index. */
export function resolveAbr(
  docs: Iterable<AbrConfig>,
  viewer: AbrViewer,
  overrides: readonly AbrOverride[] = [],
): ResolvedAbr {
  return withOverrides(new AbrIndex(docs).resolve(viewer), overrides);
}

const HLSJS_KNOBS = [
  'abrBandWidthFactor',
  'abrBandWidthUpFactor',
  'abrEwmaDefaultEstimate',
  'maxBufferLength',
  'startLevel',
] as const satisfies readonly AbrKnob[];

export interface PlayerAbrConfig {
  /** Spread into `new Hls({...})` as is. */
  readonly hlsjs: Readonly<Partial<Record<(typeof HLSJS_KNOBS)[number], number>>>;
  /** Passed to dash.js `player.updateSettings(...)` as is. */
  readonly dashjs: { readonly streaming?: { readonly abr: { readonly bandwidthSafetyFactor: number } } };
}

/** The resolved knobs in each player's own config shape; unset knobs stay at the player's default. */
export function playerAbrConfig(resolved: ResolvedAbr): PlayerAbrConfig {
  const hlsjs: Partial<Record<(typeof HLSJS_KNOBS)[number], number>> = {};
  for (const knob of HLSJS_KNOBS) {
    const value = resolved.knobs[knob];
    if (value !== undefined) hlsjs[knob] = value;
  }
  const safety = resolved.knobs.bandwidthSafetyFactor;
  return {
    hlsjs,
    dashjs: safety === undefined ? {} : { streaming: { abr: { bandwidthSafetyFactor: safety } } },
  };
}
