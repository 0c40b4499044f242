import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createKafka } from './kafka.ts';
import {
  type GroupingArgs,
  groupMessagesPerPartition,
  installLinearSendGrouping,
} from './kafkajs-send-grouping.ts';

const require = createRequire(import.meta.url);
const MODULE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');

/**
 * kafkajs' own grouping, the reference, evaluated from its file rather than required: the
 * module cache may already hold the replacement.
 */
function kafkajsGrouping(): <M>(args: GroupingArgs<M>) => Record<number, M[]> {
  const module = { exports: {} as unknown };
  const wrapped = runInThisContext(
    `(function (module, exports, require) {${readFileSync(MODULE, 'utf8')}\n})`,
    {
      filename: MODULE,
    },
  ) as (m: typeof module, e: unknown, r: NodeRequire) => void;
  wrapped(module, module.exports, createRequire(MODULE));
  return module.exports as <M>(args: GroupingArgs<M>) => Record<number, M[]>;
}

interface Msg {
  readonly key: string;
  readonly partition?: number;
}

const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }, { partitionId: 3 }];

/** A deterministic partitioner that records every call, to compare call order too. */
function recording(calls: string[]): GroupingArgs<Msg>['partitioner'] {
  return ({ message }) => {
    calls.push(message.key);
    if (message.partition !== undefined) return message.partition;
    let h = 0;
    for (let i = 0; i < message.key.length; i++) h = (h * 31 + message.key.charCodeAt(i)) | 0;
    return (h & 0x7fffffff) % partitionMetadata.length;
  };
}

describe('linear send grouping', () => {
  const theirs = kafkajsGrouping();

  const cases: Array<[string, Msg[]]> = [
    ['no messages', []],
    ['one message', [{ key: 'a' }]],
    ['1,000 keyed messages', Array.from({ length: 1_000 }, (_, i) => ({ key: `session-${i}` }))],
    [
      'explicit partitions, first chosen late',
      [
        { key: 'x', partition: 3 },
        { key: 'y', partition: 1 },
        { key: 'z', partition: 3 },
        { key: 'w', partition: 0 },
      ],
    ],
  ];
  for (const [name, messages] of cases) {
    it(`builds what kafkajs builds: ${name}`, () => {
      const ourCalls: string[] = [];
      const theirCalls: string[] = [];
      const ours = groupMessagesPerPartition({
        topic: 't',
        partitionMetadata,
        messages,
        partitioner: recording(ourCalls),
      });
      const want = theirs({ topic: 't', partitionMetadata, messages, partitioner: recording(theirCalls) });
      expect(ours).toEqual(want);
      // Same keys in the same order (kafkajs iterates them with Object.keys to build requests).
      expect(Object.keys(ours)).toEqual(Object.keys(want));
      expect(ourCalls).toEqual(theirCalls);
      // Same message objects, not copies.
      for (const p of Object.keys(want)) {
        const partition = Number(p);
        const got = ours[partition]!;
        for (let i = 0; i < got.length; i++) expect(got[i]).toBe(want[partition]![i]);
      }
    });
  }

  it('places nothing when the topic has no partition metadata, as kafkajs does', () => {
    const args = { topic: 't', partitionMetadata: [], messages: [{ key: 'a' }], partitioner: () => 0 };
    expect(groupMessagesPerPartition(args)).toEqual(theirs(args));
    expect(groupMessagesPerPartition(args)).toEqual({});
  });

  it('is the grouping kafkajs producers use once createKafka has run', () => {
    createKafka({ brokers: ['127.0.0.1:1'], clientId: 'grouping-test' });
    expect(installLinearSendGrouping()).toBe(true);
    const installed = require(MODULE) as typeof groupMessagesPerPartition & Record<symbol, unknown>;
    expect(installed[Symbol.for('playloop.kafkajs.linear-send-grouping')]).toBe(true);
    const args = {
      topic: 't',
      partitionMetadata,
      messages: [{ key: 'a' }, { key: 'b' }],
      partitioner: recording([]),
    };
    expect(installed(args)).toEqual(groupMessagesPerPartition(args));
  });
});
