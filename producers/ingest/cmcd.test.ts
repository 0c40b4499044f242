import { describe, expect, it } from 'vitest';
import { type CmcdBeacon, cmcdSessionId, cmcdToEvent, parseCmcdPayload } from './cmcd.ts';

const NOW = 1_700_000_000_000;
const beacon = (query: Record<string, unknown>, headers: Record<string, string> = {}): CmcdBeacon => ({
  query,
  headers,
  receivedAt: NOW,
});
const map = (b: CmcdBeacon) => cmcdToEvent({ index: 0, value: b });

describe('CMCD payloads (CTA-5004 §3.3)', () => {
  it('reads the standard example: integers, quoted strings, tokens, decimals, bare booleans', () => {
    const example =
      'bl=21300,br=3200,bs,cid="faec5fc2-ac30-11eabb37-0242ac130002",d=4004,dl=18500,mtp=48100,' +
      'nor="..%2F300kbps%2Ftrack.m4v",nrr="12323-48763",ot=v,pr=1.08,rtp=12000,sf=d,' +
      'sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000';
    const r = parseCmcdPayload(example);
    expect(r).toEqual({
      ok: true,
      data: {
        bl: 21_300,
        br: 3_200,
        bs: true,
        cid: 'faec5fc2-ac30-11eabb37-0242ac130002',
        d: 4_004,
        dl: 18_500,
        mtp: 48_100,
        nor: '..%2F300kbps%2Ftrack.m4v',
        nrr: '12323-48763',
        ot: 'v',
        pr: 1.08,
        rtp: 12_000,
        sf: 'd',
        sid: '6e2fb550-c457-11e9-bb97-0800200c9a66',
        st: 'v',
        su: true,
        tb: 6_000,
      },
    });
  });

  it('ignores custom and unknown keys, reads escapes, and accepts spaces after commas', () => {
    expect(parseCmcdPayload('com.example-myNumericKey=500, sid="a\\"b\\\\c", future=1, bs=?0')).toEqual({
      ok: true,
      data: { sid: 'a"b\\c', bs: false },
    });
  });

  it.each([
    ['br="3200"', 'br', /integer/],
    ['sid=abc', 'sid', /quoted string/],
    ['sid="abc', 'sid', /unterminated/],
    ['ot="v"', 'ot', /token/],
    ['su=1', 'su', /boolean/],
    ['=1', null, /not a CMCD key/],
    ['b r=1', null, /not a CMCD key/],
    ['br=1 2', 'br', /integer/],
    ['sid="a\\x"', 'sid', /bad escape/],
    ['sn=-5', 'sn', /negative/],
  ])('refuses %s', (text, key, reason) => {
    const r = parseCmcdPayload(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.key).toBe(key);
    expect(r.reason).toMatch(reason);
  });
});

describe('CMCD beacons to events', () => {
  it('maps request-time state onto a heartbeat, unsequenced, at the receive time', () => {
    const r = map(beacon({ CMCD: 'bl=5000,br=1800,cid="t1",mtp=9000,sid="s1",su' }));
    expect(r).toEqual({
      type: 'ok',
      value: {
        index: 0,
        value: {
          sessionId: 's1',
          seq: -1,
          viewerId: '',
          titleId: 't1',
          clientTs: NOW,
          kind: 'heartbeat',
          playheadMs: null,
          cmcd: { br: 1_800, bl: 5_000, mtp: 9_000, su: true },
          heartbeat: { bufferMs: 5_000, bitrateKbps: 1_800 },
        },
      },
    });
  });

  it('takes clientTs and playhead from CMCD v2 ts and pt, and leaves even a v2 beacon unsequenced', () => {
    // sn numbers CMCD reports, not the player's events: as seq it would collide with them.
    const r = map(beacon({ CMCD: 'bl=1,br=1,cid="t",pt=42000,sid="s",sn=17,ts=1699999999000' }));
    expect(r.type === 'ok' && r.value.value).toMatchObject({
      seq: -1,
      clientTs: 1_699_999_999_000,
      playheadMs: 42_000,
    });
  });

  it('maps a beacon with the OCA measurements onto segment_downloaded, merging header shards', () => {
    const r = map(
      beacon(
        { oca: 'oca-3', bytes: '500000', ms: '250' },
        {
          'cmcd-object': 'br=3200,d=2000,ot=v',
          'cmcd-session': 'cid="t",sid="s"',
          'cmcd-request': 'bl=9000',
        },
      ),
    );
    expect(r.type === 'ok' && r.value.value).toMatchObject({
      kind: 'segment_downloaded',
      segment: { ocaId: 'oca-3', bytes: 500_000, downloadMs: 250, bitrateKbps: 3_200, durationMs: 2_000 },
      cmcd: { br: 3_200, d: 2_000, ot: 'v', bl: 9_000 },
    });
  });

  it.each([
    [beacon({}), '$', /no CMCD/],
    [beacon({ CMCD: 'br=1,bl=1,cid="t"' }), '$.query.CMCD.sid', /sid is required/],
    [beacon({ CMCD: ['sid="a"', 'sid="b"'] }), '$.query.CMCD', /more than once/],
    [
      beacon({ CMCD: 'sid="a",cid="t",bl=1,br=1' }, { 'cmcd-session': 'sid="b"' }),
      '$.headers["cmcd-session"].sid',
      /disagrees/,
    ],
    [beacon({ CMCD: 'sid="a",cid="t",br=1' }), '$.query.CMCD.bl', /heartbeat, which needs bl/],
    [beacon({ CMCD: 'sid="a",cid="t",br=1,d=1', oca: 'o', bytes: '1' }), '$.query.ms', /go together/],
    [
      beacon({ CMCD: 'sid="a",cid="t",br=1,d=1', oca: 'o', bytes: '-1', ms: '1' }),
      '$.query.bytes',
      /non-negative/,
    ],
    [beacon({ CMCD: 'sid="a",cid="t",d=1', oca: 'o', bytes: '1', ms: '1' }), '$.query.CMCD.br', /needs br/],
    [beacon({}, { 'cmcd-object': 'br=x' }), '$.headers["cmcd-object"].br', /integer/],
  ])('refuses a beacon that does not map (%#)', (b, path, reason) => {
    const r = map(b);
    expect(r.type).toBe('dlq');
    if (r.type !== 'dlq') return;
    expect(r.rejection.code).toBe('cmcd_invalid');
    expect(r.rejection.path).toBe(path);
    expect(r.rejection.reason).toMatch(reason);
  });

  it('finds the session id of a beacon for the dead letter key', () => {
    expect(cmcdSessionId(beacon({ CMCD: 'sid="s9"' }))).toBe('s9');
    expect(cmcdSessionId(beacon({ CMCD: 'sid=oops' }))).toBeNull();
  });
});
