/**
 * Inside the allocation thread (see allocation-thread.ts): the in-thread Kafka producer,
 * serving the main thread's batches one message at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../core/errors.ts';
import { createKafka } from '../../infra/kafka.ts';
import { kafkaAllocationProducer } from './allocation-producer.ts';
import type { AllocationThreadData, FromThread, ToThread } from './allocation-thread.ts';
import { unpack } from './allocation-thread.ts';

const port = parentPort;
if (port === null) throw new TypeError('allocation-thread-main runs in a worker thread');
const data = workerData as AllocationThreadData;
const producer = kafkaAllocationProducer(createKafka(data.kafka), data.topic, data.ackTimeoutMs);

// One batch at a time, as the emitter sends them (its breaker and order rely on it).
let chain = Promise.resolve();
port.on('message', (message: ToThread) => {
  chain = chain.then(async () => {
    let answer: FromThread;
    try {
      if (message.kind === 'send') await producer.send(unpack(message.packed));
      else await producer.close();
      answer = { id: message.id, ok: true };
    } catch (err) {
      answer = { id: message.id, ok: false, message: errorMessage(err) };
    }
    port.postMessage(answer);
  });
});
