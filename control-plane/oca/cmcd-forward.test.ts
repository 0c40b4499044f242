import { describe, expect, it } from 'vitest';
import { ingestBeacon } from './cmcd-forward.ts';
import type { CmcdRecord } from './server.ts';

const record: CmcdRecord = {
  atMs: 1,
  ocaId: 'oca-edge-as3320-a',
  titleId: 'title-001',
  grantSessionId: 's1',
  file: '720p/seg_00003.m4s',
  kind: 'segment',
  status: 200,
  bytes: 651_058,
  ms: 212.6,
  completed: true,
  cache: 'HIT',
  cmcd: { br: 2500, d: 2000, sid: 's1', cid: 'title-001' },
  raw: { query: 'br=2500,cid="title-001",d=2000,sid="s1"', headers: {} },
};

describe('ingestBeacon', () => {
  it('mirrors the raw CMCD and adds oca, bytes and ms as ingest expects', () => {
    const beacon = ingestBeacon(record);
    const params = new URLSearchParams(beacon?.search);
    expect(Object.fromEntries(params)).toEqual({
      CMCD: 'br=2500,cid="title-001",d=2000,sid="s1"',
      oca: 'oca-edge-as3320-a',
      bytes: '651058',
      ms: '213',
    });
    expect(beacon?.headers).toEqual({});
  });

  it('carries header-mode CMCD as headers', () => {
    const headers = { 'cmcd-object': 'br=2500,d=2000', 'cmcd-session': 'cid="title-001",sid="s1"' };
    const beacon = ingestBeacon({ ...record, raw: { query: undefined, headers } });
    expect(beacon?.headers).toEqual(headers);
    expect(new URLSearchParams(beacon?.search).has('CMCD')).toBe(false);
  });

  it('skips what is not a complete segment download', () => {
    expect(ingestBeacon({ ...record, kind: 'playlist' })).toBeUndefined();
    expect(ingestBeacon({ ...record, status: 503 })).toBeUndefined();
    expect(ingestBeacon({ ...record, completed: false })).toBeUndefined();
  });
});
