// Generated from schemas/playback-session.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** One view of a playback session, as written to playback.sessions by sessionize, keyed by sessionId. A view is a session, or the part of it between two gaps of more than viewGapMs without events. Metrics follow the one QoE definition in processors/qoe-core (README there); times are corrected event times (clientTs - server.clockSkewMs), epoch ms. */
export interface SessionSummary {
  /** `<sessionId>:<firstSeq>`: deterministic, unique per view; downstream dedupes on it. */
  summaryId: string;
  /** Version of the QoE definitions and score formula that produced this record (processors/qoe-core SUMMARY_VERSION). */
  summaryVersion: number;
  /** CMCD sid. */
  sessionId: string;
  viewerId: string;
  /** CMCD cid. */
  titleId: string;
  /** Lowest event seq folded into this view. */
  firstSeq: number;
  /** Highest event seq folded into this view (events after session_end are not folded). */
  lastSeq: number;
  /** The view holds a play_intent: it is a play attempt, the denominator of EBVS and VSF rates. */
  playAttempt: boolean;
  /** Corrected event time of the view's first event. */
  startTime: number;
  /** Corrected event time of session_end, else of the view's last event. */
  endTime: number;
  /** endTime - startTime. */
  durationMs: number;
  /** The player's session_end reason; timed_out when the view closed after viewGapMs without events; evicted when the open-session cap forced it out before it ended; open only from summarizeSession on an unfinished session, never on the topic. */
  endReason: SessionEndReason;
  /** started: first frame seen; continued: video was already playing when the view began (a view after a long gap); ebvs: exit before video start; vsf: video start failure; unknown: no first frame and no end yet (open or evicted). */
  startupOutcome: StartupOutcome;
  /** Exit before video start: ended without a first frame and without a fatal error. */
  ebvs: boolean;
  /** Video start failure: a fatal error (or session_end reason error) before the first frame. */
  vsf: boolean;
  /** Video playback failure: a fatal error after the first frame. */
  vpf: boolean;
  /** Play delay: play_intent to first_frame. Null without both. */
  startupMs: null | number;
  /** Time playing after the first frame: excludes startup, pauses, stalls and seek stalls. */
  playMs: number;
  pausedMs: number;
  /** Rebuffering after the first frame not caused by a seek; a stall open at the end counts up to endTime. */
  stallMs: number;
  /** Stalls caused by seeks: excluded from stallMs and playMs. */
  seekStallMs: number;
  stallCount: number;
  seekStallCount: number;
  /** stallMs / (playMs + stallMs); 0 when both are 0; null when video never started. */
  rebufferRatio: null | number;
  /** stallCount per hour of playMs + stallMs; null when that is 0. */
  stallsPerHour: null | number;
  /** session_end came while a (non-seek) stall was open. */
  exitDuringStall: boolean;
  /** Rendition bitrate time-weighted over play time; null without play time at a known bitrate. */
  avgBitrateKbps: null | number;
  /** Bitrate at the first frame. */
  firstBitrateKbps: null | number;
  /** rendition_switch to a higher bitrate after the first frame. */
  switchesUp: number;
  switchesDown: number;
  /** Bytes of all segment downloads. */
  bytes: number;
  downloadMs: number;
  segments: number;
  /** bytes * 8 / downloadMs (bits per ms = kbit/s). */
  throughputKbps: null | number;
  /** The OCA that served the most bytes (ties: lowest id); the first OCA when no segment arrived. */
  ocaId: null | string;
  /** OCA of the first segment, else of the manifest, else of the play_intent plan. */
  firstOcaId: null | string;
  /** First OCA of the control plane's plan (play_intent.ocaId). */
  planOcaId: null | string;
  /** Delivery per OCA, in order of first use. */
  ocas: Array<OcaDelivery>;
  /** From server context of the view's first event. */
  deviceClass: string;
  isp: string;
  region: string;
  country: string;
  playerName: null | string;
  /** Cells from play_intent (else from the first event that carries any). */
  experiments: Array<ExperimentCell>;
  /** Distinct events folded into the view. */
  eventCount: number;
  /** Sequence numbers between firstSeq and lastSeq that never arrived in time. */
  missingSeqCount: number;
  seekCount: number;
  pauseCount: number;
  /** Errors, fatal or not. */
  errorCount: number;
  /** hls.js ErrorTypes of the first fatal error. */
  fatalErrorType: null | string;
  fatalErrorDetails: null | string;
  /** 0-100 session score (processors/qoe-core/SCORE.md); null for views without a verdict (EBVS, unknown). */
  score: null | number;
  /** Startup component, 0-1. */
  scoreStartup: null | number;
  /** Smoothness component, 0-1. */
  scoreSmoothness: null | number;
  /** Quality component, 0-1. */
  scoreQuality: null | number;
  /** playback.events partition the view's events came from. */
  sourcePartition: null | number;
  /** Lowest offset of an event folded into the view. */
  sourceOffsetFirst: null | number;
  /** Highest offset of an event folded into the view. */
  sourceOffsetLast: null | number;
}

export const SessionEndReasonValues = ["viewer_exit","completed","error","navigated_away","timed_out","evicted","open"] as const;
export type SessionEndReason = (typeof SessionEndReasonValues)[number];

export const StartupOutcomeValues = ["started","continued","ebvs","vsf","unknown"] as const;
export type StartupOutcome = (typeof StartupOutcomeValues)[number];

export interface OcaDelivery {
  ocaId: string;
  bytes: number;
  downloadMs: number;
  segments: number;
  throughputKbps: null | number;
}

export interface ExperimentCell {
  key: string;
  cell: string;
}

export const schema = {"type":"record","name":"SessionSummary","namespace":"dev.playloop.sessions","doc":"One view of a playback session, as written to playback.sessions by sessionize, keyed by sessionId. A view is a session, or the part of it between two gaps of more than viewGapMs without events. Metrics follow the one QoE definition in processors/qoe-core (README there); times are corrected event times (clientTs - server.clockSkewMs), epoch ms.","fields":[{"name":"summaryId","type":"string","doc":"`<sessionId>:<firstSeq>`: deterministic, unique per view; downstream dedupes on it."},{"name":"summaryVersion","type":"int","doc":"Version of the QoE definitions and score formula that produced this record (processors/qoe-core SUMMARY_VERSION)."},{"name":"sessionId","type":"string","doc":"CMCD sid."},{"name":"viewerId","type":"string"},{"name":"titleId","type":"string","doc":"CMCD cid."},{"name":"firstSeq","type":"int","doc":"Lowest event seq folded into this view."},{"name":"lastSeq","type":"int","doc":"Highest event seq folded into this view (events after session_end are not folded)."},{"name":"playAttempt","type":"boolean","doc":"The view holds a play_intent: it is a play attempt, the denominator of EBVS and VSF rates."},{"name":"startTime","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Corrected event time of the view's first event."},{"name":"endTime","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Corrected event time of session_end, else of the view's last event."},{"name":"durationMs","type":"long","doc":"endTime - startTime."},{"name":"endReason","type":{"type":"enum","name":"SessionEndReason","symbols":["viewer_exit","completed","error","navigated_away","timed_out","evicted","open"]},"doc":"The player's session_end reason; timed_out when the view closed after viewGapMs without events; evicted when the open-session cap forced it out before it ended; open only from summarizeSession on an unfinished session, never on the topic."},{"name":"startupOutcome","type":{"type":"enum","name":"StartupOutcome","symbols":["started","continued","ebvs","vsf","unknown"]},"doc":"started: first frame seen; continued: video was already playing when the view began (a view after a long gap); ebvs: exit before video start; vsf: video start failure; unknown: no first frame and no end yet (open or evicted)."},{"name":"ebvs","type":"boolean","doc":"Exit before video start: ended without a first frame and without a fatal error."},{"name":"vsf","type":"boolean","doc":"Video start failure: a fatal error (or session_end reason error) before the first frame."},{"name":"vpf","type":"boolean","doc":"Video playback failure: a fatal error after the first frame."},{"name":"startupMs","type":["null","long"],"default":null,"doc":"Play delay: play_intent to first_frame. Null without both."},{"name":"playMs","type":"long","doc":"Time playing after the first frame: excludes startup, pauses, stalls and seek stalls."},{"name":"pausedMs","type":"long"},{"name":"stallMs","type":"long","doc":"Rebuffering after the first frame not caused by a seek; a stall open at the end counts up to endTime."},{"name":"seekStallMs","type":"long","doc":"Stalls caused by seeks: excluded from stallMs and playMs."},{"name":"stallCount","type":"int"},{"name":"seekStallCount","type":"int"},{"name":"rebufferRatio","type":["null","double"],"default":null,"doc":"stallMs / (playMs + stallMs); 0 when both are 0; null when video never started."},{"name":"stallsPerHour","type":["null","double"],"default":null,"doc":"stallCount per hour of playMs + stallMs; null when that is 0."},{"name":"exitDuringStall","type":"boolean","doc":"session_end came while a (non-seek) stall was open."},{"name":"avgBitrateKbps","type":["null","double"],"default":null,"doc":"Rendition bitrate time-weighted over play time; null without play time at a known bitrate."},{"name":"firstBitrateKbps","type":["null","int"],"default":null,"doc":"Bitrate at the first frame."},{"name":"switchesUp","type":"int","doc":"rendition_switch to a higher bitrate after the first frame."},{"name":"switchesDown","type":"int"},{"name":"bytes","type":"long","doc":"Bytes of all segment downloads."},{"name":"downloadMs","type":"long"},{"name":"segments","type":"int"},{"name":"throughputKbps","type":["null","double"],"default":null,"doc":"bytes * 8 / downloadMs (bits per ms = kbit/s)."},{"name":"ocaId","type":["null","string"],"default":null,"doc":"The OCA that served the most bytes (ties: lowest id); the first OCA when no segment arrived."},{"name":"firstOcaId","type":["null","string"],"default":null,"doc":"OCA of the first segment, else of the manifest, else of the play_intent plan."},{"name":"planOcaId","type":["null","string"],"default":null,"doc":"First OCA of the control plane's plan (play_intent.ocaId)."},{"name":"ocas","type":{"type":"array","items":{"type":"record","name":"OcaDelivery","fields":[{"name":"ocaId","type":"string"},{"name":"bytes","type":"long"},{"name":"downloadMs","type":"long"},{"name":"segments","type":"int"},{"name":"throughputKbps","type":["null","double"],"default":null}]}},"default":[],"doc":"Delivery per OCA, in order of first use."},{"name":"deviceClass","type":"string","doc":"From server context of the view's first event."},{"name":"isp","type":"string"},{"name":"region","type":"string"},{"name":"country","type":"string"},{"name":"playerName","type":["null","string"],"default":null},{"name":"experiments","type":{"type":"array","items":{"type":"record","name":"ExperimentCell","fields":[{"name":"key","type":"string"},{"name":"cell","type":"string"}]}},"default":[],"doc":"Cells from play_intent (else from the first event that carries any)."},{"name":"eventCount","type":"int","doc":"Distinct events folded into the view."},{"name":"missingSeqCount","type":"int","doc":"Sequence numbers between firstSeq and lastSeq that never arrived in time."},{"name":"seekCount","type":"int"},{"name":"pauseCount","type":"int"},{"name":"errorCount","type":"int","doc":"Errors, fatal or not."},{"name":"fatalErrorType","type":["null","string"],"default":null,"doc":"hls.js ErrorTypes of the first fatal error."},{"name":"fatalErrorDetails","type":["null","string"],"default":null},{"name":"score","type":["null","double"],"default":null,"doc":"0-100 session score (processors/qoe-core/SCORE.md); null for views without a verdict (EBVS, unknown)."},{"name":"scoreStartup","type":["null","double"],"default":null,"doc":"Startup component, 0-1."},{"name":"scoreSmoothness","type":["null","double"],"default":null,"doc":"Smoothness component, 0-1."},{"name":"scoreQuality","type":["null","double"],"default":null,"doc":"Quality component, 0-1."},{"name":"sourcePartition","type":["null","int"],"default":null,"doc":"playback.events partition the view's events came from."},{"name":"sourceOffsetFirst","type":["null","long"],"default":null,"doc":"Lowest offset of an event folded into the view."},{"name":"sourceOffsetLast","type":["null","long"],"default":null,"doc":"Highest offset of an event folded into the view."}]} as const;
