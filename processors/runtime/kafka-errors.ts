/**
 * Whether a kafkajs failure can clear by itself. kafkajs marks each error `retriable`, but
 * after its own retries it throws KafkaJSNumberOfRetriesExceeded, which is non-retriable
 * whatever the cause; wrapping everything as retriable (as the processors did) retried a
 * refusal like MESSAGE_TOO_LARGE or TOPIC_AUTHORIZATION_FAILED forever. The cause decides:
 * the innermost error of the chain (kafkajs `cause`), judged by its own `retriable` flag
 * (kafkajs src/errors.js; protocol errors carry the flag of their Kafka error code).
 */
import { ErrorKinds, isProgrammerError, PlayloopError } from '../../core/errors.ts';

export function kafkaRetriable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof e !== 'object' || e === null || !('cause' in e)) break;
    const cause: unknown = (e as { cause: unknown }).cause;
    if (cause === undefined || cause === null || cause === e) break;
    e = cause;
  }
  if (isProgrammerError(e)) return false;
  if (typeof e === 'object' && e !== null && 'retriable' in e) {
    return (e as { retriable: unknown }).retriable === true;
  }
  // Not a kafkajs error: unknown, so not retried (the consumer stops without committing).
  return false;
}

/** A Kafka failure as a PlayloopError whose retriable flag is the root cause's. */
export function kafkaFailure(action: string, cause: unknown): PlayloopError {
  return new PlayloopError(ErrorKinds.KAFKA_UNAVAILABLE, action, { cause, retriable: kafkaRetriable(cause) });
}
