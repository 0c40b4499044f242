// Generated from schemas/playback-event.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** One player event as written to playback.events by ingest, keyed by sessionId. Key names follow CMCD (CTA-5004) where one exists; errors use hls.js ErrorTypes and ErrorDetails. Exactly the payload field named by `kind` is set (pause and resume carry none). */
export interface PlaybackEvent {
  /** CMCD sid: one playback session. */
  sessionId: string;
  /** Per-session sequence number from 0; (sessionId, seq) identifies an event, so duplicates are recognised. -1 means unsequenced: every CMCD beacon (CMCD v2 `sn` numbers CMCD reports, another sequence), which no session view takes and which must not be deduplicated by (sessionId, seq). */
  seq: number;
  /** Empty when unknown: CMCD beacons carry no viewer id. */
  viewerId: string;
  /** CMCD cid: the content id. */
  titleId: string;
  /** Player clock, epoch ms. */
  clientTs: number;
  kind: EventKind;
  /** Media position when the event happened. */
  playheadMs: null | number;
  device: DeviceInfo;
  /** Experiment cells the control plane allocated for this playback; sent on play_intent. */
  experiments: Array<ExperimentCell>;
  cmcd: null | Cmcd;
  playIntent: null | PlayIntent;
  manifestLoaded: null | ManifestLoaded;
  firstFrame: null | FirstFrame;
  renditionSwitch: null | RenditionSwitch;
  stall: null | Stall;
  segment: null | SegmentDownloaded;
  heartbeat: null | Heartbeat;
  error: null | PlaybackError;
  seek: null | Seek;
  sessionEnd: null | SessionEnd;
  /** Set by ingest, never by the player. */
  server: ServerContext;
}

export const EventKindValues = ["play_intent","manifest_loaded","first_frame","rendition_switch","stall_start","stall_end","segment_downloaded","heartbeat","error","seek","pause","resume","session_end"] as const;
export type EventKind = (typeof EventKindValues)[number];

export interface DeviceInfo {
  /** tv, mobile, tablet, desktop, console or stb, when the player knows it. */
  deviceClass: null | string;
  model: null | string;
  os: null | string;
  /** e.g. hls.js, dash.js, playloop-fleet. */
  playerName: null | string;
  playerVersion: null | string;
  userAgent: null | string;
}

export interface ExperimentCell {
  key: string;
  cell: string;
}

/** Common Media Client Data, CTA-5004 key names and units. */
export interface Cmcd {
  /** Encoded bitrate, kbps. */
  br: null | number;
  /** Buffer length, ms. */
  bl: null | number;
  /** Measured throughput, kbps. */
  mtp: null | number;
  /** Object type: m, a, v, av, i, c, tt, k, o. */
  ot: null | string;
  /** Stream type: v (VOD) or l (live). */
  st: null | string;
  /** Streaming format: d (DASH), h (HLS), s (Smooth), o (other). */
  sf: null | string;
  /** Startup: the object is needed urgently (startup, seek, after a stall). */
  su: null | boolean;
  /** Object duration, ms. */
  d: null | number;
  /** Requested maximum throughput, kbps. */
  rtp: null | number;
  /** Top bitrate the client can play, kbps. */
  tb: null | number;
  /** Buffer starvation since the last request. */
  bs: null | boolean;
  /** Deadline from request time until the buffer starves, ms. */
  dl: null | number;
}

export interface PlayIntent {
  autoplay: boolean;
  startPositionMs: number;
  /** The control plane's playback plan this session follows. */
  planId: null | string;
  /** First OCA (pathway) of the plan. */
  ocaId: null | string;
}

export interface ManifestLoaded {
  loadMs: number;
  renditions: number;
  ocaId: null | string;
}

export interface FirstFrame {
  /** Rendition bitrate at first frame. */
  bitrateKbps: number;
}

export interface RenditionSwitch {
  fromKbps: number;
  toKbps: number;
  /** hls.js level index switched to. */
  level: number;
  height: null | number;
}

/** On stall_start and stall_end. */
export interface Stall {
  /** On stall_end: how long playback was stalled, as the player measured it. */
  durationMs: null | number;
  bufferMs: null | number;
}

export interface SegmentDownloaded {
  ocaId: string;
  bytes: number;
  downloadMs: number;
  /** Rendition's encoded bitrate (CMCD br). */
  bitrateKbps: number;
  /** Media duration of the segment (CMCD d). */
  durationMs: number;
  level: null | number;
  url: null | string;
  cacheHit: null | boolean;
}

export interface Heartbeat {
  bufferMs: number;
  bitrateKbps: number;
  droppedFrames: number;
}

export interface PlaybackError {
  type: ErrorType;
  /** hls.js ErrorDetails, e.g. fragLoadError, bufferStalledError, manifestLoadError. */
  details: string;
  fatal: boolean;
  httpStatus: null | number;
  message: null | string;
}

/** hls.js ErrorTypes. */
export const ErrorTypeValues = ["NETWORK_ERROR","MEDIA_ERROR","KEY_SYSTEM_ERROR","MUX_ERROR","OTHER_ERROR"] as const;
export type ErrorType = (typeof ErrorTypeValues)[number];

export interface Seek {
  fromMs: number;
  toMs: number;
}

export interface SessionEnd {
  reason: EndReason;
}

export const EndReasonValues = ["viewer_exit","completed","error","navigated_away"] as const;
export type EndReason = (typeof EndReasonValues)[number];

export interface ServerContext {
  receivedAt: number;
  /** Estimated client clock minus server clock for this batch: the batch's sentAt minus receivedAt (it includes the one-way network delay). 0 when the client sent no sentAt (CMCD beacons). clientTs - clockSkewMs is the event time on the server clock. */
  clockSkewMs: number;
  /** From the player when given, else from the user agent: tv, stb, console, tablet, mobile, desktop or unknown. */
  deviceClass: string;
  /** e.g. AS3320, or unknown. */
  isp: string;
  region: string;
  country: string;
  /** Which ingest key sent it (its id, never the key). */
  ingestKeyId: string;
}

export const schema = {"type":"record","name":"PlaybackEvent","namespace":"dev.playloop.events","doc":"One player event as written to playback.events by ingest, keyed by sessionId. Key names follow CMCD (CTA-5004) where one exists; errors use hls.js ErrorTypes and ErrorDetails. Exactly the payload field named by `kind` is set (pause and resume carry none).","fields":[{"name":"sessionId","type":"string","doc":"CMCD sid: one playback session."},{"name":"seq","type":"int","doc":"Per-session sequence number from 0; (sessionId, seq) identifies an event, so duplicates are recognised. -1 means unsequenced: every CMCD beacon (CMCD v2 `sn` numbers CMCD reports, another sequence), which no session view takes and which must not be deduplicated by (sessionId, seq)."},{"name":"viewerId","type":"string","doc":"Empty when unknown: CMCD beacons carry no viewer id."},{"name":"titleId","type":"string","doc":"CMCD cid: the content id."},{"name":"clientTs","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Player clock, epoch ms."},{"name":"kind","type":{"type":"enum","name":"EventKind","symbols":["play_intent","manifest_loaded","first_frame","rendition_switch","stall_start","stall_end","segment_downloaded","heartbeat","error","seek","pause","resume","session_end"]}},{"name":"playheadMs","type":["null","long"],"default":null,"doc":"Media position when the event happened."},{"name":"device","type":{"type":"record","name":"DeviceInfo","fields":[{"name":"deviceClass","type":["null","string"],"default":null,"doc":"tv, mobile, tablet, desktop, console or stb, when the player knows it."},{"name":"model","type":["null","string"],"default":null},{"name":"os","type":["null","string"],"default":null},{"name":"playerName","type":["null","string"],"default":null,"doc":"e.g. hls.js, dash.js, playloop-fleet."},{"name":"playerVersion","type":["null","string"],"default":null},{"name":"userAgent","type":["null","string"],"default":null}]}},{"name":"experiments","type":{"type":"array","items":{"type":"record","name":"ExperimentCell","fields":[{"name":"key","type":"string"},{"name":"cell","type":"string"}]}},"default":[],"doc":"Experiment cells the control plane allocated for this playback; sent on play_intent."},{"name":"cmcd","type":["null",{"type":"record","name":"Cmcd","doc":"Common Media Client Data, CTA-5004 key names and units.","fields":[{"name":"br","type":["null","int"],"default":null,"doc":"Encoded bitrate, kbps."},{"name":"bl","type":["null","int"],"default":null,"doc":"Buffer length, ms."},{"name":"mtp","type":["null","int"],"default":null,"doc":"Measured throughput, kbps."},{"name":"ot","type":["null","string"],"default":null,"doc":"Object type: m, a, v, av, i, c, tt, k, o."},{"name":"st","type":["null","string"],"default":null,"doc":"Stream type: v (VOD) or l (live)."},{"name":"sf","type":["null","string"],"default":null,"doc":"Streaming format: d (DASH), h (HLS), s (Smooth), o (other)."},{"name":"su","type":["null","boolean"],"default":null,"doc":"Startup: the object is needed urgently (startup, seek, after a stall)."},{"name":"d","type":["null","int"],"default":null,"doc":"Object duration, ms."},{"name":"rtp","type":["null","int"],"default":null,"doc":"Requested maximum throughput, kbps."},{"name":"tb","type":["null","int"],"default":null,"doc":"Top bitrate the client can play, kbps."},{"name":"bs","type":["null","boolean"],"default":null,"doc":"Buffer starvation since the last request."},{"name":"dl","type":["null","int"],"default":null,"doc":"Deadline from request time until the buffer starves, ms."}]}],"default":null},{"name":"playIntent","type":["null",{"type":"record","name":"PlayIntent","fields":[{"name":"autoplay","type":"boolean","default":false},{"name":"startPositionMs","type":"long","default":0},{"name":"planId","type":["null","string"],"default":null,"doc":"The control plane's playback plan this session follows."},{"name":"ocaId","type":["null","string"],"default":null,"doc":"First OCA (pathway) of the plan."}]}],"default":null},{"name":"manifestLoaded","type":["null",{"type":"record","name":"ManifestLoaded","fields":[{"name":"loadMs","type":"int"},{"name":"renditions","type":"int"},{"name":"ocaId","type":["null","string"],"default":null}]}],"default":null},{"name":"firstFrame","type":["null",{"type":"record","name":"FirstFrame","fields":[{"name":"bitrateKbps","type":"int","doc":"Rendition bitrate at first frame."}]}],"default":null},{"name":"renditionSwitch","type":["null",{"type":"record","name":"RenditionSwitch","fields":[{"name":"fromKbps","type":"int"},{"name":"toKbps","type":"int"},{"name":"level","type":"int","doc":"hls.js level index switched to."},{"name":"height","type":["null","int"],"default":null}]}],"default":null},{"name":"stall","type":["null",{"type":"record","name":"Stall","doc":"On stall_start and stall_end.","fields":[{"name":"durationMs","type":["null","long"],"default":null,"doc":"On stall_end: how long playback was stalled, as the player measured it."},{"name":"bufferMs","type":["null","int"],"default":null}]}],"default":null},{"name":"segment","type":["null",{"type":"record","name":"SegmentDownloaded","fields":[{"name":"ocaId","type":"string"},{"name":"bytes","type":"long"},{"name":"downloadMs","type":"int"},{"name":"bitrateKbps","type":"int","doc":"Rendition's encoded bitrate (CMCD br)."},{"name":"durationMs","type":"int","doc":"Media duration of the segment (CMCD d)."},{"name":"level","type":["null","int"],"default":null},{"name":"url","type":["null","string"],"default":null},{"name":"cacheHit","type":["null","boolean"],"default":null}]}],"default":null},{"name":"heartbeat","type":["null",{"type":"record","name":"Heartbeat","fields":[{"name":"bufferMs","type":"int"},{"name":"bitrateKbps","type":"int"},{"name":"droppedFrames","type":"int","default":0}]}],"default":null},{"name":"error","type":["null",{"type":"record","name":"PlaybackError","fields":[{"name":"type","type":{"type":"enum","name":"ErrorType","doc":"hls.js ErrorTypes.","symbols":["NETWORK_ERROR","MEDIA_ERROR","KEY_SYSTEM_ERROR","MUX_ERROR","OTHER_ERROR"]}},{"name":"details","type":"string","doc":"hls.js ErrorDetails, e.g. fragLoadError, bufferStalledError, manifestLoadError."},{"name":"fatal","type":"boolean"},{"name":"httpStatus","type":["null","int"],"default":null},{"name":"message","type":["null","string"],"default":null}]}],"default":null},{"name":"seek","type":["null",{"type":"record","name":"Seek","fields":[{"name":"fromMs","type":"long"},{"name":"toMs","type":"long"}]}],"default":null},{"name":"sessionEnd","type":["null",{"type":"record","name":"SessionEnd","fields":[{"name":"reason","type":{"type":"enum","name":"EndReason","symbols":["viewer_exit","completed","error","navigated_away"]}}]}],"default":null},{"name":"server","doc":"Set by ingest, never by the player.","type":{"type":"record","name":"ServerContext","fields":[{"name":"receivedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"clockSkewMs","type":"long","doc":"Estimated client clock minus server clock for this batch: the batch's sentAt minus receivedAt (it includes the one-way network delay). 0 when the client sent no sentAt (CMCD beacons). clientTs - clockSkewMs is the event time on the server clock."},{"name":"deviceClass","type":"string","doc":"From the player when given, else from the user agent: tv, stb, console, tablet, mobile, desktop or unknown."},{"name":"isp","type":"string","doc":"e.g. AS3320, or unknown."},{"name":"region","type":"string"},{"name":"country","type":"string"},{"name":"ingestKeyId","type":"string","doc":"Which ingest key sent it (its id, never the key)."}]}}]} as const;
