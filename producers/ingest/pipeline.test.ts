import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import { chain, deadLetter, drop, ok, retry, type Step } from './pipeline.ts';

describe('pipeline steps', () => {
  const double: Step<number, number> = (n) => ok(n * 2);
  const refuseOdd: Step<number, string> = (n) =>
    n % 2 === 0 ? ok(`even ${n}`) : deadLetter({ code: 'out_of_range', path: '$.n', reason: 'odd' });

  it('chains steps, passing each ok value on', () => {
    expect(chain(double, refuseOdd)(3)).toEqual({ type: 'ok', value: 'even 6' });
  });

  it('stops at the first result that is not ok', () => {
    let called = false;
    const spy: Step<number, number> = (n) => {
      called = true;
      return ok(n);
    };
    expect(chain(refuseOdd, (s: string) => spy(s.length))(3)).toEqual({
      type: 'dlq',
      rejection: { code: 'out_of_range', path: '$.n', reason: 'odd' },
    });
    expect(called).toBe(false);
    const err = new PlayloopError('KAFKA_UNAVAILABLE', 'down');
    expect(chain((_: number) => retry<number>(err), double)(1)).toEqual({ type: 'retry', error: err });
    expect(chain((_: number) => drop<number>(err), double)(1)).toEqual({ type: 'drop', error: err });
  });

  it('is importable with await import(), i.e. exports no `then`', async () => {
    const mod = await import('./pipeline.ts');
    expect('then' in mod).toBe(false);
  });
});
