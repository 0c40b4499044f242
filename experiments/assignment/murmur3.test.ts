import { describe, expect, it } from 'vitest';
import { murmur3x86_32 } from './murmur3.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('murmur3x86_32', () => {
  // Reference values from an independent implementation, the C extension in PyPI mmh3 5.3.1:
  //   python3 -c "import mmh3; print(mmh3.hash(b'hello', 0, signed=False))"
  it.each([
    ['', 0, 0],
    ['hello', 0, 613153351],
    ['hello', 42, 3806057185],
    ['The quick brown fox jumps over the lazy dog', 0, 776992547],
    ['a', 0, 1009084850], // tail of 1 byte
    ['ab', 0, 2613040991], // tail of 2 bytes
    ['abc', 0, 3017643002], // tail of 3 bytes
    ['abcd', 0, 1139631978], // one block, no tail
    ['zoë', 0, 3500877143], // 2-byte UTF-8 sequence
    ['😀x', 0, 1914495294], // 4-byte UTF-8 sequence
  ])('hashes %j with seed %d like mmh3', (text, seed, expected) => {
    expect(murmur3x86_32(utf8(text), seed)).toBe(expected);
  });
});
