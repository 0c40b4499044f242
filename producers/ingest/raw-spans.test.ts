import { describe, expect, it } from 'vitest';
import { eventSpans } from './raw-spans.ts';

function elements(text: string): string[] | undefined {
  const body = Buffer.from(text, 'utf8');
  return eventSpans(body)?.map(([a, b]) => body.subarray(a, b).toString('utf8'));
}

/** Random JSON values (as text), to check spans against JSON.parse. Seeded for replay. */
function randomJson(random: () => number, depth = 0): string {
  const r = random();
  if (depth > 4 || r < 0.3) {
    return [
      '1',
      '-0.5e3',
      '1e400',
      'true',
      'null',
      '"a,b]}"',
      '"esc \\" \\\\ \\u005d"',
      '"ünï©ødé 😀"',
      '""',
    ][Math.floor(random() * 9)] as string;
  }
  const n = Math.floor(random() * 4);
  const ws = random() < 0.5 ? ' ' : '\n\t';
  if (r < 0.65)
    return `[${ws}${Array.from({ length: n }, () => randomJson(random, depth + 1)).join(`${ws},`)}${ws}]`;
  return `{${ws}${Array.from({ length: n }, (_, i) => `"k${i}"${ws}:${ws}${randomJson(random, depth + 1)}`).join(',')}}`;
}

describe('raw spans of the events array', () => {
  it('finds each element as sent, spacing and number spelling kept', () => {
    expect(elements('{"events":[{"a":1e400} ,\n "x,]" , [1,[2]],{}]}')).toEqual([
      '{"a":1e400}',
      '"x,]"',
      '[1,[2]]',
      '{}',
    ]);
    expect(elements(' \ufeff{"events":[]}')).toBeUndefined(); // a BOM only counts at the very start
    expect(elements('\ufeff{"events":[]}')).toEqual([]);
  });

  it('skips other keys, reads escaped ones, and takes the last of duplicates as JSON.parse does', () => {
    expect(elements('{"sentAt":1,"other":{"events":[9]},"events":[1,2]}')).toEqual(['1', '2']);
    expect(elements('{"\\u0065vents":[7]}')).toEqual(['7']);
    expect(elements('{"events":[1],"events":[2,3]}')).toEqual(['2', '3']);
    expect(elements('{"events":5}')).toBeUndefined();
    expect(elements('[1]')).toBeUndefined();
  });

  it('handles deep nesting without recursion', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(elements(`{"events":[${deep},1]}`)?.map((e) => e.length)).toEqual([400_000, 1]);
  });

  it('agrees with JSON.parse on 500 random documents', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 500; i++) {
      const events = Array.from({ length: Math.floor(random() * 6) }, () => randomJson(random));
      const text = `{ "sentAt" : 1 , "events" :\n[ ${events.join(' , ')} ] }`;
      const parsed = JSON.parse(text) as { events: unknown[] };
      const found = elements(text);
      expect(found?.map((e) => JSON.parse(e))).toEqual(parsed.events);
    }
  });
});
