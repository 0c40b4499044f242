/**
 * Mirrors the CMCD an OCA saw to ingest's `/v1/cmcd`, the way a CDN ships its request logs:
 * the player's payload untouched (the `CMCD` query value or the CMCD-* headers) plus what the
 * OCA measured serving it, `oca`, `bytes` and `ms`, which ingest maps onto a
 * `segment_downloaded` event (producers/ingest/cmcd.ts). Only complete 200 responses for
 * media segments are mirrored: a playlist or init request has no `d`/`br` to map, and a
 * half-sent segment says nothing true about the download.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { CmcdRecord } from './server.ts';

export interface IngestBeacon {
  /** Query string for `/v1/cmcd`, without the `?`. */
  readonly search: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The beacon for one record, or undefined when the record is not a complete segment download. */
export function ingestBeacon(record: CmcdRecord): IngestBeacon | undefined {
  if (record.kind !== 'segment' || record.status !== 200 || !record.completed) return undefined;
  const params = new URLSearchParams();
  if (record.raw.query !== undefined) params.set('CMCD', record.raw.query);
  params.set('oca', record.ocaId);
  params.set('bytes', String(record.bytes));
  params.set('ms', String(Math.max(0, Math.round(record.ms))));
  return { search: params.toString(), headers: { ...record.raw.headers } };
}

export interface CmcdForwarderStats {
  readonly sent: number;
  readonly failed: number;
  /** Dropped because `maxInFlight` beacons were already on their way (ingest slow or down). */
  readonly dropped: number;
  /** Records that are not segment downloads. */
  readonly skipped: number;
}

export interface CmcdForwarder {
  /** Pass as `onCmcd` to the fleet. Never throws, never blocks the response. */
  readonly onCmcd: (record: CmcdRecord) => void;
  stats(): CmcdForwarderStats;
  /** Resolves when every beacon in flight has been answered. */
  drain(): Promise<void>;
}

export function createCmcdForwarder(options: {
  /** e.g. `http://127.0.0.1:7070` (config.ingest). */
  readonly ingestUrl: string;
  /** An ingest key (config.ingest.keys). */
  readonly ingestKey: string;
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
  readonly log?: Logger;
}): CmcdForwarder {
  const maxInFlight = options.maxInFlight ?? 64;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const endpoint = `${options.ingestUrl.replace(/\/$/, '')}/v1/cmcd`;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let failed = 0;
  let dropped = 0;
  let skipped = 0;

  const send = async (beacon: IngestBeacon): Promise<void> => {
    try {
      const response = await fetch(`${endpoint}?${beacon.search}`, {
        method: 'POST',
        headers: { ...beacon.headers, authorization: `Bearer ${options.ingestKey}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) sent++;
      else {
        failed++;
        options.log?.warn({ status: response.status }, 'ingest refused a CMCD beacon');
      }
    } catch (err) {
      failed++;
      options.log?.warn({ err: errorMessage(err) }, 'CMCD beacon not delivered');
    }
  };

  return {
    onCmcd(record) {
      const beacon = ingestBeacon(record);
      if (beacon === undefined) {
        skipped++;
        return;
      }
      if (inFlight.size >= maxInFlight) {
        dropped++;
        return;
      }
      const pending = send(beacon).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    },
    stats: () => ({ sent, failed, dropped, skipped }),
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
