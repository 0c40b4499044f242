/**
 * Allocation events: what the control plane (or the fleet, or a player) writes to
 * `experiment.allocations` (config.topics.allocations) when it puts a unit in a cell, so the
 * outcomes processor can join sessions to cells. Schema: schemas/experiment-allocation.avsc.
 * Keyed by the unit id (DESIGN.md, "Keys"), so a unit's allocations keep their order.
 *
 * Only units in an experiment become events; an exclusion is not an exposure.
 */
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import type { CellAllocation } from './assign.ts';

export const ALLOCATION_SOURCES = ['control-plane', 'fleet', 'player'] as const;
export type AllocationSource = (typeof ALLOCATION_SOURCES)[number];

export interface AllocationContext {
  /** Epoch milliseconds: when the unit was allocated (the caller's clock, passed in). */
  readonly allocatedAt: number;
  readonly source: AllocationSource;
}

export function toAllocationEvent(
  allocation: CellAllocation,
  context: AllocationContext,
): ExperimentAllocation {
  return {
    experimentKey: allocation.experimentKey,
    cell: allocation.cell,
    control: allocation.control,
    unitType: allocation.unitType,
    unitId: allocation.unitId,
    viewerId: allocation.viewerId,
    sessionId: allocation.sessionId,
    bucket: allocation.bucket,
    namespace: allocation.namespace,
    hashVersion: allocation.hashVersion,
    seed: allocation.seed,
    definitionDigest: allocation.definitionDigest,
    allocatedAt: context.allocatedAt,
    source: context.source,
    deviceClass: allocation.deviceClass,
    country: allocation.country,
    isp: allocation.isp,
  };
}

/** The Kafka key of an allocation event: the unit id. */
export function allocationEventKey(event: ExperimentAllocation): string {
  return event.unitId;
}
