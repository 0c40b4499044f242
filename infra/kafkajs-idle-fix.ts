/**
 * A workaround for a kafkajs 2.2.4 bug: every broker connection re-arms a 1 ms timer forever
 * once it is connected, even with nothing to send. RequestQueue.scheduleCheckPendingRequests
 * computes `throttledUntil - Date.now()` (negative when not throttled, since throttledUntil
 * starts at -1) and, when no request is pending, schedules checkPendingRequests with that
 * negative delay, which schedules itself again: about a thousand timer callbacks a second per
 * connection. Measured here: an idle connected producer costs ~40 ms of CPU a second, and a
 * busy server pays it between requests (kafkajs issues #1556 and #1704; the fix below is the
 * one proposed upstream in PR #1667, unmerged as of 2.2.4).
 *
 * The fix: with nothing pending there is nothing to check. Every path that makes a request
 * pending (push() when it cannot send at once) calls scheduleCheckPendingRequests itself, and
 * every completion or timeout calls checkPendingRequests, so no request waits on the loop.
 *
 * Applied by patching the prototype, once per process, so it holds for every kafkajs client
 * in the process. Remove it when kafkajs ships the fix.
 */
import { createRequire } from 'node:module';

interface RequestQueueLike {
  readonly pending: readonly unknown[];
  scheduleCheckPendingRequests(this: RequestQueueLike): void;
}

const PATCHED = Symbol.for('playloop.kafkajs.idle-fix');

/** Patches kafkajs' RequestQueue (idempotent); returns whether the patch is in place. */
export function applyKafkajsIdleFix(): boolean {
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
    prototype: RequestQueueLike & { [PATCHED]?: true };
  };
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  const original = proto.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike) {
    if (this.pending.length === 0) return;
    original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}
