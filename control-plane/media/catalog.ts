/**
 * Titles are names mapped to an encoded ladder. Many titles may share one ladder, so a
 * catalog of hundreds costs one encode; caches still treat each title as its own content
 * (an edge OCA keys its cache by title), which is what makes popularity matter.
 */
import type { Ladder, LadderFile } from './ladder.ts';

const TITLE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export interface Catalog {
  readonly titleIds: readonly string[];
  ladderOf(titleId: string): Ladder | undefined;
  /** The file of a title, or undefined when the title or the file is unknown. */
  fileOf(titleId: string, path: string): LadderFile | undefined;
}

export function createCatalog(entries: Iterable<readonly [titleId: string, ladder: Ladder]>): Catalog {
  const titles = new Map<string, Ladder>();
  for (const [titleId, ladder] of entries) {
    if (!TITLE_ID.test(titleId)) throw new TypeError(`title id ${JSON.stringify(titleId)} is not path-safe`);
    if (titles.has(titleId)) throw new TypeError(`title ${titleId} appears twice in the catalog`);
    titles.set(titleId, ladder);
  }
  const titleIds = Object.freeze([...titles.keys()]);
  return Object.freeze({
    titleIds,
    ladderOf: (titleId: string) => titles.get(titleId),
    fileOf: (titleId: string, path: string) => titles.get(titleId)?.files.get(path),
  });
}

/** `title-001` ... `title-<count>`, zero-padded to three digits or more. */
export function defaultTitleIds(count: number): string[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`title count must be a positive integer`);
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `title-${String(i + 1).padStart(width, '0')}`);
}

/** Every title in `titleIds` plays the same ladder. */
export function sharedLadderCatalog(titleIds: readonly string[], ladder: Ladder): Catalog {
  return createCatalog(titleIds.map((id) => [id, ladder] as const));
}
