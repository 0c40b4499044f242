import { describe, expect, it } from 'vitest';
import { pack, unpack } from './allocation-thread.ts';
import type { EncodedRecord } from './allocations.ts';

describe('pack / unpack', () => {
  it('round-trips keys (any UTF-8) and values (any bytes, empty included), in order', () => {
    const records: EncodedRecord[] = [
      { key: 'viewer-1', value: Buffer.from([0, 1, 2, 255]) },
      { key: 'zuschauer-ä-😀', value: Buffer.alloc(0) },
      { key: '', value: Buffer.from('x'.repeat(70_000)) },
    ];
    const packed = pack(records);
    // 8 bytes of lengths per record, then the bytes themselves.
    expect(packed.byteLength).toBe(
      records.reduce((n, r) => n + 8 + Buffer.byteLength(r.key) + r.value.length, 0),
    );
    const back = unpack(packed);
    expect(back.map((r) => r.key)).toEqual(records.map((r) => r.key));
    expect(back.map((r) => Buffer.from(r.value).toString('hex'))).toEqual(
      records.map((r) => r.value.toString('hex')),
    );
  });

  it('packs into a buffer of its own, so it can be transferred', () => {
    const packed = pack([{ key: 'k', value: Buffer.from('v') }]);
    expect(packed.byteLength).toBe(10);
    const { port1 } = new MessageChannel();
    port1.postMessage(packed, [packed]);
    // Transferred: the sender's view is detached.
    expect(packed.byteLength).toBe(0);
    port1.close();
  });

  it('refuses a truncated buffer instead of inventing records', () => {
    const packed = Buffer.from(pack([{ key: 'key', value: Buffer.from('value') }]));
    for (const cut of [2, 6, 12]) {
      const truncated = packed.subarray(0, cut);
      expect(() => unpack(truncated.buffer.slice(truncated.byteOffset, truncated.byteOffset + cut))).toThrow(
        /truncated/,
      );
    }
    expect(unpack(new ArrayBuffer(0))).toEqual([]);
  });
});
