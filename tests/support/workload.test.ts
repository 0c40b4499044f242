/**
 * The workload's truth (computed from its parameters) against the QoE core's summaries of
 * its events: two independent computations that must agree before either is used to judge
 * the pipeline.
 */
import { describe, expect, it } from 'vitest';
import { summarizeEvents } from '../../processors/qoe-core/summarize.ts';
import { generateWorkload } from './workload.ts';

describe('known-truth workload', () => {
  it('agrees with the QoE core session by session, duplicates and reordering included', () => {
    const { events, truth } = generateWorkload({
      sessions: 2_000,
      seed: 7,
      startMs: Date.UTC(2026, 10, 26, 12),
      spreadMs: 300_000,
      duplicateShare: 0.02,
      reorderJitterMs: 2_000,
    });
    const summaries = new Map(summarizeEvents(events).map((s) => [s.sessionId, s]));
    expect(summaries.size).toBe(truth.length);
    for (const t of truth) {
      const s = summaries.get(t.sessionId);
      expect(s, t.sessionId).toBeDefined();
      if (!s) continue;
      expect(
        {
          end: s.endTime,
          ebvs: s.ebvs,
          vsf: s.vsf,
          vpf: s.vpf,
          startup: s.startupMs,
          play: s.playMs,
          stall: s.stallMs,
          stalls: s.stallCount,
          up: s.switchesUp,
          down: s.switchesDown,
          oca: s.ocaId,
          device: s.deviceClass,
        },
        t.sessionId,
      ).toEqual({
        end: t.endTime,
        ebvs: t.ebvs,
        vsf: t.vsf,
        vpf: t.vpf,
        startup: t.startupMs,
        play: t.playMs,
        stall: t.stallMs,
        stalls: t.stallCount,
        up: t.switchesUp,
        down: t.switchesDown,
        oca: t.ocaId,
        device: t.deviceClass,
      });
      if (t.playMs > 0 && s.avgBitrateKbps !== null) {
        expect(s.avgBitrateKbps * s.playMs).toBeCloseTo(t.bitrateKbpsMs, 3);
      }
    }
  });
});
