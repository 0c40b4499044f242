/**
 * Helpers for the fleet's tests: populations with a predictable viewer, and the step ingest
 * performs on an event (what the QoE core reads is a full PlaybackEvent with `server`).
 * Not part of any runtime path.
 */
import type { PlaybackEvent, ServerContext } from '../../schemas/generated/playback-event.ts';
import type { WireEvent } from '../client/wire.ts';
import { DEFAULT_POPULATION, type PopulationInput } from './population.ts';

/** A viewer who neither seeks, pauses, errs nor gives up, and watches `watchMs` exactly. */
export function patientViewer(watchMs: number) {
  return {
    watchMs,
    viewer: {
      watchSigma: 0,
      resumeShare: 0,
      startupPatienceFloorMs: 1e12,
      startupAbandonPerSecond: 0,
      stallPatienceFloorMs: 1e12,
      stallPatienceMeanMs: 0,
      seeksPerHour: 0,
      pausesPerHour: 0,
      fatalMediaErrorsPerHour: 0,
      thinkTimeMeanMs: 0,
    },
  };
}

/** One ISP (AS3320, eu-central), one device class (no start-up overhead), one access technology, one ABR. */
export function uniformPopulation(options: {
  readonly access?: 'fiber' | 'cable' | 'dsl' | 'lte' | 'hspa';
  readonly abr?: 'throughput' | 'bola';
  readonly watchMs?: number;
  readonly viewer?: PopulationInput['viewer'];
  readonly titles?: readonly string[];
}): PopulationInput {
  const patient = patientViewer(options.watchMs ?? 1e12);
  return {
    isps: [
      {
        isp: 'AS3320',
        region: 'eu-central',
        country: 'DE',
        clientAddress: '79.192.0.10',
        weight: 1,
        access: { [options.access ?? 'dsl']: 1 },
      },
    ],
    devices: [
      {
        deviceClass: 'tv',
        weight: 1,
        os: 'Tizen',
        model: 'smart-tv',
        watchMedianMs: patient.watchMs,
        startupOverheadMs: 0,
      },
    ],
    abr: { [options.abr ?? 'throughput']: 1 },
    titles: { ids: [...(options.titles ?? ['title-001'])], zipfExponent: 0 },
    viewer: options.viewer ?? patient.viewer,
  };
}

export { DEFAULT_POPULATION };

/**
 * What ingest makes of a player's event (producers/ingest/validate.ts + enrich.ts): every
 * nullable field present, and the server context. Skew 0 and a receive time far ahead, so
 * the QoE core's event time is the player's clientTs.
 */
export function asIngested(event: WireEvent, server: Partial<ServerContext> = {}): PlaybackEvent {
  return {
    sessionId: event.sessionId,
    seq: event.seq,
    viewerId: event.viewerId,
    titleId: event.titleId,
    clientTs: event.clientTs,
    kind: event.kind,
    playheadMs: event.playheadMs ?? null,
    device: {
      deviceClass: event.device?.deviceClass ?? null,
      model: event.device?.model ?? null,
      os: event.device?.os ?? null,
      playerName: event.device?.playerName ?? null,
      playerVersion: event.device?.playerVersion ?? null,
      userAgent: event.device?.userAgent ?? null,
    },
    experiments: event.experiments ?? [],
    cmcd:
      event.cmcd === undefined || event.cmcd === null
        ? null
        : {
            br: event.cmcd.br ?? null,
            bl: event.cmcd.bl ?? null,
            mtp: event.cmcd.mtp ?? null,
            ot: event.cmcd.ot ?? null,
            st: event.cmcd.st ?? null,
            sf: event.cmcd.sf ?? null,
            su: event.cmcd.su ?? null,
            d: event.cmcd.d ?? null,
            rtp: event.cmcd.rtp ?? null,
            tb: event.cmcd.tb ?? null,
            bs: event.cmcd.bs ?? null,
            dl: event.cmcd.dl ?? null,
          },
    playIntent:
      event.playIntent === undefined || event.playIntent === null
        ? null
        : {
            autoplay: event.playIntent.autoplay ?? false,
            startPositionMs: event.playIntent.startPositionMs ?? 0,
            planId: event.playIntent.planId ?? null,
            ocaId: event.playIntent.ocaId ?? null,
          },
    manifestLoaded:
      event.manifestLoaded === undefined || event.manifestLoaded === null
        ? null
        : { ...event.manifestLoaded, ocaId: event.manifestLoaded.ocaId ?? null },
    firstFrame: event.firstFrame ?? null,
    renditionSwitch:
      event.renditionSwitch === undefined || event.renditionSwitch === null
        ? null
        : { ...event.renditionSwitch, height: event.renditionSwitch.height ?? null },
    stall:
      event.stall === undefined || event.stall === null
        ? null
        : { durationMs: event.stall.durationMs ?? null, bufferMs: event.stall.bufferMs ?? null },
    segment:
      event.segment === undefined || event.segment === null
        ? null
        : {
            ...event.segment,
            level: event.segment.level ?? null,
            url: event.segment.url ?? null,
            cacheHit: event.segment.cacheHit ?? null,
          },
    heartbeat:
      event.heartbeat === undefined
        ? null
        : { ...event.heartbeat, droppedFrames: event.heartbeat.droppedFrames ?? 0 },
    error:
      event.error === undefined || event.error === null
        ? null
        : {
            ...event.error,
            httpStatus: event.error.httpStatus ?? null,
            message: event.error.message ?? null,
          },
    seek: event.seek ?? null,
    sessionEnd: event.sessionEnd ?? null,
    server: {
      receivedAt: Number.MAX_SAFE_INTEGER,
      clockSkewMs: 0,
      deviceClass: event.device?.deviceClass ?? 'unknown',
      isp: 'AS3320',
      region: 'eu-central',
      country: 'DE',
      ingestKeyId: 'test',
      ...server,
    },
  };
}
