/**
 * The shape of an OCA fleet as data: which OCAs exist, their tier, where they sit (region,
 * ISP), how big their caches are and which storage OCA each edge fills from. Validated once;
 * the default fleet is derived from config so ports and sizes come from one place.
 */
import { z } from 'zod';
import type { PlayloopConfig } from '../../core/config.ts';

export const OCA_TIERS = ['edge', 'storage'] as const;
export type OcaTier = (typeof OCA_TIERS)[number];

export const ocaSpecSchema = z.strictObject({
  /** Also the Content Steering Pathway ID, so limited to [A-Za-z0-9._-]. */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Pathway ID: [A-Za-z0-9._-]{1,64}'),
  tier: z.enum(OCA_TIERS),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected [a-z0-9-]{1,32}'),
  /** The network the OCA sits in: an AS number for edges (`AS3320`), an IXP or `transit` for storage. */
  isp: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'expected [A-Za-z0-9._-]{1,32}'),
  /** Edge cache size (LRU by bytes). Storage OCAs hold the whole catalog and ignore it. */
  capacityBytes: z.number().int().positive().optional(),
  /** For an edge: the id of the storage OCA it fills from. */
  upstream: z.string().optional(),
  /** Fixed port; otherwise basePort + position in the list (or ephemeral when basePort is 0). */
  port: z.number().int().min(0).max(65_535).optional(),
});

export const fleetSpecSchema = z
  .strictObject({
    host: z.string().min(1),
    /** 0: every OCA on an ephemeral port (tests). */
    basePort: z.number().int().min(0).max(65_535),
    ocas: z.array(ocaSpecSchema).min(1),
  })
  .superRefine((fleet, ctx) => {
    const byId = new Map<string, z.output<typeof ocaSpecSchema>>();
    fleet.ocas.forEach((oca, i) => {
      if (byId.has(oca.id))
        ctx.addIssue({ code: 'custom', path: ['ocas', i, 'id'], message: 'duplicate id' });
      byId.set(oca.id, oca);
    });
    fleet.ocas.forEach((oca, i) => {
      if (oca.tier === 'storage') {
        if (oca.upstream !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['ocas', i, 'upstream'],
            message: 'a storage OCA has no upstream',
          });
        }
        return;
      }
      if (oca.capacityBytes === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['ocas', i, 'capacityBytes'],
          message: 'an edge OCA needs a cache size',
        });
      }
      const upstream = oca.upstream === undefined ? undefined : byId.get(oca.upstream);
      if (upstream?.tier !== 'storage') {
        ctx.addIssue({
          code: 'custom',
          path: ['ocas', i, 'upstream'],
          message: 'an edge OCA fills from a storage OCA named in this fleet',
        });
      }
    });
    if (fleet.basePort !== 0 && fleet.basePort + fleet.ocas.length - 1 > 65_535) {
      ctx.addIssue({ code: 'custom', path: ['basePort'], message: 'the fleet runs past port 65535' });
    }
  });

export type OcaSpec = Readonly<z.output<typeof ocaSpecSchema>>;
export type FleetSpec = Readonly<z.output<typeof fleetSpecSchema>>;

export function validateFleetSpec(spec: unknown): FleetSpec {
  return fleetSpecSchema.parse(spec);
}

/** The port an OCA listens on: its own, or basePort + index, or 0 (ephemeral) when basePort is 0. */
export function portOf(fleet: FleetSpec, index: number): number {
  const own = fleet.ocas[index]?.port;
  if (own !== undefined) return own;
  return fleet.basePort === 0 ? 0 : fleet.basePort + index;
}

/**
 * Two regions, one ISP each, two edge OCAs per ISP, each region's edges behind its own storage
 * OCA (Open Connect's shape: storage appliances at an IXP, flash edges embedded in ISPs).
 * Storage first, so the ports read storage at basePort, basePort+1, edges after.
 */
export function defaultFleetSpec(oca: PlayloopConfig['oca']): FleetSpec {
  const capacityBytes = Math.round(oca.edgeCapacityMb * 1024 * 1024);
  const edge = (isp: string, letter: string, region: string, upstream: string) => ({
    id: `oca-edge-${isp.toLowerCase()}-${letter}`,
    tier: 'edge' as const,
    region,
    isp,
    capacityBytes,
    upstream,
  });
  return validateFleetSpec({
    host: oca.host,
    basePort: oca.basePort,
    ocas: [
      { id: 'oca-storage-eu-central', tier: 'storage', region: 'eu-central', isp: 'ix-fra' },
      { id: 'oca-storage-us-east', tier: 'storage', region: 'us-east', isp: 'ix-nyc' },
      edge('AS3320', 'a', 'eu-central', 'oca-storage-eu-central'),
      edge('AS3320', 'b', 'eu-central', 'oca-storage-eu-central'),
      edge('AS7922', 'a', 'us-east', 'oca-storage-us-east'),
      edge('AS7922', 'b', 'us-east', 'oca-storage-us-east'),
    ],
  });
}
