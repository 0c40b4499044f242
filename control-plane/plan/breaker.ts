/**
 * Circuit breakers (opossum) around the control plane's dependencies: the Kafka producer of
 * allocation events and the ClickHouse query behind availability. Neither is on the request
 * path; the breaker keeps a dead dependency from being hammered (and from piling up pending
 * calls) and makes its state visible in /readyz and /metrics. While a breaker is open, calls
 * fail at once and callers keep what they had: queued events stay queued (up to their bound),
 * availability stays at its last good value.
 */
import CircuitBreaker from 'opossum';
import type { Logger } from '../../core/log.ts';

export interface BreakerSettings {
  readonly timeoutMs: number;
  readonly errorThresholdPercentage: number;
  readonly resetTimeoutMs: number;
  readonly volumeThreshold: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export function createBreaker<TI extends unknown[], TR>(
  name: string,
  action: (...args: TI) => Promise<TR>,
  settings: BreakerSettings,
  log: Logger,
): CircuitBreaker<TI, TR> {
  const breaker = new CircuitBreaker<TI, TR>(action, {
    name,
    timeout: settings.timeoutMs,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    resetTimeout: settings.resetTimeoutMs,
    volumeThreshold: settings.volumeThreshold,
  });
  breaker.on('open', () =>
    log.warn({ dependency: name, resetTimeoutMs: settings.resetTimeoutMs }, 'circuit opened'),
  );
  breaker.on('halfOpen', () => log.info({ dependency: name }, 'circuit half-open: trying one call'));
  breaker.on('close', () => log.info({ dependency: name }, 'circuit closed'));
  return breaker;
}

export function breakerState(breaker: {
  readonly opened: boolean;
  readonly halfOpen: boolean;
}): BreakerState {
  if (breaker.halfOpen) return 'half-open';
  return breaker.opened ? 'open' : 'closed';
}
