/**
 * prom-client metrics that several components of one process share by name: the first
 * caller creates the metric in the registry, later callers get the same one. (Two consumer
 * runners in one `processors` role both report `playloop_consumer_lag`, by label.)
 */
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  type Registry,
} from 'prom-client';

export function sharedCounter<T extends string>(
  registry: Registry,
  config: CounterConfiguration<T>,
): Counter<T> {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof Counter) return existing as Counter<T>;
  return new Counter({ ...config, registers: [registry] });
}

export function sharedGauge<T extends string>(registry: Registry, config: GaugeConfiguration<T>): Gauge<T> {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof Gauge) return existing as Gauge<T>;
  return new Gauge({ ...config, registers: [registry] });
}
