/** The sessionizer: player events in, one final SessionSummary per view out. Free of Kafka. */
export {
  DEFAULT_SESSIONIZE_OPTIONS,
  type SessionizeOptions,
  sessionizeOptions,
  sessionizeOptionsFrom,
} from './options.ts';
export {
  type Disposition,
  type PartitionSnapshot,
  Sessionizer,
  type SessionizerStats,
  type SourcePosition,
} from './sessionizer.ts';
