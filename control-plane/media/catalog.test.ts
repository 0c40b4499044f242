import { describe, expect, it } from 'vitest';
import { defaultTitleIds, sharedLadderCatalog } from './catalog.ts';
import type { Ladder, LadderFile } from './ladder.ts';

const file: LadderFile = {
  path: '240p/seg_00000.m4s',
  bytes: 10,
  kind: 'segment',
  renditionId: '240p',
  contentType: 'video/iso.segment',
};
const ladder: Ladder = {
  id: 'l',
  dir: '/nowhere',
  spec: {} as Ladder['spec'],
  durationSec: 2,
  segmentDurationSec: 2,
  renditions: [],
  files: new Map([[file.path, file]]),
  totalBytes: 10,
};

describe('catalog', () => {
  it('maps many titles onto one ladder', () => {
    const catalog = sharedLadderCatalog(defaultTitleIds(3), ladder);
    expect(catalog.titleIds).toEqual(['title-001', 'title-002', 'title-003']);
    expect(catalog.fileOf('title-002', '240p/seg_00000.m4s')).toBe(file);
    expect(catalog.fileOf('title-004', '240p/seg_00000.m4s')).toBeUndefined();
    expect(catalog.fileOf('title-001', '../manifest.json')).toBeUndefined();
  });

  it('pads ids to the catalog size and refuses unsafe or duplicate ids', () => {
    expect(defaultTitleIds(1000).at(-1)).toBe('title-1000');
    expect(() => sharedLadderCatalog(['a/b'], ladder)).toThrow(/path-safe/);
    expect(() => sharedLadderCatalog(['a', 'a'], ladder)).toThrow(/twice/);
  });
});
