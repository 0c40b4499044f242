/**
 * The bound on request bytes held between parse and Kafka's ack. Over it, the answer is
 * 503 with Retry-After instead of more memory: a slow or absent Kafka makes requests wait,
 * and waiting requests must not pile up without limit.
 */
export class InFlightBytes {
  private held = 0;

  constructor(readonly max: number) {}

  get bytes(): number {
    return this.held;
  }

  /** Whether `n` more bytes would still fit (for an early check from Content-Length). */
  fits(n: number): boolean {
    return this.held + n <= this.max;
  }

  tryReserve(n: number): boolean {
    if (!this.fits(n)) return false;
    this.held += n;
    return true;
  }

  release(n: number): void {
    this.held = Math.max(0, this.held - n);
  }
}
