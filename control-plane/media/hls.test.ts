import { describe, expect, it } from 'vitest';
import { parseAttributeList, parseMediaPlaylist, parseVariantStreams, variantBitrates } from './hls.ts';

// As Debian's ffmpeg 5.1 writes it for `-hls_segment_type fmp4 -hls_playlist_type vod`.
const FFMPEG_MEDIA_PLAYLIST = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:2.000000,
seg_00000.m4s
#EXTINF:2.000000,
seg_00001.m4s
#EXTINF:1.500000,
seg_00002.m4s
#EXT-X-ENDLIST
`;

describe('parseAttributeList (RFC 8216bis §4.2)', () => {
  it('keeps commas inside quoted strings and strips the quotes', () => {
    const attrs = parseAttributeList('BANDWIDTH=510400,RESOLUTION=426x240,CODECS="avc1.42c015,mp4a.40.2"');
    expect(Object.fromEntries(attrs)).toEqual({
      BANDWIDTH: '510400',
      RESOLUTION: '426x240',
      CODECS: 'avc1.42c015,mp4a.40.2',
    });
  });

  it('refuses lower-case attribute names', () => {
    expect(() => parseAttributeList('bandwidth=1')).toThrow(SyntaxError);
  });
});

describe('parseMediaPlaylist', () => {
  it('reads what ffmpeg writes', () => {
    const p = parseMediaPlaylist(FFMPEG_MEDIA_PLAYLIST);
    expect(p).toMatchObject({
      version: 7,
      targetDurationSec: 2,
      playlistType: 'VOD',
      independentSegments: true,
      mapUri: 'init_0.mp4',
      endList: true,
    });
    expect(p.segments).toEqual([
      { uri: 'seg_00000.m4s', durationSec: 2 },
      { uri: 'seg_00001.m4s', durationSec: 2 },
      { uri: 'seg_00002.m4s', durationSec: 1.5 },
    ]);
  });

  it('refuses a file that is not a playlist, or a multivariant one', () => {
    expect(() => parseMediaPlaylist('seg.m4s\n')).toThrow(/EXTM3U/);
    expect(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n')).toThrow(
      /Multivariant/,
    );
  });
});

describe('parseVariantStreams', () => {
  it('pairs each EXT-X-STREAM-INF with its URI line', () => {
    const v = parseVariantStreams(
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="a,b"\n\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhi/index.m3u8\n',
    );
    expect(v.map((s) => [s.uri, s.attributes.get('BANDWIDTH')])).toEqual([
      ['low/index.m3u8', '1'],
      ['hi/index.m3u8', '2'],
    ]);
  });
});

describe('variantBitrates (RFC 8216bis §4.4.6.2)', () => {
  it('takes the peak over runs of 0.5-1.5 target durations and the mean over all', () => {
    // Hand computation, target 2 s so runs of 1..3 s count:
    //   single segments: 250000*8/2 = 1.0 Mb/s, 300000*8/2 = 1.2 Mb/s, 200000*8/2 = 0.8 Mb/s,
    //   50000*8/1 = 0.4 Mb/s; the only multi-segment run within 3 s is the last two
    //   (3 s): 250000*8/3 = 0.667 Mb/s. Peak 1 200 000.
    //   Mean: 800000 bytes * 8 / 7 s = 914285.71 -> 914286 (rounded up).
    const rates = variantBitrates(
      [
        { durationSec: 2, bytes: 250_000 },
        { durationSec: 2, bytes: 300_000 },
        { durationSec: 2, bytes: 200_000 },
        { durationSec: 1, bytes: 50_000 },
      ],
      2,
    );
    expect(rates).toEqual({ bandwidth: 1_200_000, averageBandwidth: 914_286 });
  });

  it('counts a short burst spread over a 1.5x window', () => {
    // Target 4 s: windows of 2..6 s. Two 1 s segments of 100000 bytes make a 2 s run at
    // 800 kb/s; a lone 1 s segment (below 0.5x target) is not a run on its own.
    const rates = variantBitrates(
      [
        { durationSec: 1, bytes: 100_000 },
        { durationSec: 1, bytes: 100_000 },
        { durationSec: 4, bytes: 100_000 },
      ],
      4,
    );
    expect(rates.bandwidth).toBe(800_000);
  });
});
