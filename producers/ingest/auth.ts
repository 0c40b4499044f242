/**
 * Ingest keys: `Authorization: Bearer <key>`. Keys are kept only as SHA-256 digests; the id
 * that travels with events and into logs and metrics is a short prefix of the digest,
 * never the key itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface IngestKeys {
  /** The key's id when `authorization` carries a known key; undefined otherwise. */
  identify(authorization: string | undefined): string | undefined;
  readonly ids: readonly string[];
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** `k_` and the first 12 hex digits (48 bits) of the key's SHA-256: enough to tell keys apart. */
export function ingestKeyId(key: string): string {
  return `k_${digest(key).toString('hex').slice(0, 12)}`;
}

export function createIngestKeys(keys: readonly string[]): IngestKeys {
  const known = keys.map((key) => ({ digest: digest(key), id: ingestKeyId(key) }));
  return {
    ids: known.map((k) => k.id),
    identify(authorization) {
      if (authorization === undefined) return undefined;
      // RFC 6750 §2.1: `Bearer` then one space then the token; the scheme is case-insensitive.
      const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
      if (match === null) return undefined;
      const presented = digest(match[1] as string);
      // Compare digests in constant time: equal length by construction, so timing says nothing.
      for (const k of known) if (timingSafeEqual(k.digest, presented)) return k.id;
      return undefined;
    },
  };
}
