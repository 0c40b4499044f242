/**
 * What players tell the steering server on every reload: hls.js adds `_HLS_pathway` (the
 * Pathway it is on) and `_HLS_throughput` (its bandwidth estimate, bit/s) to each Content
 * Steering request (HLS Content Steering specification, "Steering Query Parameters"; hls.js
 * src/controller/content-steering-controller.ts). The last values per session are kept in a
 * least-recently-used map bounded by entries, so memory stays flat however many sessions
 * come and go; counters and a histogram (metrics.ts) keep the aggregate.
 */
import { ByteLru } from '../oca/lru.ts';

export interface SteeringReport {
  /** The Pathway the player was on, if it said. */
  readonly pathway: string | undefined;
  /** Its throughput estimate, bit/s, if it said. */
  readonly throughputBps: number | undefined;
}

export interface SessionTelemetry extends SteeringReport {
  readonly sessionId: string;
  readonly atMs: number;
  /** Steering requests seen for this session while it stayed in the map. */
  readonly requests: number;
  /** The Pathway the server put first in its last answer. */
  readonly servedFirst: string | undefined;
}

/** Largest throughput believed, bit/s: 100 Gbit/s. More is a broken or hostile client. */
const MAX_THROUGHPUT_BPS = 1e11;
const PATHWAY = /^[A-Za-z0-9._-]{1,64}$/;

/** Reads the two query parameters; malformed values count as absent (telemetry, not input). */
export function parseSteeringQuery(query: Readonly<Record<string, unknown>>): SteeringReport {
  const rawPathway = query['_HLS_pathway'];
  const rawThroughput = query['_HLS_throughput'];
  const pathway = typeof rawPathway === 'string' && PATHWAY.test(rawPathway) ? rawPathway : undefined;
  let throughputBps: number | undefined;
  if (typeof rawThroughput === 'string' && /^\d+(?:\.\d+)?$/.test(rawThroughput)) {
    const value = Number(rawThroughput);
    if (value > 0 && value <= MAX_THROUGHPUT_BPS) throughputBps = value;
  }
  return { pathway, throughputBps };
}

export class SteeringTelemetry {
  private readonly sessions: ByteLru<SessionTelemetry>;

  constructor(maxSessions: number) {
    // Every entry weighs 1, so the byte bound is an entry bound.
    this.sessions = new ByteLru<SessionTelemetry>(maxSessions, () => 1);
  }

  record(
    sessionId: string,
    report: SteeringReport,
    servedFirst: string | undefined,
    atMs: number,
  ): SessionTelemetry {
    const previous = this.sessions.peek(sessionId);
    const entry: SessionTelemetry = {
      sessionId,
      pathway: report.pathway,
      throughputBps: report.throughputBps,
      atMs,
      requests: (previous?.requests ?? 0) + 1,
      servedFirst,
    };
    this.sessions.set(sessionId, entry);
    return entry;
  }

  last(sessionId: string): SessionTelemetry | undefined {
    return this.sessions.peek(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }
}
