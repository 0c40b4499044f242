import { describe, expect, it } from 'vitest';
import { parseBatch, pathOfKey } from './parse.ts';

const parse = parseBatch({ maxEventsPerBatch: 3 });
const run = (text: string | Buffer) => parse(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));

describe('parse step', () => {
  it('turns a batch into its events and sentAt', () => {
    expect(run('{"events":[{"a":1},2],"sentAt":1700000000000}')).toEqual({
      type: 'ok',
      value: { events: [{ a: 1 }, 2], sentAt: 1_700_000_000_000 },
    });
    expect(run('\ufeff {"events":[]} ')).toEqual({ type: 'ok', value: { events: [], sentAt: null } });
  });

  it.each([
    ['', 'PLAYLOOP_BAD_REQUEST', /body is required/],
    ['{"events":[', 'PLAYLOOP_BAD_REQUEST', /not valid JSON/],
    ['null', 'PLAYLOOP_BAD_REQUEST', /must be a JSON object/],
    ['[{"events":[]}]', 'PLAYLOOP_BAD_REQUEST', /must be a JSON object/],
    ['{"event":[]}', 'PLAYLOOP_BAD_REQUEST', /\$\.event is not allowed/],
    ['{"events":null}', 'PLAYLOOP_BAD_REQUEST', /\$\.events must be an array/],
    ['{"events":[],"sentAt":1.5}', 'PLAYLOOP_BAD_REQUEST', /\$\.sentAt must be/],
    ['{"events":[],"sentAt":1e400}', 'PLAYLOOP_BAD_REQUEST', /\$\.sentAt must be/],
    ['{"events":[1,2,3,4]}', 'PLAYLOOP_PAYLOAD_TOO_LARGE', /4 events; at most 3/],
    ['{"events":[],"constructor":{}}', 'PLAYLOOP_BAD_REQUEST', /\$\.constructor is not allowed/],
  ])('refuses %s as a whole request', (text, code, message) => {
    const r = run(text);
    expect(r.type).toBe('drop');
    if (r.type !== 'drop') return;
    expect(r.error.code).toBe(code);
    expect(r.error.message).toMatch(message);
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const r = run(Buffer.from([0x7b, 0x22, 0x65, 0xc3, 0x28, 0x22, 0x3a, 0x5b, 0x5d, 0x7d]));
    expect(r.type === 'drop' && r.error.message).toMatch(/UTF-8/);
  });

  it('survives deep nesting without a stack overflow', () => {
    const deep = `{"events":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`;
    const r = run(deep);
    expect(r.type === 'ok' && r.value.events.length).toBe(1);
  });

  it('names keys as JSONPath, shortening hostile ones', () => {
    expect(pathOfKey('events')).toBe('$.events');
    expect(pathOfKey('a b', '$.x')).toBe('$.x["a b"]');
    expect(pathOfKey('k'.repeat(100))).toBe(`$["${'k'.repeat(64)}…"]`);
  });
});
