/**
 * A definition's digest: which revision of a definition an allocation was made under.
 * Editing a running experiment (weights, targeting, traffic) changes who is in which cell;
 * the digest in every allocation event lets the analysis split or discard allocations made
 * under different revisions without trusting anyone to bump a version number by hand.
 *
 * sha256 over canonical JSON (object keys sorted, no whitespace) of the validated
 * definition, first 16 hex digits (64 bits). Comments and formatting of the YAML file do
 * not change it; any change of meaning does.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted and no whitespace: equal meaning, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const cache = new WeakMap<object, string>();

/**
 * The digest of a definition. Memoised for frozen definitions (what loadExperiments returns),
 * since they cannot change under the cache; others are hashed on every call.
 */
export function definitionDigest(definition: object): string {
  const known = cache.get(definition);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16);
  if (Object.isFrozen(definition)) cache.set(definition, digest);
  return digest;
}
