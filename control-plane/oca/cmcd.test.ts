import { describe, expect, it } from 'vitest';
import { cmcdFromRequest, parseCmcd } from './cmcd.ts';

describe('parseCmcd (CTA-5004)', () => {
  it('reads numbers, tokens, quoted strings and bare booleans', () => {
    // The shape hls.js 1.x sends in its CMCD query parameter.
    const payload =
      'bl=21300,br=3200,bs,cid="faec5fc2-ac30-11ea-bb37-0242ac130002",d=4004,dl=18500,mtp=48100,nor="..%2F300kbps%2Fsegment35.m4v",ot=v,rtp=12000,sf=h,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000';
    expect(parseCmcd(payload)).toEqual({
      bl: 21300,
      br: 3200,
      bs: true,
      cid: 'faec5fc2-ac30-11ea-bb37-0242ac130002',
      d: 4004,
      dl: 18500,
      mtp: 48100,
      nor: '..%2F300kbps%2Fsegment35.m4v',
      ot: 'v',
      rtp: 12000,
      sf: 'h',
      sid: '6e2fb550-c457-11e9-bb97-0800200c9a66',
      st: 'v',
      su: true,
      tb: 6000,
    });
  });

  it('keeps commas and escaped quotes inside strings', () => {
    expect(parseCmcd('cid="a,b",sid="say \\"hi\\"",pr=1.25')).toEqual({
      cid: 'a,b',
      sid: 'say "hi"',
      pr: 1.25,
    });
  });

  it('skips malformed keys rather than failing', () => {
    expect(parseCmcd('BAD=1,,br=5')).toEqual({ br: 5 });
  });
});

describe('cmcdFromRequest', () => {
  it('merges the query parameter and the four headers', () => {
    const query = new URLSearchParams(`CMCD=${encodeURIComponent('bl=1000,ot=v')}`);
    const cmcd = cmcdFromRequest(query, { 'cmcd-session': 'sid="s1"', 'cmcd-request': 'mtp=900' });
    expect(cmcd).toEqual({ bl: 1000, ot: 'v', sid: 's1', mtp: 900 });
  });

  it('is undefined when the player sent no CMCD', () => {
    expect(cmcdFromRequest(new URLSearchParams('x=1'), {})).toBeUndefined();
  });
});
