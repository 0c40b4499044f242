import { describe, expect, it } from 'vitest';
import { eventTimeMs } from '../../processors/qoe-core/event-time.ts';
import { materialise, partitionOf, SessionStream, sessionTemplates } from './workload.ts';

describe('the benchmark workload', () => {
  const templates = sessionTemplates(30, 7);

  it('cuts one template per session, each starting at its play intent', () => {
    expect(templates).toHaveLength(30);
    for (const t of templates) {
      expect(t.events[0]!.kind).toBe('play_intent');
      expect(t.offsetsMs[0]).toBe(0);
      for (let i = 1; i < t.offsetsMs.length; i++) {
        expect(t.offsetsMs[i]!).toBeGreaterThanOrEqual(t.offsetsMs[i - 1]!);
      }
    }
  });

  it('plays every event of every session once, in due-time order, restamped', () => {
    const startMs = Date.UTC(2026, 5, 1);
    const stream = new SessionStream({
      templates,
      startMs,
      sessionsPerSecond: 4,
      idPrefix: 't',
      maxSessions: 40,
    });
    const bySession = new Map<string, number[]>();
    let lastDue = Number.NEGATIVE_INFINITY;
    let ends = 0;
    for (let s = stream.next(); s !== undefined; s = stream.next()) {
      expect(s.dueMs).toBeGreaterThanOrEqual(lastDue);
      lastDue = s.dueMs;
      const event = materialise(s);
      expect(event.sessionId).toBe(s.sessionId);
      const seqs = bySession.get(s.sessionId) ?? [];
      seqs.push(event.seq);
      bySession.set(s.sessionId, seqs);
      if (s.index === 0) {
        // Sessions start evenly spaced, and the first event's time is the session's start.
        const n = Number(s.sessionId.slice(2));
        expect(eventTimeMs(event)).toBe(startMs + n * 250);
      }
      if (s.isFirstEnd) ends++;
    }
    expect(stream.sessionsStarted).toBe(40);
    expect(bySession.size).toBe(40);
    for (const [id, seqs] of bySession) {
      const template = templates[Number(id.slice(2)) % templates.length]!;
      expect(seqs).toEqual(template.events.map((e) => e.seq));
    }
    const withEnd = [...Array(40).keys()].filter((n) =>
      templates[n % templates.length]!.events.some((e) => e.kind === 'session_end'),
    );
    expect(ends).toBe(withEnd.length);
    expect(stream.peekDueMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('partitions by session id, stably and within range', () => {
    for (const id of ['a', 'session-1', 's-42-7']) {
      const p = partitionOf(id, 4);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(4);
      expect(partitionOf(id, 4)).toBe(p);
    }
  });
});
