import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CpuProfile, fileOf, isOwnCode, moduleOf, summariseProfile } from './profile.ts';

const repo = (path: string): string => pathToFileURL(resolve(import.meta.dirname, '..', path)).href;
const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// root -> handler (own) -> writev (node) ; root -> handler -> parse (package) ; root -> require
// (module loading) ; root -> (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handler', repo('control-plane/plan/server.ts')), children: [3, 4] },
    { id: 3, callFrame: frame('writev', 'node:internal/stream_base_commons') },
    { id: 4, callFrame: frame('parse', repo('node_modules/secure-json-parse/index.js')) },
    { id: 5, callFrame: frame('compileFunction', 'node:internal/modules/cjs/loader') },
    { id: 6, callFrame: frame('(idle)') },
  ],
  startTime: 0,
  endTime: 700,
  // Each sample stands for the delta after it: 3 -> 100, 4 -> 200, 5 -> 100, 6 -> 100, 3 -> 100,
  // 2 -> 100 (the last one, 3, stands for nothing).
  samples: [3, 4, 5, 6, 3, 2, 3],
  timeDeltas: [0, 100, 200, 100, 100, 100, 100],
};

describe('summariseProfile', () => {
  it('splits self time by function and component, with idle and excluded time apart', () => {
    const s = summariseProfile(profile, { exclude: (m) => m === 'node:modules' });
    expect(s.busyMs).toBeCloseTo(0.5); // writev 100 + 100, parse 200, handler 100
    expect(s.idleMs).toBeCloseTo(0.1);
    expect(s.excludedMs).toBeCloseTo(0.1);
    const components = Object.fromEntries(s.components.map((c) => [c.name, c.share]));
    expect(components).toEqual({
      'secure-json-parse': 0.4,
      'node:stream_base_commons': 0.4,
      'control-plane/plan/server.ts': 0.2,
    });
    expect(s.functions.map((f) => f.name)).toEqual([
      'writev node:stream_base_commons:1',
      'parse secure-json-parse/index.js:1',
      'handler control-plane/plan/server.ts:1',
    ]);
  });

  it('counts inclusive time for the frames asked for, wrappers never', () => {
    const own = summariseProfile(profile, { inclusiveOf: isOwnCode });
    expect(own.inclusive).toEqual([
      { name: 'handler control-plane/plan/server.ts:1', selfMs: 0.5, share: 5 / 6 },
    ]);
    const all = summariseProfile(profile);
    expect(all.inclusive.map((l) => l.name)).not.toContain('(root)');
    expect(all.inclusive.map((l) => l.name)).toContain('parse secure-json-parse/index.js:1');
  });

  it('gives each sample the first area with a frame on its stack', () => {
    const s = summariseProfile(profile, {
      areas: {
        list: [
          ['body parsing', /secure-json-parse/],
          ['the handler', /^handler /],
        ],
        rest: 'the rest',
      },
    });
    const areas = Object.fromEntries(s.areas.map((a) => [a.name, a.selfMs]));
    // parse is under handler too: the first area in the list wins.
    expect(areas).toEqual({ 'body parsing': 0.2, 'the handler': 0.3, 'the rest': 0.1 });
  });

  it('cuts to a span of the profile clock', () => {
    // Samples at 100 (4) and 300 (5) only.
    const s = summariseProfile(profile, { span: { fromUs: 50, toUs: 350 } });
    expect(s.functions.map((f) => f.name.split(' ')[0])).toEqual(['parse', 'compileFunction']);
  });
});

describe('names', () => {
  it('name modules and files by package, repository path or node core module', () => {
    expect(moduleOf(frame('x', repo('node_modules/@clickhouse/client/dist/a.js')))).toBe(
      '@clickhouse/client',
    );
    expect(moduleOf(frame('x', repo('processors/qoe/rows.ts')))).toBe('processors/qoe/rows.ts');
    expect(moduleOf(frame('x', 'node:internal/buffer'))).toBe('node:buffer');
    expect(moduleOf(frame('(garbage collector)'))).toBe('(garbage collector)');
    expect(moduleOf(frame('Array.prototype.push'))).toBe('V8 builtins');
    expect(fileOf(repo('node_modules/kafkajs/src/protocol/encoder.js'))).toBe(
      'kafkajs/src/protocol/encoder.js',
    );
    expect(isOwnCode(frame('x', repo('infra/kafka.ts')))).toBe(true);
    expect(isOwnCode(frame('x', repo('node_modules/kafkajs/index.js')))).toBe(false);
  });
});
