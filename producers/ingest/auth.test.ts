import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIngestKeys, ingestKeyId } from './auth.ts';

describe('ingest keys', () => {
  const keys = createIngestKeys(['first-key-123', 'second-key-456']);

  it('identifies a known key by the short hash of it, never the key', () => {
    const id = keys.identify('Bearer second-key-456');
    const expected = `k_${createHash('sha256').update('second-key-456').digest('hex').slice(0, 12)}`;
    expect(id).toBe(expected);
    expect(ingestKeyId('second-key-456')).toBe(expected);
    expect(id).not.toContain('second-key');
    expect(keys.ids).toEqual([ingestKeyId('first-key-123'), expected]);
  });

  it('takes the scheme in any case (RFC 6750 §2.1)', () => {
    expect(keys.identify('bearer first-key-123')).toBe(ingestKeyId('first-key-123'));
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic first-key-123',
    'Bearer first-key-1234',
    'Bearer first-key-123 extra',
    'first-key-123',
  ])('refuses %s', (header) => {
    expect(keys.identify(header)).toBeUndefined();
  });
});
