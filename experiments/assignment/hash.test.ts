import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import { bucketOf, HASH_VERSIONS, hashInput, saltFor, unitHash } from './hash.ts';
import { murmur3x86_32 } from './murmur3.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('unitHash and bucketOf, version 1', () => {
  // Independent values: PyPI mmh3 5.3.1 on Python 3.11, over the UTF-8 of salt:unitId:
  //   python3 -c "import mmh3; s='abr-bandwidth-factor-2026-11:viewer-0'; \
  //     h=mmh3.hash(s.encode('utf-8'), 0, signed=False); print(h, h % 10000)"
  it.each([
    ['abr-bandwidth-factor-2026-11', 'viewer-0', 594893809, 3809],
    ['abr-bandwidth-factor-2026-11', 'viewer-1', 144796607, 6607],
    ['traffic/golden-uneven-v1', 'zoë', 4267345903, 5903],
    ['layer/golden-steering', '😀', 2212640195, 195],
    ['golden-even-v1', '', 1396092068, 2068],
    ['steering-health-weighted-2026-11', '観客-42', 2057287099, 7099],
    ['golden-session-v1', 'id:with:colons', 4220451969, 1969],
    ['golden-uneven-v1', 'abcdefg', 1656210240, 240],
  ])('%s : %s -> %d, bucket %d', (salt, unitId, hash, bucket) => {
    expect(unitHash(1, salt, unitId)).toBe(hash);
    expect(bucketOf(1, salt, unitId)).toBe(bucket);
  });

  it('hashes salt + ":" + unitId', () => {
    expect(hashInput(1, 'seed', 'u:1')).toBe('seed:u:1');
    expect(unitHash(1, 'seed', 'u')).toBe(murmur3x86_32(utf8('seed:u'), 0));
  });

  it('derives one salt per purpose, none of which a seed can spell', () => {
    expect(saltFor(1, 'cell', 'exp-1')).toBe('exp-1');
    expect(saltFor(1, 'traffic', 'exp-1')).toBe('traffic/exp-1');
    expect(saltFor(1, 'layer', 'abr')).toBe('layer/abr');
  });

  it('handles ids longer than its scratch buffer', () => {
    const long = 'é'.repeat(500);
    expect(unitHash(1, 's', long)).toBe(murmur3x86_32(utf8(`s:${long}`), 0));
  });

  it('refuses unknown versions and ids that are not well-formed Unicode', () => {
    expect(HASH_VERSIONS).toEqual([1]);
    expect(() => bucketOf(2, 'seed', 'u')).toThrow(PlayloopError);
    expect(() => bucketOf(1, 'seed', 'broken-\ud800')).toThrow(/lone surrogate/);
    // A well-formed surrogate pair is fine.
    expect(bucketOf(1, 'seed', '\ud83d\ude00')).toBe(bucketOf(1, 'seed', '😀'));
  });
});
