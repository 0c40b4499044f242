/** The one QoE definition: pure functions from player events to session summaries. */
export { eventTimeMs } from './event-time.ts';
export { createInterner, type Dimensions, type Interner, noInterning } from './interner.ts';
export {
  bitrateUtility,
  qualityComponent,
  RUNG_UTILITY,
  SCORE_CONSTANTS,
  SCORE_VERSION,
  type ScoreInputs,
  type SessionScore,
  sessionScore,
  smoothnessComponent,
  startupComponent,
} from './score.ts';
export { DEFAULT_VIEW_GAP_MS, type SummarizeOptions, summarizeEvents } from './summarize.ts';
export {
  type CloseReason,
  createView,
  finishView,
  foldEvent,
  type OcaAccumulator,
  opensNewView,
  Phase,
  recordSource,
  StartKind,
  SUMMARY_VERSION,
  type ViewState,
  viewEnded,
  viewLastTime,
  viewOcas,
} from './view-fold.ts';
