import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriable } from '../../core/errors.ts';
import { kafkaFailure, kafkaRetriable } from './kafka-errors.ts';

// Protocol errors as kafkajs builds them from broker error codes (src/protocol/error.js):
// MESSAGE_TOO_LARGE (10) is not retriable, NOT_LEADER_OR_FOLLOWER (6) is.
const tooLarge = new KafkaJSProtocolError(
  Object.assign(
    new Error('The request included a message larger than the max message size the server will accept'),
    { type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false },
  ),
);
const notLeader = new KafkaJSProtocolError(
  Object.assign(
    new Error('There is no leader for this topic-partition as we are in the middle of a leadership election'),
    {
      type: 'NOT_LEADER_OR_FOLLOWER',
      code: 6,
      retriable: true,
    },
  ),
);

describe('kafkaRetriable', () => {
  it('judges by the root cause, not by the retries-exceeded wrapper', () => {
    const exhausted = (cause: Error) =>
      new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1_000 });
    expect(kafkaRetriable(exhausted(new KafkaJSConnectionError('Connection error: ECONNREFUSED')))).toBe(
      true,
    );
    expect(kafkaRetriable(exhausted(notLeader))).toBe(true);
    expect(kafkaRetriable(exhausted(tooLarge))).toBe(false);
    expect(kafkaRetriable(tooLarge)).toBe(false);
  });

  it('never retries programmer errors or unknown failures', () => {
    expect(kafkaRetriable(new TypeError('x is not a function'))).toBe(false);
    expect(kafkaRetriable(new Error('something else'))).toBe(false);
  });

  it('gives a PlayloopError the runner retries only when the cause can clear', () => {
    expect(isRetriable(kafkaFailure('producing', new KafkaJSConnectionError('down')))).toBe(true);
    const refused = kafkaFailure('producing', tooLarge);
    expect(isRetriable(refused)).toBe(false);
    expect(refused.code).toBe('PLAYLOOP_KAFKA_UNAVAILABLE');
  });
});
