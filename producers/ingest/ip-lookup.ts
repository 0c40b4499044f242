/**
 * ISP, region and country from the client's IP address, behind a small interface so a real
 * database (a MaxMind GeoIP2-ISP reader, an internal IPAM export) plugs in without touching
 * the pipeline. The shipped table is a sample: documentation prefixes (RFC 5737 for IPv4,
 * RFC 3849 for IPv6) mapped to documentation ASNs (RFC 5398) so a simulated fleet can
 * present several ISPs through X-Forwarded-For, plus loopback, private ranges and a few
 * well-known access-network prefixes. It is not an authoritative geo database.
 */
import { BlockList, isIP } from 'node:net';
import { BoundedCache } from './bounded-cache.ts';

export interface IpInfo {
  /** Autonomous system, e.g. AS3320; `local`, `private` or `unknown` otherwise. */
  readonly isp: string;
  readonly region: string;
  /** ISO 3166-1 alpha-2; ZZ (CLDR "unknown region") when not known. */
  readonly country: string;
}

export interface IpLookup {
  lookup(address: string): IpInfo;
}

export const UNKNOWN_IP_INFO: IpInfo = Object.freeze({ isp: 'unknown', region: 'unknown', country: 'ZZ' });

export interface IpTableEntry extends IpInfo {
  /** CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32. */
  readonly cidr: string;
}

export const SAMPLE_IP_TABLE: readonly IpTableEntry[] = Object.freeze([
  { cidr: '127.0.0.0/8', isp: 'local', region: 'local', country: 'ZZ' },
  { cidr: '::1/128', isp: 'local', region: 'local', country: 'ZZ' },
  { cidr: '10.0.0.0/8', isp: 'private', region: 'unknown', country: 'ZZ' },
  { cidr: '172.16.0.0/12', isp: 'private', region: 'unknown', country: 'ZZ' },
  { cidr: '192.168.0.0/16', isp: 'private', region: 'unknown', country: 'ZZ' },
  { cidr: 'fc00::/7', isp: 'private', region: 'unknown', country: 'ZZ' },
  // Simulated ISPs: documentation prefixes and ASNs, never routed on the Internet.
  { cidr: '192.0.2.0/24', isp: 'AS64496', region: 'eu-central', country: 'DE' },
  { cidr: '198.51.100.0/24', isp: 'AS64497', region: 'us-east', country: 'US' },
  { cidr: '203.0.113.0/24', isp: 'AS64498', region: 'ap-southeast', country: 'SG' },
  { cidr: '2001:db8::/32', isp: 'AS64499', region: 'eu-west', country: 'GB' },
  // A few access networks, as examples of real entries.
  { cidr: '79.192.0.0/10', isp: 'AS3320', region: 'eu-central', country: 'DE' },
  { cidr: '2003::/19', isp: 'AS3320', region: 'eu-central', country: 'DE' },
  { cidr: '73.0.0.0/8', isp: 'AS7922', region: 'us', country: 'US' },
]);

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is the IPv4 address. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped?.[1] ?? address;
  const version = isIP(plain);
  if (version === 4) return { address: plain, family: 'ipv4' };
  if (version === 6) return { address: plain, family: 'ipv6' };
  return undefined;
}

/** First match wins, so list narrower prefixes before wider ones. */
export function createTableLookup(table: readonly IpTableEntry[] = SAMPLE_IP_TABLE): IpLookup {
  const rules = table.map((entry) => {
    const [network, bits] = entry.cidr.split('/');
    const parsed = normalize(network ?? '');
    const prefix = Number(bits);
    if (parsed === undefined || !Number.isInteger(prefix)) {
      throw new TypeError(`ip table: "${entry.cidr}" is not a CIDR`);
    }
    const list = new BlockList();
    list.addSubnet(parsed.address, prefix, parsed.family);
    const info: IpInfo = Object.freeze({ isp: entry.isp, region: entry.region, country: entry.country });
    return { list, family: parsed.family, info };
  });
  const find = (address: string): IpInfo => {
    const parsed = normalize(address);
    if (parsed === undefined) return UNKNOWN_IP_INFO;
    for (const rule of rules) {
      if (rule.family === parsed.family && rule.list.check(parsed.address, parsed.family)) return rule.info;
    }
    return UNKNOWN_IP_INFO;
  };
  // Clients repeat: one scan of the table per address, not per request.
  const cache = new BoundedCache<IpInfo>(50_000);
  return { lookup: (address) => cache.get(address, find) };
}
