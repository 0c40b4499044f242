/**
 * Throughput caps by pacing: a response body is released in chunks, each chunk no earlier
 * than the time a link of the capped rate would have needed to carry every byte up to and
 * including it (a token bucket with no burst). Over a whole response the delivery time is
 * bytes / rate, so the player's throughput estimate sees the cap, as it would on a congested
 * path. Each response is paced on its own: one HTTP/1.1 connection carries one response at a
 * time, so this is a per-connection cap.
 *
 * Units: kbps are kilobits per second, 1 kbps = 1000 bit/s (SI, as CMCD `br`/`mtp` use).
 */
import { Readable } from 'node:stream';

export function bytesPerSecond(kbps: number): number {
  return (kbps * 1000) / 8;
}

/** Bytes per release: about `tickMs` of data at the cap, within [1 KiB, 64 KiB]. */
export function chunkBytes(bytesPerSec: number, tickMs = 50): number {
  return Math.min(65_536, Math.max(1_024, Math.round((bytesPerSec * tickMs) / 1000)));
}

/** Milliseconds to wait before releasing a chunk that brings the total sent to `sentAfterChunk`. */
export function releaseDelayMs(sentAfterChunk: number, bytesPerSec: number, elapsedMs: number): number {
  return Math.max(0, (sentAfterChunk / bytesPerSec) * 1000 - elapsedMs);
}

/** Expected delivery time of `totalBytes` at `kbps`: the figure a test holds pacing to. */
export function expectedDurationMs(totalBytes: number, kbps: number): number {
  return (totalBytes / bytesPerSecond(kbps)) * 1000;
}

export interface PacingClock {
  now(): number;
}

/** A Readable that yields `body` at no more than `kbps`. Destroying it cancels the timer. */
export function pacedStream(body: Buffer, kbps: number, clock: PacingClock = performance): Readable {
  if (!(kbps > 0)) throw new RangeError(`kbps must be positive, got ${kbps}`);
  const rate = bytesPerSecond(kbps);
  const size = chunkBytes(rate);
  let sent = 0;
  let started: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  return new Readable({
    highWaterMark: size,
    read() {
      if (timer !== undefined) return; // a chunk is already scheduled
      if (sent >= body.length) {
        this.push(null);
        return;
      }
      started ??= clock.now();
      const end = Math.min(body.length, sent + size);
      const delay = releaseDelayMs(end, rate, clock.now() - started);
      timer = setTimeout(() => {
        timer = undefined;
        const chunk = body.subarray(sent, end);
        sent = end;
        this.push(chunk);
        if (sent >= body.length) this.push(null);
      }, delay);
    },
    destroy(err, callback) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      callback(err);
    },
  });
}
