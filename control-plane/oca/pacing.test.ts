import { describe, expect, it } from 'vitest';
import { bytesPerSecond, chunkBytes, expectedDurationMs, pacedStream, releaseDelayMs } from './pacing.ts';

describe('pacing math', () => {
  it('converts SI kilobits to bytes per second', () => {
    expect(bytesPerSecond(8)).toBe(1_000);
    expect(bytesPerSecond(2_000)).toBe(250_000);
  });

  it('releases a chunk when a link at the cap would have delivered it', () => {
    // 250 000 B/s: the byte at offset 50 000 is due 200 ms after the start.
    expect(releaseDelayMs(50_000, 250_000, 0)).toBe(200);
    expect(releaseDelayMs(50_000, 250_000, 150)).toBe(50);
    // Behind schedule (a slow event loop): release at once, never a negative delay.
    expect(releaseDelayMs(50_000, 250_000, 500)).toBe(0);
  });

  it('sizes chunks near 50 ms of data, bounded', () => {
    expect(chunkBytes(250_000)).toBe(12_500);
    expect(chunkBytes(1_000)).toBe(1_024);
    expect(chunkBytes(100_000_000)).toBe(65_536);
  });

  it('expects bytes / rate for a whole body', () => {
    expect(expectedDurationMs(500_000, 2_000)).toBe(2_000);
  });
});

describe('pacedStream', () => {
  it('delivers every byte in order, in about bytes / rate', async () => {
    const body = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251));
    const kbps = 1_600; // 200 000 B/s -> 200 ms
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of pacedStream(body, kbps)) chunks.push(chunk as Buffer);
    const elapsed = performance.now() - started;
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
    expect(elapsed).toBeGreaterThanOrEqual(expectedDurationMs(body.length, kbps) * 0.95);
    expect(elapsed).toBeLessThan(expectedDurationMs(body.length, kbps) + 250);
  });

  it('stops its timer when destroyed', async () => {
    const stream = pacedStream(Buffer.alloc(1_000_000), 8);
    stream.on('data', () => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.destroy();
    await new Promise((resolve) => stream.on('close', resolve));
    expect(stream.destroyed).toBe(true);
  });

  it('refuses a non-positive cap', () => {
    expect(() => pacedStream(Buffer.alloc(1), 0)).toThrow(RangeError);
  });
});
