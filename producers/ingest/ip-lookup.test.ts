import { describe, expect, it } from 'vitest';
import { createTableLookup, UNKNOWN_IP_INFO } from './ip-lookup.ts';

describe('IP lookup from the shipped table', () => {
  const lookup = createTableLookup();

  it.each([
    ['127.0.0.1', 'local', 'local', 'ZZ'],
    ['::1', 'local', 'local', 'ZZ'],
    ['::ffff:127.0.0.1', 'local', 'local', 'ZZ'],
    ['192.0.2.200', 'AS64496', 'eu-central', 'DE'],
    ['198.51.100.1', 'AS64497', 'us-east', 'US'],
    ['203.0.113.255', 'AS64498', 'ap-southeast', 'SG'],
    ['2001:db8::42', 'AS64499', 'eu-west', 'GB'],
    ['79.200.1.1', 'AS3320', 'eu-central', 'DE'],
    ['2003:e4::1', 'AS3320', 'eu-central', 'DE'],
    ['10.1.2.3', 'private', 'unknown', 'ZZ'],
  ])('%s -> %s %s %s', (ip, isp, region, country) => {
    expect(lookup.lookup(ip)).toEqual({ isp, region, country });
  });

  it('says unknown for addresses it does not hold, and for garbage', () => {
    expect(lookup.lookup('8.8.8.8')).toBe(UNKNOWN_IP_INFO);
    expect(lookup.lookup('192.0.3.1')).toBe(UNKNOWN_IP_INFO);
    expect(lookup.lookup('not an ip')).toBe(UNKNOWN_IP_INFO);
  });

  it('takes a table of its own (pluggable), first match winning', () => {
    const custom = createTableLookup([
      { cidr: '192.0.2.0/25', isp: 'AS1', region: 'r1', country: 'AA' },
      { cidr: '192.0.2.0/24', isp: 'AS2', region: 'r2', country: 'BB' },
    ]);
    expect(custom.lookup('192.0.2.1').isp).toBe('AS1');
    expect(custom.lookup('192.0.2.129').isp).toBe('AS2');
    expect(() => createTableLookup([{ cidr: 'nope', isp: '', region: '', country: '' }])).toThrow(
      /not a CIDR/,
    );
  });
});
