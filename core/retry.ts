import { isRetriable } from './errors.ts';

export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly maxAttempts: number;
}

export const defaultBackoff: BackoffPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  maxAttempts: 8,
});

/**
 * "Full jitter" backoff: a uniform delay in [0, min(cap, base * m^attempt)].
 * Source: Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog (2015);
 * full jitter spreads retries of many clients best for the least total work.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** attempt);
  return Math.floor(random() * ceiling);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, retrying only errors that say they are retriable.
 * Programmer errors and unknown failures surface at once so the caller can stop safely.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: {
    policy?: BackoffPolicy;
    signal?: AbortSignal;
    onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
    retriable?: (err: unknown) => boolean;
  } = {},
): Promise<T> {
  const policy = options.policy ?? defaultBackoff;
  const retriable = options.retriable ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retriable(err) || attempt + 1 >= policy.maxAttempts) throw err;
      const delayMs = backoffDelayMs(attempt, policy);
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * Polls `probe` until it returns a value that is not undefined, or the deadline passes.
 * `undefined` means "not yet"; a thrown error means "never" and ends the wait at once.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await sleep(options.intervalMs ?? 200);
  }
}
