/**
 * Device class from a User-Agent string, for `server.deviceClass` when the player did not
 * say. A short ordered rule list, most specific first: TVs and consoles also claim to be
 * Linux, Android or mobile, so they are matched before phones and desktops. Tokens are
 * the ones vendors document for their platforms (e.g. "SMART-TV" for Samsung Tizen, "Web0S"
 * for LG, "AFT" for Amazon Fire TV models, "CrKey" for Chromecast, "PlayStation", "Xbox",
 * "Nintendo"), and "Mobi" for phones as MDN's User-Agent guide recommends.
 */
import { BoundedCache } from './bounded-cache.ts';

export const SERVER_DEVICE_CLASSES = [
  'tv',
  'stb',
  'console',
  'tablet',
  'mobile',
  'desktop',
  'unknown',
] as const;
export type ServerDeviceClass = (typeof SERVER_DEVICE_CLASSES)[number];

const RULES: ReadonlyArray<readonly [ServerDeviceClass, RegExp]> = [
  ['console', /PlayStation|Xbox|Nintendo/i],
  [
    'stb',
    /\bSTB\b|Set-?Top|Roku|AppleTV|Apple TV|tvOS|\bAFT[A-Z]|CrKey|Chromecast|Android TV.*(?:Box|Stick)/i,
  ],
  [
    'tv',
    /Smart-?TV|SMART-TV|Tizen.*TV|Web0S|webOS|NetCast|HbbTV|BRAVIA|VIDAA|\bTV\b|GoogleTV|Android TV|AndroidTV/i,
  ],
  ['tablet', /iPad|Tablet|Kindle|Silk\/|PlayBook|Android(?!.*Mobi)/i],
  ['mobile', /Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|BlackBerry|Opera Mini/i],
  ['desktop', /Windows NT|Macintosh|Mac OS X|X11|Linux x86_64|CrOS/i],
];

function classify(userAgent: string): ServerDeviceClass {
  for (const [cls, pattern] of RULES) if (pattern.test(userAgent)) return cls;
  return 'unknown';
}

// A fleet has few distinct User-Agents: classify each once.
const cache = new BoundedCache<ServerDeviceClass>(10_000);

export function deviceClassOf(userAgent: string | null | undefined): ServerDeviceClass {
  if (userAgent === null || userAgent === undefined || userAgent === '') return 'unknown';
  return cache.get(userAgent, classify);
}
