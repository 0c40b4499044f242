import { describe, expect, it } from 'vitest';
import { parseCmcd } from '../../control-plane/oca/cmcd.ts';
import { cmcdQueryValue, encodeCmcd } from './cmcd.ts';

describe('CMCD encoding (CTA-5004 §3.2)', () => {
  it('sorts keys, quotes strings, leaves tokens and integers bare, shows true booleans alone', () => {
    expect(encodeCmcd({ sid: 'abc', br: 3200, ot: 'v', su: true, bs: false, d: 4004, cid: 'x"y' })).toBe(
      'br=3200,cid="x\\"y",d=4004,ot=v,sid="abc",su',
    );
  });

  it('round-trips through the OCA parser, written separately', () => {
    const value = cmcdQueryValue(
      {
        br: 1264,
        bl: 2100,
        mtp: 4800,
        ot: 'av',
        st: 'v',
        sf: 'h',
        su: false,
        d: 2000,
        rtp: 6300,
        tb: 2814,
        bs: true,
        dl: 2100,
      },
      'f1-3-0',
      'title-001',
    );
    expect(parseCmcd(value)).toEqual({
      br: 1264,
      bl: 2100,
      bs: true,
      cid: 'title-001',
      d: 2000,
      dl: 2100,
      mtp: 4800,
      ot: 'av',
      rtp: 6300,
      sf: 'h',
      sid: 'f1-3-0',
      st: 'v',
      tb: 2814,
    });
  });
});
