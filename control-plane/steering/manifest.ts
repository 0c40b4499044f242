/**
 * The HLS Content Steering manifest (Apple, "HLS Content Steering Specification" v1.2; the
 * same JSON keys DASH-IF content steering uses): what hls.js loads from the SERVER-URI of
 * `#EXT-X-CONTENT-STEERING` and reloads every TTL seconds.
 *
 *   { "VERSION": 1, "TTL": 10, "RELOAD-URI": "...", "PATHWAY-PRIORITY": ["oca-b", "oca-a"] }
 *
 * - VERSION must be 1 (hls.js ignores any other);
 * - TTL is whole seconds here: the server's floor keeps it from ever being 0 (hls.js honours
 *   any TTL, and 0 makes every player reload in a loop);
 * - RELOAD-URI is resolved against the manifest's URL, so it can be a relative reference;
 * - PATHWAY-PRIORITY lists Pathway IDs best first; it must not be empty, and hls.js skips
 *   IDs its playlist does not have.
 * Pure.
 */

export interface SteeringManifest {
  readonly VERSION: 1;
  readonly TTL: number;
  readonly 'RELOAD-URI': string;
  readonly 'PATHWAY-PRIORITY': readonly string[];
}

export function steeringManifest(
  priority: readonly string[],
  ttlSec: number,
  reloadUri: string,
): SteeringManifest {
  if (priority.length === 0) throw new TypeError('PATHWAY-PRIORITY must list at least one Pathway');
  if (!Number.isInteger(ttlSec) || ttlSec < 1)
    throw new TypeError(`TTL must be a whole number of seconds >= 1, got ${ttlSec}`);
  return { VERSION: 1, TTL: ttlSec, 'RELOAD-URI': reloadUri, 'PATHWAY-PRIORITY': priority };
}
