/**
 * Where each element of the top-level `events` array sits in the request body, in bytes,
 * so a dead letter carries the event exactly as the player sent it: re-serialising the
 * parsed value would turn `1e400` into `null` and lose duplicate keys and spacing.
 *
 * Only called for bodies JSON.parse has accepted and only when some event was rejected, so
 * the scanner may assume well-formed JSON. It works on bytes: every structural character of
 * JSON is ASCII, and no byte of a multi-byte UTF-8 sequence is ASCII (RFC 3629 §3), so byte
 * offsets never split a character. Nesting is tracked with a counter, not recursion, so a
 * deeply nested body cannot overflow the stack.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export type Span = readonly [start: number, end: number];

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

function skipSpace(body: Uint8Array, pos: number): number {
  let p = pos;
  // A UTF-8 byte-order mark is tolerated at the start, as the decoder does.
  if (p === 0 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) p = 3;
  while (isSpace(body[p])) p++;
  return p;
}

/** `pos` at the opening quote; returns the index just past the closing quote. */
function skipString(body: Uint8Array, pos: number): number {
  let p = pos + 1;
  while (p < body.length) {
    const b = body[p];
    if (b === BACKSLASH) p += 2;
    else if (b === QUOTE) return p + 1;
    else p++;
  }
  return p;
}

/** Returns the index just past the value starting at `pos`. */
function skipValue(body: Uint8Array, pos: number): number {
  const first = body[pos];
  if (first === QUOTE) return skipString(body, pos);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let p = pos;
    while (p < body.length) {
      const b = body[p];
      if (b === QUOTE) {
        p = skipString(body, p);
        continue;
      }
      if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return p + 1;
      }
      p++;
    }
    return p;
  }
  let p = pos;
  while (p < body.length) {
    const b = body[p];
    if (b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET || isSpace(b)) break;
    p++;
  }
  return p;
}

function keyIsEvents(body: Uint8Array, start: number, end: number): boolean {
  // start/end include the quotes. A key may spell "events" with escapes (\u0065vents).
  const raw = Buffer.from(body.buffer, body.byteOffset + start, end - start);
  if (raw.includes(BACKSLASH)) return JSON.parse(raw.toString('utf8')) === 'events';
  return end - start === 8 && raw.toString('latin1') === '"events"';
}

/**
 * Byte spans of the elements of `body.events`, or undefined if the body is not an object
 * holding an `events` array. With duplicate `events` keys the last wins, as in JSON.parse.
 */
export function eventSpans(body: Uint8Array): Span[] | undefined {
  let p = skipSpace(body, 0);
  if (body[p] !== OPEN_BRACE) return undefined;
  p = skipSpace(body, p + 1);
  let found: Span[] | undefined;
  while (p < body.length && body[p] !== CLOSE_BRACE) {
    if (body[p] !== QUOTE) return undefined;
    const keyEnd = skipString(body, p);
    const isEvents = keyIsEvents(body, p, keyEnd);
    p = skipSpace(body, keyEnd);
    if (body[p] !== COLON) return undefined;
    p = skipSpace(body, p + 1);
    if (isEvents && body[p] === OPEN_BRACKET) {
      const spans: Span[] = [];
      p = skipSpace(body, p + 1);
      while (p < body.length && body[p] !== CLOSE_BRACKET) {
        const end = skipValue(body, p);
        spans.push([p, end]);
        p = skipSpace(body, end);
        if (body[p] === COMMA) p = skipSpace(body, p + 1);
      }
      p++;
      found = spans;
    } else {
      p = skipValue(body, p);
    }
    p = skipSpace(body, p);
    if (body[p] === COMMA) p = skipSpace(body, p + 1);
  }
  return found;
}
