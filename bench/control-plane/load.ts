/**
 * The control-plane benchmark's HTTP/1.1 load generator: keep-alive connections, request
 * bytes built once, responses framed by Content-Length. Two modes:
 *
 * - closed loop (no `rate`): every connection sends its next request as soon as the previous
 *   answer is in. Throughput at saturation; latency from the actual send, which is all a
 *   closed loop can say (it waits for the server, so it never offers more than it is served).
 * - open loop (`rate`): request k is *due* at t0 + k / rate whatever the server does, and
 *   its latency is counted from that due time, not from when a connection was free to send
 *   it. A server that stalls for 50 ms at 5,000 req/s has 250 requests that each waited for
 *   part of those 50 ms; a closed-loop generator sends none of them during the stall and so
 *   never records their wait ("coordinated omission", Gil Tene, "How NOT to Measure
 *   Latency", 2013; wrk2 and HdrHistogram measure from the intended start the same way).
 *   Requests due while every connection is busy wait in a queue here, and that wait counts.
 *
 * Why not autocannon: its `overallRate` is a per-connection budget of `rate / connections`
 * requests per *second*, sent back to back as fast as the server answers and then paused
 * until the next second: bursts at saturation, not a steady 5,000/s. Its "correction" then
 * calls HdrHistogram's recordValueWithExpectedInterval with `Math.ceil(1 / rate)`, which is
 * 1 ms whatever the rate (the per-connection interval at 5,000/s over 32 connections is
 * 6.4 ms), so it adds made-up samples rather than the ones it omitted.
 *
 * The generator's own delay is measured too (`sendLagP99Ms`: how late a due request left
 * this process, queueing for a busy connection included): it counts against the server in
 * the open-loop latency, as it must, and says how much of it was the generator's.
 */
import { connect, type Socket } from 'node:net';

export interface LoadTarget {
  readonly host: string;
  readonly port: number;
  /** Request bytes, used in turn (request k is `requests[k % requests.length]`). */
  readonly requests: readonly Buffer[];
  readonly connections: number;
  readonly durationSec: number;
  /** Requests per second, open loop; closed loop when absent. */
  readonly rate?: number | undefined;
  /** After the schedule ends, how long answers are waited for before counting as timed out. */
  readonly drainTimeoutMs?: number;
}

export interface LoadResult {
  readonly mode: 'open' | 'closed';
  /** 2xx answers per second over the measured duration. */
  readonly rps: number;
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors, malformed answers, and requests still unanswered at the deadline. */
  readonly errors: number;
  /** Latency percentiles, ms: from the due time (open loop) or the send (closed loop). */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** From the actual send to the answer (what a closed loop records), p99, ms. */
  readonly serviceP99Ms: number;
  /** Due time to actual send, p99, ms: the generator's own lateness (0 in closed loop). */
  readonly sendLagP99Ms: number;
  /** CPU of the generator process per answered request, µs. */
  readonly generatorCpuUs: number;
  /**
   * p99 latency of the requests due in each second of the run, ms: a tail made of one long
   * stall (a backlog that then drains) reads differently from a tail spread over the run.
   */
  readonly p99BySecondMs: readonly number[];
}

/** The bytes of one HTTP/1.1 POST with a JSON body. */
export function postRequest(
  host: string,
  port: number,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string,
): Buffer {
  const bodyBytes = Buffer.from(body, 'utf8');
  let head = `POST ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\ncontent-type: application/json\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${bodyBytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]);
}

/** The q-quantile (0..1) of sorted values, nearest rank; 0 when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

/** Growable samples, sorted once at the end. */
class Samples {
  private values = new Float64Array(1_024);
  private n = 0;
  add(value: number): void {
    if (this.n === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.n++] = value;
  }
  sorted(): Float64Array {
    return this.values.slice(0, this.n).sort();
  }
}

/** One keep-alive connection carrying one request at a time (no pipelining). */
class Connection {
  private socket: Socket | undefined;
  private buffered: Buffer | undefined;
  private dueMs = 0;
  private sentMs = 0;
  busy = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onAnswer: (
      conn: Connection,
      status: number | undefined,
      dueMs: number,
      sentMs: number,
    ) => void,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      this.socket = socket;
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve();
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.once('close', () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        // An answer cut off by the server is an error, not a silent loss.
        if (this.busy) this.finish(undefined);
      });
    });
  }

  async send(request: Buffer, dueMs: number): Promise<void> {
    this.busy = true;
    this.dueMs = dueMs;
    this.buffered = undefined;
    if (this.socket === undefined || this.socket.destroyed) {
      try {
        await this.open();
      } catch {
        this.finish(undefined);
        return;
      }
    }
    this.sentMs = performance.now();
    (this.socket as Socket).write(request);
  }

  close(): void {
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    if (!this.busy) return;
    const data = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = data.indexOf(HEADER_END);
    if (headerEnd === -1) {
      this.buffered = data;
      return;
    }
    const head = data.toString('latin1', 0, headerEnd);
    const length = CONTENT_LENGTH.exec(head);
    // The servers measured here frame every answer with Content-Length; anything else is an error.
    if (length === null) {
      this.finish(undefined);
      this.socket?.destroy();
      return;
    }
    const total = headerEnd + HEADER_END.length + Number(length[1]);
    if (data.length < total) {
      this.buffered = data;
      return;
    }
    const status = Number(head.slice(9, 12));
    if (data.length > total) {
      // Bytes nobody asked for: the connection's framing is lost.
      this.finish(undefined);
      this.socket?.destroy();
      return;
    }
    this.finish(Number.isInteger(status) ? status : undefined);
  }

  private finish(status: number | undefined): void {
    this.busy = false;
    this.buffered = undefined;
    this.onAnswer(this, status, this.dueMs, this.sentMs);
  }
}

export async function runLoad(target: LoadTarget): Promise<LoadResult> {
  const { requests, rate } = target;
  if (requests.length === 0) throw new RangeError('no requests to send');
  if (rate !== undefined && !(rate > 0)) throw new RangeError('rate must be positive');
  const open = rate !== undefined;
  const latency = new Samples();
  const service = new Samples();
  const lag = new Samples();
  const bySecond: Samples[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let next = 0;
  let inFlight = 0;
  const idle: Connection[] = [];
  /** Due times of open-loop requests waiting for a connection, oldest first. */
  const due: number[] = [];
  let dueHead = 0;
  const totalDue = open ? Math.floor(rate * target.durationSec) : 0;
  const intervalMs = open ? 1_000 / rate : 0;
  let scheduled = 0;
  let t0 = 0;
  let endMs = 0;
  let finished = false;
  let done: () => void = () => undefined;

  const dispatch = (): void => {
    while (idle.length > 0) {
      let dueMs: number;
      if (open) {
        if (dueHead === due.length) break;
        dueMs = due[dueHead++] as number;
      } else {
        dueMs = performance.now();
        if (dueMs >= endMs) break;
      }
      const conn = idle.pop() as Connection;
      inFlight++;
      void conn.send(requests[next++ % requests.length] as Buffer, dueMs);
    }
    if (dueHead > 4_096 && dueHead * 2 > due.length) {
      due.splice(0, dueHead);
      dueHead = 0;
    }
    checkDone();
  };

  const checkDone = (): void => {
    if (finished || inFlight > 0) return;
    const scheduleOver = open ? scheduled >= totalDue && dueHead === due.length : performance.now() >= endMs;
    if (scheduleOver) done();
  };

  const onAnswer = (conn: Connection, status: number | undefined, dueMs: number, sentMs: number): void => {
    inFlight--;
    if (finished) return;
    const now = performance.now();
    if (status === undefined) errors++;
    else if (status >= 200 && status < 300) {
      ok++;
      latency.add(now - dueMs);
      const second = Math.max(0, Math.floor((dueMs - t0) / 1_000));
      let inSecond = bySecond[second];
      if (inSecond === undefined) {
        inSecond = new Samples();
        bySecond[second] = inSecond;
      }
      inSecond.add(now - dueMs);
      service.add(now - sentMs);
      if (open) lag.add(sentMs - dueMs);
    } else non2xx++;
    idle.push(conn);
    dispatch();
  };

  const connections = Array.from(
    { length: Math.max(1, Math.floor(target.connections)) },
    () => new Connection(target.host, target.port, onAnswer),
  );
  await Promise.all(connections.map((c) => c.open()));
  idle.push(...connections);

  const cpuBefore = process.cpuUsage();
  t0 = performance.now();
  endMs = t0 + target.durationSec * 1_000;
  const drained = new Promise<void>((resolve) => {
    done = resolve;
  });
  let timer: NodeJS.Timeout | undefined;
  // Every request due by now joins the queue, then the timer sleeps until the next one is
  // due (node's timers fire at >= 1 ms, so a few requests leave together; each keeps its own
  // due time, so the grouping costs the measure nothing).
  const tick = (): void => {
    const now = performance.now();
    while (scheduled < totalDue && t0 + scheduled * intervalMs <= now) {
      due.push(t0 + scheduled * intervalMs);
      scheduled++;
    }
    dispatch();
    if (scheduled < totalDue) {
      timer = setTimeout(tick, Math.max(0, t0 + scheduled * intervalMs - performance.now()));
    }
  };
  if (open) tick();
  else {
    dispatch();
    // A closed loop ends when its duration does, even if no answer comes to notice it.
    timer = setTimeout(checkDone, target.durationSec * 1_000 + 1);
  }
  const drainTimeoutMs = target.drainTimeoutMs ?? 10_000;
  let deadline: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    deadline = setTimeout(resolve, target.durationSec * 1_000 + drainTimeoutMs);
  });
  await Promise.race([drained, timedOut]);
  finished = true;
  const elapsedMs = Math.max(performance.now(), endMs) - t0;
  clearTimeout(timer);
  clearTimeout(deadline);
  // Unanswered or never sent by the deadline: each one is a failure of the run, counted.
  errors += inFlight + (due.length - dueHead) + (totalDue - scheduled);
  const cpu = process.cpuUsage(cpuBefore);
  for (const c of connections) c.close();

  const sortedLatency = latency.sorted();
  const sortedService = service.sorted();
  const sortedLag = lag.sorted();
  const measuredSec = open ? target.durationSec : elapsedMs / 1_000;
  return {
    mode: open ? 'open' : 'closed',
    rps: ok / measuredSec,
    ok,
    non2xx,
    errors,
    p50Ms: quantile(sortedLatency, 0.5),
    p90Ms: quantile(sortedLatency, 0.9),
    p99Ms: quantile(sortedLatency, 0.99),
    p999Ms: quantile(sortedLatency, 0.999),
    maxMs: sortedLatency.length === 0 ? 0 : (sortedLatency[sortedLatency.length - 1] as number),
    serviceP99Ms: quantile(sortedService, 0.99),
    sendLagP99Ms: quantile(sortedLag, 0.99),
    generatorCpuUs: (cpu.user + cpu.system) / Math.max(1, ok + non2xx),
    p99BySecondMs: Array.from(bySecond, (samples) =>
      samples === undefined ? 0 : Math.round(quantile(samples.sorted(), 0.99) * 10) / 10,
    ),
  };
}
