/**
 * Sharing of values that repeat across sessions, to keep open views small: dimension strings
 * (titles, OCA ids), the (deviceClass, isp, region, country, playerName) tuple, and
 * experiment cell lists. A million open sessions come from a few thousand distinct values.
 *
 * Interning changes where a value lives, never what it is: summaries are equal with or
 * without it. The pool is bounded; past its size, new values are simply not shared.
 */
import type { ExperimentCell } from '../../schemas/generated/playback-event.ts';

/** Where a view was watched: from the server context (set by ingest) and the player. */
export interface Dimensions {
  readonly deviceClass: string;
  readonly isp: string;
  readonly region: string;
  readonly country: string;
  readonly playerName: string | null;
}

export interface Interner {
  string(value: string): string;
  dimensions(d: Dimensions): Dimensions;
  cells(cells: readonly ExperimentCell[]): readonly ExperimentCell[];
}

/** No sharing: fresh values every time (the batch path, where views are short-lived). */
export const noInterning: Interner = Object.freeze({
  string: (value: string) => value,
  dimensions: (d: Dimensions) => d,
  cells: (cells: readonly ExperimentCell[]) => cells,
});

// A separator that cannot occur in the values' text (they are UTF-8 strings from Avro, and
// this is a lone control character no producer emits); it only has to keep keys distinct.
const SEP = '\u0001';

/** A bounded pool; `maxEntries` applies to each kind of value separately. */
export function createInterner(maxEntries = 100_000): Interner {
  const strings = new Map<string, string>();
  const dims = new Map<string, Dimensions>();
  const cellLists = new Map<string, readonly ExperimentCell[]>();
  const string = (value: string): string => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    if (strings.size < maxEntries) strings.set(value, value);
    return value;
  };
  return {
    string,
    dimensions(d) {
      const key = [d.deviceClass, d.isp, d.region, d.country, d.playerName ?? ''].join(SEP);
      const known = dims.get(key);
      if (known !== undefined && known.playerName === d.playerName) return known;
      const value: Dimensions = Object.freeze({
        deviceClass: string(d.deviceClass),
        isp: string(d.isp),
        region: string(d.region),
        country: string(d.country),
        playerName: d.playerName === null ? null : string(d.playerName),
      });
      if (known === undefined && dims.size < maxEntries) dims.set(key, value);
      return value;
    },
    cells(cells) {
      if (cells.length === 0) return EMPTY;
      const key = cells.map((c) => c.key + SEP + c.cell).join(SEP + SEP);
      const known = cellLists.get(key);
      if (known !== undefined) return known;
      const value = Object.freeze(
        cells.map((c) => Object.freeze({ key: string(c.key), cell: string(c.cell) })),
      );
      if (cellLists.size < maxEntries) cellLists.set(key, value);
      return value;
    },
  };
}

const EMPTY: readonly ExperimentCell[] = Object.freeze([]);
