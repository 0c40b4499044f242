/**
 * The player page's script (bundled by ../server.ts): hls.js from the global `Hls` that
 * hls.min.js defines, the reporter sending playloop events to ingest, and a small log of
 * what hls.js did (segments and the OCA each came from, steering manifests, level switches
 * with their Pathway, errors) that a driving test or a person at the page can read.
 *
 * The page starts nothing by itself: `window.playloop.start(options)` with a playback plan
 * plays it; `window.playloop.end(reason)` ends the session (session_end, then flush).
 */
import type Hls from 'hls.js';
import type { HlsConfig, LevelSwitchingData, SteeringManifestLoadedData } from 'hls.js';
import type { EndReason, ExperimentCell } from '../../../schemas/generated/playback-event.ts';
import type { FlushResult } from '../../client/index.ts';
import type { WireEvent } from '../../client/wire.ts';
import { ocaOfUrl, type PlanOca } from '../events.ts';
import { attachReporter, type Reporter } from '../reporter.ts';

/** What the page needs from a playback plan (control-plane/plan/planner.ts PlaybackPlan). */
export interface PagePlan {
  readonly sessionId: string;
  readonly titleId: string;
  readonly viewerId: string;
  readonly manifestUrl: string;
  readonly steering: { readonly pathwayId: string };
  readonly ocas: readonly PlanOca[];
  readonly abr?: { readonly hlsjs?: Readonly<Record<string, number>> };
  readonly experiments?: readonly ExperimentCell[];
}

export interface StartOptions {
  readonly plan: PagePlan;
  readonly ingest: { readonly endpoint: string; readonly key: string };
  readonly heartbeatIntervalMs?: number;
  /** hls.js settings over the page's defaults (and over the plan's ABR knobs). */
  readonly hls?: Partial<HlsConfig>;
}

export interface PageLog {
  readonly startedAtMs: number;
  firstFrameAtMs: number | null;
  readonly fragments: Array<{ atMs: number; url: string; ocaId: string | null; level: number }>;
  readonly steering: Array<{ atMs: number; priority: string[]; ttlSec: number }>;
  readonly levelSwitching: Array<{ atMs: number; level: number; pathwayId: string; bitrate: number }>;
  readonly errors: Array<{ atMs: number; type: string; details: string; fatal: boolean }>;
  /** playloop events queued for ingest, by kind. */
  readonly events: Record<string, number>;
  ended: { reason: EndReason; accepted: number; rejected: number; givenUp: number } | null;
}

export interface PlayloopPage {
  start(options: StartOptions): void;
  end(reason: EndReason): Promise<FlushResult>;
  log(): PageLog;
}

declare global {
  interface Window {
    Hls: typeof Hls;
    playloop: PlayloopPage;
  }
}

/**
 * A small buffer, so ABR switches and Pathway moves show within seconds: maxBufferLength
 * alone does not bound it (hls.js grows the target up to maxMaxBufferLength when there is
 * bandwidth to spare), so both are set, and maxBufferSize keeps the byte bound modest.
 */
const PAGE_DEFAULTS: Partial<HlsConfig> = {
  maxBufferLength: 6,
  maxMaxBufferLength: 8,
  maxBufferSize: 8 * 1_000 * 1_000,
  backBufferLength: 10,
};

const video = document.getElementById('video') as HTMLVideoElement;
let reporter: Reporter | undefined;
let player: Hls | undefined;
const log: PageLog = {
  startedAtMs: Date.now(),
  firstFrameAtMs: null,
  fragments: [],
  steering: [],
  levelSwitching: [],
  errors: [],
  events: {},
  ended: null,
};

function pathwayOf(attrs: Readonly<Record<string, unknown>>): string {
  const value = attrs['PATHWAY-ID'];
  return typeof value === 'string' ? value : '.';
}

function render(plan: PagePlan): void {
  const status = document.getElementById('status');
  if (status === null) return;
  const last = log.fragments.at(-1);
  const rows: Array<[string, string]> = [
    ['session', plan.sessionId],
    ['title', plan.titleId],
    ['segments from', last?.ocaId ?? '-'],
    ['pathway', log.levelSwitching.at(-1)?.pathwayId ?? plan.steering.pathwayId],
    ['level', last === undefined ? '-' : String(last.level)],
    ['position', `${video.currentTime.toFixed(1)} s`],
    ['segments', String(log.fragments.length)],
    ['events sent', String(Object.values(log.events).reduce((a, b) => a + b, 0))],
    ['stalls', String(log.events['stall_start'] ?? 0)],
    ['errors', String(log.errors.length)],
  ];
  status.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      if (k === 'pathway' || k === 'segments from') dd.className = 'pathway';
      return [dt, dd];
    }),
  );
  const list = document.getElementById('steering');
  if (list !== null) {
    list.replaceChildren(
      ...log.steering
        .slice(-8)
        .reverse()
        .map((s) => {
          const li = document.createElement('li');
          li.textContent = `+${((s.atMs - log.startedAtMs) / 1_000).toFixed(1)} s  steering: ${s.priority.join(' > ')}`;
          return li;
        }),
    );
  }
}

function start(options: StartOptions): void {
  if (player !== undefined) throw new Error('playloop: already started');
  const HlsCtor = window.Hls;
  const { plan } = options;
  const hls = new HlsCtor({
    ...PAGE_DEFAULTS,
    ...(plan.abr?.hlsjs ?? {}),
    ...options.hls,
    // CMCD (CTA-5004) on every request: the OCA sees this session's sid and the content id.
    cmcd: { sessionId: plan.sessionId, contentId: plan.titleId },
  });
  player = hls;
  const Events = HlsCtor.Events;
  const ocas = plan.ocas;
  hls.on(Events.FRAG_LOADED, (_e, data) => {
    if (data.frag.type !== 'main' || data.frag.sn === 'initSegment') return;
    log.fragments.push({
      atMs: Date.now(),
      url: data.frag.url,
      ocaId: ocaOfUrl(data.frag.url, ocas) ?? null,
      level: data.frag.level,
    });
  });
  hls.on(Events.STEERING_MANIFEST_LOADED, (_e, data: SteeringManifestLoadedData) => {
    log.steering.push({
      atMs: Date.now(),
      priority: [...data.steeringManifest['PATHWAY-PRIORITY']],
      ttlSec: data.steeringManifest.TTL,
    });
  });
  hls.on(Events.LEVEL_SWITCHING, (_e, data: LevelSwitchingData) => {
    log.levelSwitching.push({
      atMs: Date.now(),
      level: data.level,
      pathwayId: pathwayOf(data.attrs),
      bitrate: data.bitrate,
    });
  });
  hls.on(Events.ERROR, (_e, data) => {
    log.errors.push({ atMs: Date.now(), type: data.type, details: data.details, fatal: data.fatal });
  });
  video.addEventListener('playing', () => {
    log.firstFrameAtMs ??= Date.now();
  });

  reporter = attachReporter(HlsCtor, hls, video, {
    ingest: options.ingest,
    session: {
      sessionId: plan.sessionId,
      viewerId: plan.viewerId,
      titleId: plan.titleId,
      ...(plan.experiments === undefined ? {} : { experiments: plan.experiments }),
    },
    ocas,
    initialPathway: plan.steering.pathwayId,
    ...(options.heartbeatIntervalMs === undefined
      ? {}
      : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    onEvent: (event: WireEvent) => {
      log.events[event.kind] = (log.events[event.kind] ?? 0) + 1;
    },
  });
  hls.loadSource(plan.manifestUrl);
  hls.attachMedia(video);
  setInterval(() => render(plan), 500);
}

async function end(reason: EndReason): Promise<FlushResult> {
  if (reporter === undefined) throw new Error('playloop: not started');
  const result = await reporter.end(reason);
  video.pause();
  player?.stopLoad();
  log.ended = { reason, ...result };
  return result;
}

window.playloop = { start, end, log: () => log };
