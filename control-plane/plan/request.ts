/**
 * The body of `POST /v1/playback/:titleId`: what the device can play and what it knows about
 * its network. Unknown fields are refused by name (a misspelt `maxResolutoin` would
 * otherwise silently get the default), and every problem is reported with its path.
 *
 *   {
 *     "device":  { "class": "tv", "codecs": ["avc1", "mp4a.40.2"],
 *                  "maxResolution": { "width": 1920, "height": 1080 } },
 *     "network": { "isp": "AS3320", "region": "eu-central", "country": "DE",
 *                  "throughputKbps": 12000 }
 *   }
 *
 * Network hints are optional: whatever the device does not say, the control plane takes
 * from the client address (ISP and region databases), or leaves unknown.
 */
import { z } from 'zod';
import { PlayloopError } from '../../core/errors.ts';
import { COUNTRY_PATTERN, ISP_PATTERN } from '../../experiments/definitions/schema.ts';
import { DEVICE_CLASSES } from '../../experiments/definitions/vocabulary.ts';

/** RFC 6381: a four-character sample entry, then dot-separated parameters. */
const CODEC = /^[A-Za-z0-9]{4}(?:\.[A-Za-z0-9]+)*$/;
/** Title ids are path segments (control-plane/media/catalog.ts). */
export const TITLE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** Regions as the OCA fleet names them (control-plane/oca/spec.ts). */
const REGION = /^[a-z0-9-]{1,32}$/;

export const playbackRequestSchema = z.strictObject({
  device: z.strictObject({
    class: z.enum(DEVICE_CLASSES),
    codecs: z
      .array(z.string().regex(CODEC, 'must be an RFC 6381 codec such as avc1, avc1.64001f or mp4a.40.2'))
      .min(1, 'must name at least one codec')
      .max(32),
    maxResolution: z.strictObject({
      width: z.number().int().min(16).max(7_680),
      height: z.number().int().min(16).max(4_320),
    }),
  }),
  network: z
    .strictObject({
      isp: z.string().regex(ISP_PATTERN, 'must be an autonomous system number such as AS3320').optional(),
      region: z.string().regex(REGION, 'must be a region such as eu-central').optional(),
      country: z
        .string()
        .regex(COUNTRY_PATTERN, 'must be an ISO 3166-1 alpha-2 code in upper case')
        .optional(),
      /** The device's own throughput estimate, kbit/s. */
      throughputKbps: z.number().positive().max(100_000_000).optional(),
    })
    .prefault({}),
});

export type PlaybackRequest = z.output<typeof playbackRequestSchema>;

const DEVICE_CLASS_SET: ReadonlySet<string> = new Set(DEVICE_CLASSES);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every own key of `value` is one of `allowed` (the strictness of z.strictObject). */
function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in value) if (!allowed.includes(key)) return false;
  return true;
}

function intIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * The schema above, checked by hand for the bodies it accepts: a playback request is parsed on
 * every plan, and zod's generic walk costs several times this. Anything it is not sure of
 * (a bad field, an absent optional spelled `undefined`, an inherited key) returns undefined and
 * goes to zod, which then decides and names the problems; so the two accept exactly the same
 * bodies and produce the same value (request.test.ts compares them).
 */
export function parseAcceptedRequest(body: unknown): PlaybackRequest | undefined {
  if (!isRecord(body) || !onlyKeys(body, ['device', 'network'])) return undefined;
  const device = body['device'];
  if (!isRecord(device) || !onlyKeys(device, ['class', 'codecs', 'maxResolution'])) return undefined;
  const deviceClass = device['class'];
  if (typeof deviceClass !== 'string' || !DEVICE_CLASS_SET.has(deviceClass)) return undefined;
  const codecs = device['codecs'];
  if (!Array.isArray(codecs) || codecs.length < 1 || codecs.length > 32) return undefined;
  const codecsOut: string[] = [];
  for (const codec of codecs as unknown[]) {
    if (typeof codec !== 'string' || !CODEC.test(codec)) return undefined;
    codecsOut.push(codec);
  }
  const resolution = device['maxResolution'];
  if (!isRecord(resolution) || !onlyKeys(resolution, ['width', 'height'])) return undefined;
  const width = resolution['width'];
  const height = resolution['height'];
  if (!intIn(width, 16, 7_680) || !intIn(height, 16, 4_320)) return undefined;
  const network: PlaybackRequest['network'] = {};
  if ('network' in body) {
    const hints = body['network'];
    if (!isRecord(hints) || !onlyKeys(hints, ['isp', 'region', 'country', 'throughputKbps']))
      return undefined;
    const { isp, region, country, throughputKbps } = hints;
    if ('isp' in hints) {
      if (typeof isp !== 'string' || !ISP_PATTERN.test(isp)) return undefined;
      network.isp = isp;
    }
    if ('region' in hints) {
      if (typeof region !== 'string' || !REGION.test(region)) return undefined;
      network.region = region;
    }
    if ('country' in hints) {
      if (typeof country !== 'string' || !COUNTRY_PATTERN.test(country)) return undefined;
      network.country = country;
    }
    if ('throughputKbps' in hints) {
      if (
        typeof throughputKbps !== 'number' ||
        !Number.isFinite(throughputKbps) ||
        throughputKbps <= 0 ||
        throughputKbps > 100_000_000
      ) {
        return undefined;
      }
      network.throughputKbps = throughputKbps;
    }
  }
  return {
    device: {
      class: deviceClass as PlaybackRequest['device']['class'],
      codecs: codecsOut,
      maxResolution: { width, height },
    },
    network,
  };
}

/** Parses a body or throws BAD_REQUEST naming every bad field. */
export function parsePlaybackRequest(body: unknown): PlaybackRequest {
  if (body === undefined || body === null) {
    throw new PlayloopError('BAD_REQUEST', 'a JSON body with device capabilities is required', {
      details: { issues: ['(body): required'] },
    });
  }
  const accepted = parseAcceptedRequest(body);
  if (accepted !== undefined) return accepted;
  const result = playbackRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(body)';
    return `${path}: ${issue.message}`;
  });
  throw new PlayloopError('BAD_REQUEST', `bad playback request: ${issues.join('; ')}`, {
    details: { issues },
  });
}
