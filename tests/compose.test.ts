/**
 * docker-compose.yml cannot run here (no Docker engine), so this test reads it and checks
 * that it agrees with the local stack and the config: same ports, same environment names,
 * loopback-only host ports, and Grafana provisioning that points at files that exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envBindings, loadConfig } from '../core/config.ts';

interface Service {
  image?: string;
  build?: string;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  command?: string[];
}
const root = join(import.meta.dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const defaults = loadConfig({ env: {} });

function hostPorts(service: Service): string[] {
  return (service.ports ?? []).map((p) => p.split(':').slice(0, -1).join(':'));
}

describe('docker-compose.yml', () => {
  it('runs Kafka, a schema registry, ClickHouse, Grafana and playloop', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'clickhouse',
      'grafana',
      'kafka',
      'playloop',
      'schema-registry',
    ]);
    expect(compose.services['kafka']?.image).toMatch(/^apache\/kafka:4\./);
    expect(compose.services['schema-registry']?.image).toMatch(/^confluentinc\/cp-schema-registry:/);
    expect(compose.services['grafana']?.environment?.['GF_INSTALL_PLUGINS']).toContain(
      'grafana-clickhouse-datasource',
    );
  });

  it('binds every host port to 127.0.0.1', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const host of hostPorts(service)) expect(host, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('publishes the same ports as the local stack and the config defaults', () => {
    const published = Object.values(compose.services).flatMap(hostPorts);
    const port = (hostPort: string): string => hostPort.split(':')[1] ?? '';
    const ports = published.map(port);
    expect(ports).toContain(defaults.kafka.brokers[0]?.split(':')[1]);
    expect(ports).toContain(new URL(defaults.registry.url).port);
    expect(ports).toContain(String(defaults.ingest.port));
    expect(ports).toContain(String(defaults.controlPlane.port));
    expect(ports).toContain(String(defaults.dashboard.port));
    expect(ports.some((p) => p.startsWith(`${defaults.oca.basePort}-`))).toBe(true);
  });

  it('gives playloop only environment names the config knows', () => {
    const known = new Set(envBindings.map(([name]) => name));
    const env = compose.services['playloop']?.environment ?? {};
    for (const name of Object.keys(env)) expect(known.has(name), name).toBe(true);
    for (const name of [
      'KAFKA_BROKERS',
      'SCHEMA_REGISTRY_URL',
      'CLICKHOUSE_URL',
      'PLAYLOOP_INGEST_KEYS',
      'PLAYLOOP_DATA_DIR',
    ]) {
      expect(env, name).toHaveProperty(name);
    }
    // The values must pass the same validation the program applies at start.
    const asStrings = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[^:]+:-([^}]+)\}/, '$1')]),
    );
    expect(() => loadConfig({ env: asStrings })).not.toThrow();
  });

  it('provisions Grafana from dashboards/ unchanged', () => {
    const volumes = compose.services['grafana']?.volumes ?? [];
    const mounts = new Map(volumes.map((v) => [v.split(':')[1] ?? '', v.split(':')[0] ?? '']));
    expect(mounts.get('/etc/grafana/provisioning')).toBe('./dashboards/provisioning');
    const provider = parse(
      readFileSync(join(root, 'dashboards/provisioning/dashboards/playloop.yaml'), 'utf8'),
    ) as {
      providers: Array<{ options: { path: string } }>;
    };
    const path = provider.providers[0]?.options.path ?? '';
    expect(mounts.get(path)).toBe('./dashboards');
    const datasource = parse(
      readFileSync(join(root, 'dashboards/provisioning/datasources/clickhouse.yaml'), 'utf8'),
    ) as {
      datasources: Array<{ uid: string; type: string; jsonData: { host: string } }>;
    };
    expect(datasource.datasources[0]?.type).toBe('grafana-clickhouse-datasource');
    expect(Object.keys(compose.services)).toContain(datasource.datasources[0]?.jsonData.host);
    // Every dashboard names the provisioned datasource by uid.
    const uid = datasource.datasources[0]?.uid;
    for (const file of readdirSync(join(root, 'dashboards')).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(root, 'dashboards', file), 'utf8');
      expect(text, file).toContain(`"uid": "${uid}"`);
    }
  });

  it('builds playloop from the repository Dockerfile', () => {
    expect(compose.services['playloop']?.build).toBe('.');
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
  });
});
