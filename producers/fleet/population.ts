/**
 * Who the simulated viewers are and how they behave: the population mix (device class,
 * ISP, region, access technology, ABR algorithm), the titles they pick, and the viewer
 * behaviour model. Every number here is an assumption stated so it can be argued with.
 *
 * Viewer behaviour model
 * ----------------------
 * - Watch time: how much video the viewer means to watch, log-normal per device class
 *   (medians below; VOD engagement is heavy-tailed, Dobrian et al., "Understanding the
 *   Impact of Video Quality on User Engagement", SIGCOMM 2011). A session ends when that
 *   much has played, or the title ends ("completed").
 * - Start: most sessions start at 0; `resumeShare` of them resume somewhere inside the
 *   title (continue watching). The first frame comes a device-dependent start-up overhead
 *   after the first segment arrives (player and decoder initialisation).
 * - Abandonment during startup (EBVS): viewers start leaving after 2 s of startup delay and
 *   each further second loses ~5.8 % of those left (Krishnan & Sitaraman, "Video Stream
 *   Quality Impacts Viewer Behavior", IMC 2012): patience = 2 s + Exp(rate 0.058 / s).
 * - Abandonment during a stall: patience per stall = 3 s + Exp(mean 30 s); a viewer whose
 *   stall outlasts it leaves (an exit during a stall).
 * - Seeks and pauses: Poisson in play time (rates per hour of playing); seek offsets
 *   log-normal (median 30 s), 70 % forward; pause lengths log-normal (median 40 s, capped).
 * - A rare fatal media error (decoder / append failure): Poisson in play time.
 * - Between sessions a player slot rests (think time) before its next session.
 * Titles follow a Zipf popularity (Cha et al., IMC 2007).
 */
import { z } from 'zod';
import { PlayloopError } from '../../core/errors.ts';
import { ABR_KINDS, type AbrKind } from './abr/types.ts';
import { ACCESS_KINDS, type AccessKind } from './network.ts';
import { type Rng, zipfWeights } from './random.ts';

/** Device classes as players report them (schemas/playback-event.avsc, `device.deviceClass`). */
export const DEVICE_CLASSES = ['tv', 'mobile', 'tablet', 'desktop', 'console', 'stb'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

const weight = z.number().min(0);
const positive = z.number().positive();

const ispSchema = z.strictObject({
  isp: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/),
  region: z.string().min(1).max(32),
  country: z.string().regex(/^[A-Z]{2}$/),
  /**
   * The address this ISP's players present to loopback services (X-Forwarded-For), inside a
   * prefix ingest's IP table maps to this ISP (producers/ingest/ip-lookup.ts).
   */
  clientAddress: z.union([z.ipv4(), z.ipv6()]),
  weight,
  access: z.partialRecord(z.enum(ACCESS_KINDS), weight),
});

const deviceSchema = z.strictObject({
  deviceClass: z.enum(DEVICE_CLASSES),
  weight,
  os: z.string().min(1),
  model: z.string().min(1),
  /** Median watch time of a session on this device. */
  watchMedianMs: positive,
  /**
   * Player start-up work between the first segment's arrival and the first frame (player
   * and decoder initialisation, first render). An assumption: TV and set-top-box players
   * start slower than browsers and phones.
   */
  startupOverheadMs: z.number().min(0).default(300),
});

export const viewerModelSchema = z.strictObject({
  watchSigma: z.number().min(0).default(1.0),
  resumeShare: z.number().min(0).max(1).default(0.2),
  startupPatienceFloorMs: z.number().min(0).default(2_000),
  startupAbandonPerSecond: z.number().min(0).default(0.058),
  stallPatienceFloorMs: z.number().min(0).default(3_000),
  stallPatienceMeanMs: z.number().min(0).default(30_000),
  seeksPerHour: z.number().min(0).default(2),
  seekForwardShare: z.number().min(0).max(1).default(0.7),
  seekMedianMs: positive.default(30_000),
  seekSigma: z.number().min(0).default(1.0),
  pausesPerHour: z.number().min(0).default(1.5),
  pauseMedianMs: positive.default(40_000),
  pauseSigma: z.number().min(0).default(1.0),
  pauseMaxMs: positive.default(20 * 60_000),
  fatalMediaErrorsPerHour: z.number().min(0).default(0.02),
  thinkTimeMeanMs: z.number().min(0).default(20_000),
});

export const populationSchema = z
  .strictObject({
    isps: z.array(ispSchema).min(1),
    devices: z.array(deviceSchema).min(1),
    /** Share of players running each ABR algorithm. */
    abr: z.partialRecord(z.enum(ABR_KINDS), weight),
    titles: z.strictObject({
      ids: z.array(z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/)).min(1),
      zipfExponent: z.number().min(0).default(0.9),
    }),
    viewer: viewerModelSchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    const positiveSum = (ws: readonly number[]): boolean => ws.reduce((a, b) => a + b, 0) > 0;
    if (!positiveSum(p.isps.map((i) => i.weight)))
      ctx.addIssue({ code: 'custom', path: ['isps'], message: 'weights sum to 0' });
    if (!positiveSum(p.devices.map((d) => d.weight))) {
      ctx.addIssue({ code: 'custom', path: ['devices'], message: 'weights sum to 0' });
    }
    if (!positiveSum(Object.values(p.abr)))
      ctx.addIssue({ code: 'custom', path: ['abr'], message: 'weights sum to 0' });
    p.isps.forEach((isp, i) => {
      if (!positiveSum(Object.values(isp.access))) {
        ctx.addIssue({ code: 'custom', path: ['isps', i, 'access'], message: 'weights sum to 0' });
      }
    });
  });

export type Population = Readonly<z.output<typeof populationSchema>>;
export type PopulationInput = z.input<typeof populationSchema>;
export type IspProfile = Population['isps'][number];
export type DeviceProfile = Population['devices'][number];
export type ViewerModel = Readonly<z.output<typeof viewerModelSchema>>;

export function validatePopulation(input: unknown): Population {
  const result = populationSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new PlayloopError('CONFIG_INVALID', `invalid fleet population:\n  ${issues.join('\n  ')}`, {
      details: { issues },
    });
  }
  return result.data;
}

const minutes = (m: number): number => m * 60_000;

/**
 * The default mix: two regions where the default OCA fleet has edges (eu-central with
 * AS3320, us-east with AS7922), each with a second, simulated ISP on a documentation ASN.
 * Addresses sit in the prefixes ingest's sample IP table maps to these ISPs.
 */
export const DEFAULT_POPULATION: Population = validatePopulation({
  isps: [
    {
      isp: 'AS3320',
      region: 'eu-central',
      country: 'DE',
      clientAddress: '79.192.0.10',
      weight: 0.35,
      access: { dsl: 0.45, fiber: 0.25, lte: 0.3 },
    },
    {
      isp: 'AS64496',
      region: 'eu-central',
      country: 'DE',
      clientAddress: '192.0.2.10',
      weight: 0.15,
      access: { cable: 0.8, dsl: 0.2 },
    },
    {
      isp: 'AS7922',
      region: 'us-east',
      country: 'US',
      clientAddress: '73.0.0.10',
      weight: 0.35,
      access: { cable: 0.85, fiber: 0.15 },
    },
    {
      isp: 'AS64497',
      region: 'us-east',
      country: 'US',
      clientAddress: '198.51.100.10',
      weight: 0.15,
      access: { lte: 0.7, hspa: 0.3 },
    },
  ],
  devices: [
    {
      deviceClass: 'tv',
      weight: 0.45,
      os: 'Tizen',
      model: 'smart-tv',
      watchMedianMs: minutes(25),
      startupOverheadMs: 700,
    },
    {
      deviceClass: 'desktop',
      weight: 0.15,
      os: 'Windows',
      model: 'browser',
      watchMedianMs: minutes(12),
      startupOverheadMs: 200,
    },
    {
      deviceClass: 'mobile',
      weight: 0.25,
      os: 'Android',
      model: 'phone',
      watchMedianMs: minutes(6),
      startupOverheadMs: 300,
    },
    {
      deviceClass: 'tablet',
      weight: 0.08,
      os: 'iPadOS',
      model: 'tablet',
      watchMedianMs: minutes(10),
      startupOverheadMs: 300,
    },
    {
      deviceClass: 'stb',
      weight: 0.05,
      os: 'Android TV',
      model: 'set-top-box',
      watchMedianMs: minutes(25),
      startupOverheadMs: 600,
    },
    {
      deviceClass: 'console',
      weight: 0.02,
      os: 'PlayStation',
      model: 'console',
      watchMedianMs: minutes(20),
      startupOverheadMs: 400,
    },
  ],
  abr: { throughput: 0.5, bola: 0.5 },
  titles: {
    ids: Array.from({ length: 20 }, (_, i) => `title-${String(i + 1).padStart(3, '0')}`),
    zipfExponent: 0.9,
  },
});

/** One player slot's fixed traits, drawn once from the population. */
export interface PlayerTraits {
  readonly ispIndex: number;
  readonly isp: IspProfile;
  readonly device: DeviceProfile;
  readonly access: AccessKind;
  readonly abr: AbrKind;
}

/** Precomputed draws over a population. */
export class PopulationSampler {
  private readonly ispWeights: number[];
  private readonly deviceWeights: number[];
  private readonly abrKinds: AbrKind[];
  private readonly abrWeights: number[];
  private readonly accessKinds: AccessKind[][];
  private readonly accessWeights: number[][];
  readonly titleWeights: number[];

  constructor(readonly population: Population) {
    this.ispWeights = population.isps.map((i) => i.weight);
    this.deviceWeights = population.devices.map((d) => d.weight);
    this.abrKinds = ABR_KINDS.filter((k) => (population.abr[k] ?? 0) > 0);
    this.abrWeights = this.abrKinds.map((k) => population.abr[k] ?? 0);
    this.accessKinds = population.isps.map((i) => ACCESS_KINDS.filter((k) => (i.access[k] ?? 0) > 0));
    this.accessWeights = population.isps.map((i, n) =>
      (this.accessKinds[n] ?? []).map((k) => i.access[k] ?? 0),
    );
    this.titleWeights = zipfWeights(population.titles.ids.length, population.titles.zipfExponent);
  }

  drawTraits(rng: Rng): PlayerTraits {
    const ispIndex = rng.weighted(this.ispWeights);
    const isp = this.population.isps[ispIndex] as IspProfile;
    const device = this.population.devices[rng.weighted(this.deviceWeights)] as DeviceProfile;
    const kinds = this.accessKinds[ispIndex] as AccessKind[];
    const access = kinds[rng.weighted(this.accessWeights[ispIndex] as number[])] as AccessKind;
    const abr = this.abrKinds[rng.weighted(this.abrWeights)] as AbrKind;
    return { ispIndex, isp, device, access, abr };
  }

  drawTitle(rng: Rng): string {
    return this.population.titles.ids[rng.weighted(this.titleWeights)] as string;
  }
}
