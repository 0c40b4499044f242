/**
 * A linear replacement for kafkajs 2.2.4's producer/groupMessagesPerPartition.js, which sorts
 * the messages of one send into partitions with `[...current, message]` per message: a copy of
 * the partition's array so far for every message, quadratic in the messages a send puts on one
 * partition. A sessionize send of 1,000 summaries over 4 partitions copies about 125,000 array
 * slots to place them; in the processors benchmark's allocation profile (a sampling heap
 * profile that keeps collected objects) that grouping was 9% of every byte the process
 * allocated, all of it garbage the moment the send was built.
 *
 * This one appends in place. The result is the same object kafkajs builds: one key per
 * partition the partitioner chose, in the order first chosen, each holding its messages in the
 * order given; the partitioner is called once per message, in order, as before.
 *
 * Installed by putting it in place of the module in the CommonJS module cache before kafkajs'
 * producer/sendMessages.js first requires it, i.e. before kafkajs itself is loaded (its index
 * loads the producer): infra/kafka.ts installs it and only then requires kafkajs. If kafkajs
 * was loaded before (a value import of 'kafkajs' elsewhere), nothing is replaced and kafkajs'
 * own grouping stays: slower, not different.
 */
import { swapKafkajsModule } from './kafkajs-module-swap.ts';

/** The argument kafkajs passes (producer/sendMessages.js). */
export interface GroupingArgs<M> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (args: {
    topic: string;
    partitionMetadata: readonly unknown[];
    message: M;
  }) => number;
}

export type MessagesPerPartition<M> = Record<number, M[]>;

const MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
/** The module that captures the grouping function when it loads. */
const SEND_MODULE = 'kafkajs/src/producer/sendMessages.js';
const INSTALLED = Symbol.for('playloop.kafkajs.linear-send-grouping');

export function groupMessagesPerPartition<M>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupingArgs<M>): MessagesPerPartition<M> {
  const grouped: MessagesPerPartition<M> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = grouped[partition];
    if (list === undefined) grouped[partition] = [message];
    else list.push(message);
  }
  return grouped;
}

/**
 * Puts the linear grouping in place of kafkajs' (idempotent). Returns whether it is the one
 * kafkajs' producers will use: false when kafkajs' producer was loaded before this ran.
 */
export function installLinearSendGrouping(): boolean {
  return swapKafkajsModule<typeof groupMessagesPerPartition>({
    module: MODULE,
    capturedBy: SEND_MODULE,
    marker: INSTALLED,
    replacement: () => (args) => groupMessagesPerPartition(args),
  });
}
