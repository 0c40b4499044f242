/**
 * The small part of HLS (RFC 8216bis, "HTTP Live Streaming 2nd Edition") playloop reads:
 * attribute lists, media playlists as ffmpeg writes them, and the bit rates a Multivariant
 * Playlist must declare for a Variant Stream. Pure functions, no I/O.
 */

/** RFC 8216bis §4.2: AttributeName=AttributeValue pairs, comma-separated; quoted strings keep commas. */
export function parseAttributeList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const pattern = /([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)(?:,|$)/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match === null) throw new SyntaxError(`bad attribute list at ${at}: ${text}`);
    const [, name, raw] = match as unknown as [string, string, string];
    out.set(name, raw.startsWith('"') ? raw.slice(1, -1) : raw);
    at = pattern.lastIndex;
  }
  return out;
}

export interface MediaSegment {
  readonly uri: string;
  readonly durationSec: number;
}

export interface MediaPlaylist {
  readonly version: number | undefined;
  readonly targetDurationSec: number;
  readonly playlistType: string | undefined;
  readonly independentSegments: boolean;
  /** EXT-X-MAP URI: the fMP4 initialization section. */
  readonly mapUri: string | undefined;
  readonly segments: readonly MediaSegment[];
  readonly endList: boolean;
}

/** Parses a Media Playlist (VOD or EVENT, no byte ranges, no encryption: what ffmpeg writes here). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines[0] !== '#EXTM3U') throw new SyntaxError('a playlist starts with #EXTM3U (RFC 8216bis §4.4.1.1)');
  let version: number | undefined;
  let targetDurationSec: number | undefined;
  let playlistType: string | undefined;
  let independentSegments = false;
  let mapUri: string | undefined;
  let endList = false;
  let pendingDuration: number | undefined;
  const segments: MediaSegment[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-VERSION:')) version = Number(line.slice(15));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDurationSec = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PLAYLIST-TYPE:')) playlistType = line.slice(21);
    else if (line === '#EXT-X-INDEPENDENT-SEGMENTS') independentSegments = true;
    else if (line.startsWith('#EXT-X-MAP:')) mapUri = parseAttributeList(line.slice(11)).get('URI');
    else if (line === '#EXT-X-ENDLIST') endList = true;
    else if (line.startsWith('#EXTINF:')) {
      const duration = Number(line.slice(8).split(',')[0]);
      if (!Number.isFinite(duration) || duration < 0) throw new SyntaxError(`bad EXTINF: ${line}`);
      pendingDuration = duration;
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      throw new SyntaxError('this is a Multivariant Playlist, not a Media Playlist');
    } else if (!line.startsWith('#')) {
      if (pendingDuration === undefined) throw new SyntaxError(`URI without EXTINF: ${line}`);
      segments.push({ uri: line, durationSec: pendingDuration });
      pendingDuration = undefined;
    }
  }
  if (targetDurationSec === undefined || !Number.isInteger(targetDurationSec)) {
    throw new SyntaxError('EXT-X-TARGETDURATION is required and is a decimal-integer (§4.4.3.1)');
  }
  return { version, targetDurationSec, playlistType, independentSegments, mapUri, segments, endList };
}

export interface VariantStreamInf {
  readonly attributes: ReadonlyMap<string, string>;
  readonly uri: string;
}

/** The EXT-X-STREAM-INF entries of a Multivariant Playlist, each with the URI line that follows it. */
export function parseVariantStreams(text: string): VariantStreamInf[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const out: VariantStreamInf[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const uri = lines[i + 1];
    if (uri === undefined || uri.startsWith('#'))
      throw new SyntaxError('EXT-X-STREAM-INF must be followed by a URI');
    out.push({ attributes: parseAttributeList(line.slice(18)), uri });
  }
  return out;
}

export interface SizedSegment {
  readonly durationSec: number;
  readonly bytes: number;
}

/**
 * BANDWIDTH and AVERAGE-BANDWIDTH of a Variant Stream (RFC 8216bis §4.4.6.2): the peak
 * segment bit rate is the largest bit rate of any contiguous run of segments whose total
 * duration is between 0.5 and 1.5 times the target duration; the average is total bits over
 * total duration. Both in bits per second, rounded up so a player never under-estimates.
 */
export function variantBitrates(
  segments: readonly SizedSegment[],
  targetDurationSec: number,
): { bandwidth: number; averageBandwidth: number } {
  let peak = 0;
  let totalBytes = 0;
  let totalSec = 0;
  for (let i = 0; i < segments.length; i++) {
    let bytes = 0;
    let seconds = 0;
    for (let j = i; j < segments.length; j++) {
      const s = segments[j] as SizedSegment;
      bytes += s.bytes;
      seconds += s.durationSec;
      if (seconds > 1.5 * targetDurationSec) break;
      if (seconds >= 0.5 * targetDurationSec && seconds > 0) peak = Math.max(peak, (bytes * 8) / seconds);
    }
    const s = segments[i] as SizedSegment;
    totalBytes += s.bytes;
    totalSec += s.durationSec;
  }
  if (totalSec === 0) throw new RangeError('no media to measure');
  if (peak === 0) {
    // Only segments longer than 1.5x the target (a malformed playlist): fall back to the
    // largest single-segment rate rather than declaring nothing.
    for (const s of segments) if (s.durationSec > 0) peak = Math.max(peak, (s.bytes * 8) / s.durationSec);
  }
  return { bandwidth: Math.ceil(peak), averageBandwidth: Math.ceil((totalBytes * 8) / totalSec) };
}
