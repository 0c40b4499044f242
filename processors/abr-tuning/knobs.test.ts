import { describe, expect, it } from 'vitest';
import {
  describeKnobs,
  EMPTY_KNOBS,
  knobsEqual,
  knobsFromOverrides,
  overlayKnobs,
  parseKnobs,
} from './knobs.ts';

describe('knob sets', () => {
  it('turns cell overrides into a full knob set, the rest inherited', () => {
    expect(knobsFromOverrides({ abrBandWidthFactor: 0.8, startLevel: -1 })).toEqual({
      ...EMPTY_KNOBS,
      abrBandWidthFactor: 0.8,
      startLevel: -1,
    });
  });

  it('overlays only the knobs the top layer sets', () => {
    const base = { ...EMPTY_KNOBS, abrBandWidthFactor: 0.9, maxBufferLength: 20 };
    expect(overlayKnobs(base, { ...EMPTY_KNOBS, abrBandWidthFactor: 0.8 })).toEqual({
      ...EMPTY_KNOBS,
      abrBandWidthFactor: 0.8,
      maxBufferLength: 20,
    });
  });

  it('compares, describes and parses', () => {
    const k = { ...EMPTY_KNOBS, maxBufferLength: 12 };
    expect(knobsEqual(k, { ...k })).toBe(true);
    expect(knobsEqual(k, EMPTY_KNOBS)).toBe(false);
    expect(describeKnobs(k)).toBe('maxBufferLength=12');
    expect(describeKnobs(EMPTY_KNOBS)).toBe('all inherited');
    expect(parseKnobs(JSON.stringify(k))).toEqual(k);
    expect(parseKnobs('{"maxBufferLength":"12"}')).toBeUndefined();
    expect(parseKnobs('not json')).toBeUndefined();
  });
});
