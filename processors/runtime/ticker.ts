/**
 * The loop of a timer-driven processor (steering, ABR tuning): a tick every `intervalMs`,
 * counted from the end of the previous one, so a slow tick never overlaps the next. Ticks run
 * one at a time, including ones asked for out of turn (`tick()`). A retriable failure (Kafka
 * or ClickHouse away) is logged and the next tick tries again; any other failure stops the
 * loop for good and is handed to `onFatal`, because repeating it cannot fix it.
 */
import { errorMessage, isRetriable } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';

export interface TickerOptions {
  readonly intervalMs: number;
  /** How the processor is named in log lines: `steering`, `abr tuning`. */
  readonly name: string;
  readonly log: Logger;
  readonly onFatal?: ((err: unknown) => void) | undefined;
}

export interface Ticker<T> {
  /** Runs a tick now, serialised with the timer's. */
  tick(): Promise<T>;
  /** The failure that stopped the loop, if one did. */
  failure(): unknown;
  /** Stops the timer and waits for a tick in progress. */
  stop(): Promise<void>;
}

export function startTicker<T>(runTick: () => Promise<T>, o: TickerOptions): Ticker<T> {
  let failure: unknown;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const tick = (): Promise<T> => {
    const next = chain.then(runTick);
    chain = next.catch(() => undefined);
    return next;
  };

  const schedule = (): void => {
    if (stopped || failure !== undefined) return;
    timer = setTimeout(() => {
      tick().then(
        () => schedule(),
        (err: unknown) => {
          if (isRetriable(err)) {
            o.log.warn({ err: errorMessage(err) }, `${o.name} tick failed; retrying next tick`);
            schedule();
            return;
          }
          failure = err;
          o.log.error({ err: errorMessage(err) }, `${o.name} stopped; restart the role to resume`);
          o.onFatal?.(err);
        },
      );
    }, o.intervalMs);
  };
  schedule();

  return {
    tick,
    failure: () => failure,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await chain;
    },
  };
}
