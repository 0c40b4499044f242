/**
 * Apicurio Registry from Maven Central's `apicurio-registry-app:<v>:tar.gz:all`, run as
 * `java -jar quarkus-run.jar` on 127.0.0.1 with in-memory storage (its default H2 in-memory
 * SQL store). Clients speak its Confluent-compatible API at /apis/ccompat/v7.
 *
 * In-memory storage forgets schemas when the registry stops, while Kafka keeps records
 * that name schema ids. So `down` exports the registry's content and `up` imports it
 * back, keeping every id stable across restarts (Apicurio's admin export/import API).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlayloopError } from '../core/errors.ts';
import {
  isOurs,
  type ProcessFiles,
  readRecord,
  startDetached,
  stopRecorded,
  waitUntilServing,
} from './processes.ts';
import { filesOf, markerOf, type StackSettings } from './settings.ts';

type Say = (line: string) => void;

const SERVICE = 'registry';

function exportFile(settings: StackSettings): string {
  return join(settings.stackDir, 'registry', 'export.zip');
}

function adminBase(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.registry.port}/apis/registry/v3/admin`;
}

export function ensureApicurio(settings: StackSettings, say: Say): void {
  const dir = settings.registry.installDir;
  if (existsSync(join(dir, 'quarkus-run.jar'))) return;
  const artifact = `io.apicurio:apicurio-registry-app:${settings.registry.version}:tar.gz:all`;
  const downloads = join(settings.stackDir, 'downloads');
  say(`registry: fetching ${artifact} from Maven Central...`);
  mkdirSync(downloads, { recursive: true });
  try {
    execFileSync(
      'mvn',
      ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${downloads}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const tarball = readdirSync(downloads).find(
      (f) => f.startsWith(`apicurio-registry-app-${settings.registry.version}`) && f.endsWith('.tar.gz'),
    );
    if (tarball === undefined) throw new Error('the tarball is not where mvn was told to put it');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', join(downloads, tarball), '-C', dir]);
  } catch (cause) {
    throw new PlayloopError(
      'STACK_FAILED',
      `registry: could not fetch or unpack ${artifact}: ${String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** Apicurio 3.2+ needs Java 21+. Finds one: the setting, then /usr/lib/jvm, then `java`. */
export function findJava21(settings: StackSettings): string {
  const candidates: string[] = [];
  if (settings.registry.javaHome) candidates.push(settings.registry.javaHome);
  if (existsSync('/usr/lib/jvm')) {
    for (const d of readdirSync('/usr/lib/jvm').sort().reverse()) candidates.push(join('/usr/lib/jvm', d));
  }
  for (const home of candidates) {
    const release = join(home, 'release');
    if (!existsSync(release)) continue;
    const match = /JAVA_VERSION="(\d+)/.exec(readFileSync(release, 'utf8'));
    if (match && Number(match[1]) >= 21 && existsSync(join(home, 'bin', 'java')))
      return join(home, 'bin', 'java');
  }
  throw new PlayloopError(
    'STACK_FAILED',
    `registry: Apicurio ${settings.registry.version} needs Java 21 or later and none was found; ` +
      'set PLAYLOOP_REGISTRY_JAVA_HOME to a JDK 21+ (or PLAYLOOP_APICURIO_VERSION=3.1.x for Java 17)',
  );
}

export interface RegistryStatus {
  readonly state: 'healthy' | 'unhealthy' | 'stopped' | 'external';
  readonly address: string;
  readonly detail: string;
}

async function probeRegistry(url: string): Promise<number> {
  const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`GET ${url}/subjects answered ${res.status}`);
  const subjects: unknown = await res.json();
  return Array.isArray(subjects) ? subjects.length : 0;
}

export async function registryStatus(settings: StackSettings): Promise<RegistryStatus> {
  const address = settings.registry.url;
  const record = readRecord(filesOf(settings, SERVICE));
  const running = record !== undefined && isOurs(record);
  try {
    const subjects = await probeRegistry(address);
    const owner = settings.registry.external
      ? 'external'
      : running
        ? `pid ${record?.pid}, Apicurio ${settings.registry.version}, in-memory`
        : 'not started by this stack';
    return { state: 'healthy', address, detail: `${owner}; ${subjects} subjects` };
  } catch (err) {
    if (settings.registry.external)
      return { state: 'unhealthy', address, detail: `external: ${String(err)}` };
    return running
      ? { state: 'unhealthy', address, detail: `pid ${record?.pid} is running but not answering yet` }
      : { state: 'stopped', address, detail: 'not running' };
  }
}

export async function registryUp(settings: StackSettings, say: Say): Promise<void> {
  if (settings.registry.external) {
    say(`registry: external (SCHEMA_REGISTRY_URL=${settings.registry.url}), not started here`);
    return;
  }
  const files = filesOf(settings, SERVICE);
  const record = readRecord(files);
  if (record !== undefined && isOurs(record)) {
    say(`registry: already running (pid ${record.pid})`);
    await waitReady(settings, files);
    return;
  }
  if (
    await probeRegistry(settings.registry.url).then(
      () => true,
      () => false,
    )
  ) {
    say(`registry: ${settings.registry.url} already answers and was not started by this stack; using it`);
    return;
  }
  ensureApicurio(settings, say);
  const java = findJava21(settings);
  if (record !== undefined) {
    say(`registry: the registry recorded as pid ${record.pid} is no longer running (killed or crashed).`);
  }
  const started = startDetached(
    files,
    java,
    [
      `-Xmx${settings.registry.heapMb}m`,
      markerOf(settings, SERVICE),
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${settings.registry.port}`,
      // Apicurio builds Quarkus' management interface in (health, metrics); it would listen
      // on 0.0.0.0:9000. Keep it on loopback and on a port of this stack's own.
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${settings.registry.managementPort}`,
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=h2',
      '-Dquarkus.analytics.disabled=true',
      '-jar',
      join(settings.registry.installDir, 'quarkus-run.jar'),
    ],
    { marker: markerOf(settings, SERVICE), cwd: settings.registry.installDir },
  );
  say(`registry: started pid ${started.pid} (${java}), log ${files.logFile}`);
  await waitReady(settings, files);
  await restoreExport(settings, say);
}

async function waitReady(settings: StackSettings, files: ProcessFiles): Promise<void> {
  await waitUntilServing(files, {
    service: 'registry',
    exited: 'Apicurio exited during start',
    what: 'the schema registry to answer',
    timeoutMs: settings.readyTimeoutMs,
    probe: () => probeRegistry(settings.registry.url),
  });
}

async function restoreExport(settings: StackSettings, say: Say): Promise<void> {
  const file = exportFile(settings);
  if (!existsSync(file)) {
    say('registry: started empty (in-memory storage)');
    return;
  }
  const res = await fetch(`${adminBase(settings)}/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip' },
    body: readFileSync(file),
  });
  if (!res.ok) {
    say(
      `registry: could not restore schemas saved at the last \`down\` (${res.status}); ` +
        'records in Kafka that name old schema ids will not decode until producers register again',
    );
    return;
  }
  say(`registry: restored the schemas saved at the last \`down\` (ids unchanged) from ${file}`);
}

export async function registryDown(settings: StackSettings, say: Say): Promise<void> {
  if (settings.registry.external) return;
  const files = filesOf(settings, SERVICE);
  const record = readRecord(files);
  if (record !== undefined && isOurs(record)) {
    try {
      const res = await fetch(`${adminBase(settings)}/export`, { signal: AbortSignal.timeout(10_000) });
      if (res.ok) {
        mkdirSync(join(settings.stackDir, 'registry'), { recursive: true });
        writeFileSync(exportFile(settings), Buffer.from(await res.arrayBuffer()));
        say(`registry: schemas saved to ${exportFile(settings)}`);
      }
    } catch {
      say('registry: could not export schemas before stopping; they are lost with the in-memory store');
    }
  }
  const how = await stopRecorded(files, 20_000);
  say(`registry: ${how}`);
}

export function registryReset(settings: StackSettings, say: Say): void {
  rmSync(join(settings.stackDir, 'registry'), { recursive: true, force: true });
  say('registry: saved schemas deleted');
}
