import { describe, expect, it } from 'vitest';
import { estimateClockSkewMs } from './clock-skew.ts';

describe('clock skew estimate', () => {
  it('is the client send time minus the server receive time', () => {
    expect(estimateClockSkewMs(1_000_500, 1_000_000)).toBe(500);
    expect(estimateClockSkewMs(999_000, 1_000_000)).toBe(-1_000);
  });

  it('is 0 when the client did not say when it sent', () => {
    expect(estimateClockSkewMs(null, 1_000_000)).toBe(0);
  });
});
