/**
 * Kafka records -> rows of the outcomes processor's two input tables. Pure steps: each
 * returns a row, or the reason the record is bad data (which goes to the dead-letter topic,
 * never silently into the numbers).
 */
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';

/** A row of `experiment_allocation_events`. */
export interface AllocationEventRow {
  viewer_id: string;
  experiment_key: string;
  unit_id: string;
  /** Epoch ms (DateTime64(3) reads an integer in JSONEachRow as ticks). */
  allocated_at: number;
  cell: string;
  source: string;
  session_id: string;
  unit_type: string;
  control: number;
  bucket: number;
  namespace: string;
  hash_version: number;
  seed: string;
  definition_digest: string;
  device_class: string;
  country: string;
  isp: string;
  source_partition: number;
  source_offset: number;
}

/** A row of `experiment_viewer_sessions`. */
export interface ViewerSessionRow {
  viewer_id: string;
  summary_id: string;
  session_id: string;
  title_id: string;
  start_time: number;
  end_time: number;
  device_class: string;
  isp: string;
  country: string;
  experiment_keys: string[];
  play_attempt: number;
  started: number;
  ebvs: number;
  vsf: number;
  vpf: number;
  startup_ms: number | null;
  play_ms: number;
  stall_ms: number;
  stall_count: number;
  avg_bitrate_kbps: number | null;
  switches_up: number;
  switches_down: number;
  score: number | null;
  source_offset_last: number;
}

export type StepResult<T> =
  | { readonly ok: true; readonly row: T }
  | { readonly ok: false; readonly reason: string };

/** Where a record came from, for the rows' provenance columns. */
export interface RecordPosition {
  readonly partition: number;
  readonly offset: string;
}

const BUCKETS = 10_000;

/**
 * Checks the allocation contract (schemas/experiment-allocation.avsc) beyond what Avro can:
 * the unit id is the viewer id for a viewer unit and the session id for a session unit (the
 * join of sessions to cells depends on it), and the bucket is one of the 10,000.
 */
export function toAllocationEventRow(
  e: ExperimentAllocation,
  at: RecordPosition,
): StepResult<AllocationEventRow> {
  if (e.experimentKey === '' || e.cell === '' || e.viewerId === '' || e.unitId === '') {
    return { ok: false, reason: 'allocation without experimentKey, cell, viewerId or unitId' };
  }
  if (e.unitType === 'viewer' && e.unitId !== e.viewerId) {
    return {
      ok: false,
      reason: `viewer-unit allocation whose unitId ${e.unitId} is not its viewerId ${e.viewerId}`,
    };
  }
  if (e.unitType === 'session' && e.unitId !== e.sessionId) {
    return {
      ok: false,
      reason: `session-unit allocation whose unitId ${e.unitId} is not its sessionId ${e.sessionId ?? '(null)'}`,
    };
  }
  if (!Number.isInteger(e.bucket) || e.bucket < 0 || e.bucket >= BUCKETS) {
    return { ok: false, reason: `bucket ${e.bucket} outside [0, ${BUCKETS})` };
  }
  if (!Number.isSafeInteger(e.allocatedAt) || e.allocatedAt <= 0) {
    return { ok: false, reason: `allocatedAt ${e.allocatedAt} is not an epoch millisecond time` };
  }
  return {
    ok: true,
    row: {
      viewer_id: e.viewerId,
      experiment_key: e.experimentKey,
      unit_id: e.unitId,
      allocated_at: e.allocatedAt,
      cell: e.cell,
      source: e.source,
      session_id: e.sessionId ?? '',
      unit_type: e.unitType,
      control: e.control ? 1 : 0,
      bucket: e.bucket,
      namespace: e.namespace,
      hash_version: e.hashVersion,
      seed: e.seed,
      definition_digest: e.definitionDigest,
      device_class: e.deviceClass ?? '',
      country: e.country ?? '',
      isp: e.isp ?? '',
      source_partition: at.partition,
      source_offset: Number(at.offset),
    },
  };
}

const bit = (b: boolean): number => (b ? 1 : 0);

/** A session summary as the outcomes processor keeps it. A summary without a viewer joins nothing but is kept. */
export function toViewerSessionRow(s: SessionSummary): ViewerSessionRow {
  return {
    viewer_id: s.viewerId,
    summary_id: s.summaryId,
    session_id: s.sessionId,
    title_id: s.titleId,
    start_time: s.startTime,
    end_time: s.endTime,
    device_class: s.deviceClass,
    isp: s.isp,
    country: s.country,
    experiment_keys: s.experiments.map((c) => c.key),
    play_attempt: bit(s.playAttempt),
    // The VPF denominator, as in the qoe aggregates: views whose first frame was seen.
    started: bit(s.startupOutcome === 'started'),
    ebvs: bit(s.ebvs),
    vsf: bit(s.vsf),
    vpf: bit(s.vpf),
    startup_ms: s.startupMs,
    play_ms: s.playMs,
    stall_ms: s.stallMs,
    stall_count: s.stallCount,
    avg_bitrate_kbps: s.avgBitrateKbps,
    switches_up: s.switchesUp,
    switches_down: s.switchesDown,
    score: s.score,
    source_offset_last: s.sourceOffsetLast ?? -1,
  };
}
