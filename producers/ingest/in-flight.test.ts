import { describe, expect, it } from 'vitest';
import { InFlightBytes } from './in-flight.ts';

describe('in-flight byte bound', () => {
  it('reserves up to the bound and no further, and frees on release', () => {
    const held = new InFlightBytes(100);
    expect(held.tryReserve(60)).toBe(true);
    expect(held.fits(40)).toBe(true);
    expect(held.tryReserve(41)).toBe(false);
    expect(held.bytes).toBe(60);
    held.release(60);
    expect(held.tryReserve(100)).toBe(true);
    held.release(500);
    expect(held.bytes).toBe(0);
  });
});
