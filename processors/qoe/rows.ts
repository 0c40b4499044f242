/** SessionSummary (Avro, playback.sessions) -> a row of the ClickHouse `sessions` table. */

import { columnsOf } from '../../infra/clickhouse-columns.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';

export interface SessionRow {
  summary_id: string;
  summary_version: number;
  session_id: string;
  viewer_id: string;
  title_id: string;
  /** Epoch ms. */
  start_time: number;
  /** Epoch ms. */
  end_time: number;
  duration_ms: number;
  end_reason: string;
  startup_outcome: string;
  play_attempt: number;
  ebvs: number;
  vsf: number;
  vpf: number;
  startup_ms: number | null;
  play_ms: number;
  paused_ms: number;
  stall_ms: number;
  seek_stall_ms: number;
  stall_count: number;
  rebuffer_ratio: number | null;
  stalls_per_hour: number | null;
  avg_bitrate_kbps: number | null;
  switches_up: number;
  switches_down: number;
  bytes: number;
  download_ms: number;
  segments: number;
  throughput_kbps: number | null;
  oca_id: string;
  first_oca_id: string;
  plan_oca_id: string;
  device_class: string;
  isp: string;
  region: string;
  country: string;
  player_name: string;
  /** Named tuples read from JSON objects in JSONEachRow. */
  experiments: Array<{ key: string; cell: string }>;
  event_count: number;
  missing_seq_count: number;
  error_count: number;
  fatal_error_type: string;
  fatal_error_details: string;
  score: number | null;
  source_partition: number;
  source_offset_last: number;
}

const bit = (b: boolean): number => (b ? 1 : 0);

/**
 * Every column of a SessionRow: session rows go to ClickHouse column by column
 * (infra/clickhouse.ts insertColumns), cheaper to write and to parse than an object per row.
 * The check below fails to compile if a column of SessionRow is missing here, so a new column
 * cannot be silently left to its default.
 */
export const SESSION_ROW_COLUMNS = columnsOf<SessionRow>()([
  'summary_id',
  'summary_version',
  'session_id',
  'viewer_id',
  'title_id',
  'start_time',
  'end_time',
  'duration_ms',
  'end_reason',
  'startup_outcome',
  'play_attempt',
  'ebvs',
  'vsf',
  'vpf',
  'startup_ms',
  'play_ms',
  'paused_ms',
  'stall_ms',
  'seek_stall_ms',
  'stall_count',
  'rebuffer_ratio',
  'stalls_per_hour',
  'avg_bitrate_kbps',
  'switches_up',
  'switches_down',
  'bytes',
  'download_ms',
  'segments',
  'throughput_kbps',
  'oca_id',
  'first_oca_id',
  'plan_oca_id',
  'device_class',
  'isp',
  'region',
  'country',
  'player_name',
  'experiments',
  'event_count',
  'missing_seq_count',
  'error_count',
  'fatal_error_type',
  'fatal_error_details',
  'score',
  'source_partition',
  'source_offset_last',
]);

export function toSessionRow(s: SessionSummary): SessionRow {
  return {
    summary_id: s.summaryId,
    summary_version: s.summaryVersion,
    session_id: s.sessionId,
    viewer_id: s.viewerId,
    title_id: s.titleId,
    // DateTime64(3) reads an integer in JSONEachRow as ticks, i.e. epoch milliseconds.
    start_time: s.startTime,
    end_time: s.endTime,
    duration_ms: s.durationMs,
    end_reason: s.endReason,
    startup_outcome: s.startupOutcome,
    play_attempt: bit(s.playAttempt),
    ebvs: bit(s.ebvs),
    vsf: bit(s.vsf),
    vpf: bit(s.vpf),
    startup_ms: s.startupMs,
    play_ms: s.playMs,
    paused_ms: s.pausedMs,
    stall_ms: s.stallMs,
    seek_stall_ms: s.seekStallMs,
    stall_count: s.stallCount,
    rebuffer_ratio: s.rebufferRatio,
    stalls_per_hour: s.stallsPerHour,
    avg_bitrate_kbps: s.avgBitrateKbps,
    switches_up: s.switchesUp,
    switches_down: s.switchesDown,
    bytes: s.bytes,
    download_ms: s.downloadMs,
    segments: s.segments,
    throughput_kbps: s.throughputKbps,
    oca_id: s.ocaId ?? '',
    first_oca_id: s.firstOcaId ?? '',
    plan_oca_id: s.planOcaId ?? '',
    device_class: s.deviceClass,
    isp: s.isp,
    region: s.region,
    country: s.country,
    player_name: s.playerName ?? '',
    experiments: s.experiments.map((e) => ({ key: e.key, cell: e.cell })),
    event_count: s.eventCount,
    missing_seq_count: s.missingSeqCount,
    error_count: s.errorCount,
    fatal_error_type: s.fatalErrorType ?? '',
    fatal_error_details: s.fatalErrorDetails ?? '',
    score: s.score,
    source_partition: s.sourcePartition ?? -1,
    source_offset_last: s.sourceOffsetLast ?? -1,
  };
}
