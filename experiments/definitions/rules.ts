/**
 * Rules within one definition that the structural schema cannot state: they relate fields
 * to one another. Each broken rule is reported with the path of the field to fix; nothing
 * is ever repaired (CONVENTIONS.md: no silent equalising of weights).
 */
import type { Cell, EffectSize, ExperimentDefinition } from './schema.ts';
import {
  ABR_KNOB_NAMES,
  absoluteEffectLimit,
  BUCKETS,
  METRICS,
  type MetricName,
  STEERING_POLICY_KNOB,
} from './vocabulary.ts';

export type IssuePath = readonly (string | number)[];

export interface RuleIssue {
  readonly path: IssuePath;
  readonly reason: string;
}

/** The knobs a cell overrides, by name (`abrBandWidthFactor`, `steering.policy`), in a stable order. */
export function cellKnobs(cell: Cell): string[] {
  const knobs: string[] = [];
  const abr = cell.config.abr ?? {};
  for (const name of ABR_KNOB_NAMES) if (abr[name] !== undefined) knobs.push(name);
  if (cell.config.steering !== undefined) knobs.push(STEERING_POLICY_KNOB);
  return knobs;
}

/** The path of a knob inside a cell, for messages. */
export function knobPath(cellIndex: number, knob: string): IssuePath {
  return knob === STEERING_POLICY_KNOB
    ? ['cells', cellIndex, 'config', 'steering', 'policy']
    : ['cells', cellIndex, 'config', 'abr', knob];
}

/** The whole number of traffic buckets a share stands for, or undefined when it is not whole. */
export function trafficThreshold(share: number): number | undefined {
  const scaled = share * BUCKETS;
  const whole = Math.round(scaled);
  // 0.07 * 10000 is 700.0000000000001 in binary floating point: tolerate rounding noise,
  // refuse real fractions of a bucket.
  return Math.abs(scaled - whole) < 1e-6 ? whole : undefined;
}

export function definitionRules(def: ExperimentDefinition): RuleIssue[] {
  return [
    ...namespaceRules(def),
    ...trafficRules(def),
    ...cellRules(def),
    ...metricRules(def),
    ...statusRules(def),
  ];
}

function namespaceRules(def: ExperimentDefinition): RuleIssue[] {
  const { start, end } = def.namespace.range;
  if (start >= end) {
    return [
      {
        path: ['namespace', 'range'],
        reason: `start ${start} must be below end ${end} (a half-open range [start, end) of 10000 buckets)`,
      },
    ];
  }
  return [];
}

function trafficRules(def: ExperimentDefinition): RuleIssue[] {
  if (trafficThreshold(def.trafficShare) === undefined) {
    return [
      {
        path: ['trafficShare'],
        reason: `${def.trafficShare} is not a whole number of buckets: use at most four decimals (0.0001 = 1 bucket of 10000)`,
      },
    ];
  }
  return [];
}

function cellRules(def: ExperimentDefinition): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const cells = def.cells;
  if (cells.length < 2) {
    issues.push({
      path: ['cells'],
      reason: `needs a control and at least one treatment; got ${cells.length} cell(s)`,
    });
  }

  const firstByName = new Map<string, number>();
  cells.forEach((cell, i) => {
    const first = firstByName.get(cell.name);
    if (first === undefined) firstByName.set(cell.name, i);
    else
      issues.push({
        path: ['cells', i, 'name'],
        reason: `duplicate cell name "${cell.name}" (also cells[${first}])`,
      });
  });

  const controls = cells.flatMap((cell, i) => (cell.control ? [i] : []));
  if (controls.length === 0 && cells.length > 0) {
    issues.push({ path: ['cells'], reason: 'no control cell: mark exactly one cell with control: true' });
  }
  for (const i of controls.slice(1)) {
    issues.push({
      path: ['cells', i, 'control'],
      reason: `a second control cell; cells[${controls[0]}] is already the control and there must be exactly one`,
    });
  }

  const total = cells.reduce((sum, cell) => sum + cell.weight, 0);
  if (cells.length > 0 && total !== BUCKETS) {
    issues.push({
      path: ['cells'],
      reason:
        `weights sum to ${total} basis points; they must sum to exactly 10000 (100%)` +
        (total === 100 ? '; they look like percentages: 50% is 5000 basis points' : ''),
    });
  }

  const controlIndex = controls[0];
  if (controlIndex !== undefined) {
    const control = cells[controlIndex] as Cell;
    const baseline = cellKnobs(control);
    if (baseline.length === 0) {
      issues.push({
        path: ['cells', controlIndex, 'config'],
        reason:
          'the control overrides no knob; every cell states the knobs under test, the control its baseline values',
      });
    }
    cells.forEach((cell, i) => {
      if (i === controlIndex) return;
      const knobs = cellKnobs(cell);
      for (const knob of knobs) {
        if (!baseline.includes(knob)) {
          issues.push({
            path: knobPath(i, knob),
            reason: `set here but not in the control cell "${control.name}"; every cell must state the same knobs so the control is an explicit baseline`,
          });
        }
      }
      for (const knob of baseline) {
        if (!knobs.includes(knob)) {
          issues.push({
            path: ['cells', i, 'config'],
            reason: `does not set ${knob}, which the control cell "${control.name}" sets; every cell must state the same knobs`,
          });
        }
      }
    });
  }
  return issues;
}

function effectSizeRules(path: IssuePath, metric: MetricName, size: EffectSize, what: string): RuleIssue[] {
  const given = [size.relative, size.absolute].filter((v) => v !== undefined).length;
  if (given !== 1) {
    return [
      {
        path,
        reason: `${what} needs exactly one of relative (a fraction of the control's mean) or absolute (in ${metric}'s unit)`,
      },
    ];
  }
  if (size.relative !== undefined && !(size.relative > 0 && size.relative < 1)) {
    return [
      {
        path: [...path, 'relative'],
        reason: `${what} must be a fraction strictly between 0 and 1 (0.05 = 5%); got ${size.relative}`,
      },
    ];
  }
  if (size.absolute !== undefined) {
    const limit = absoluteEffectLimit(metric);
    if (!(size.absolute > 0 && size.absolute < limit)) {
      const range = Number.isFinite(limit) ? `in (0, ${limit})` : 'positive';
      return [
        {
          path: [...path, 'absolute'],
          reason: `${what} on ${metric} (${METRICS[metric].kind}) must be ${range}; got ${size.absolute}`,
        },
      ];
    }
  }
  return [];
}

function metricRules(def: ExperimentDefinition): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { primary, secondary, guardrails } = def.metrics;
  const refs: Array<{ path: IssuePath; metric: MetricName; better: string; role: string }> = [
    {
      path: ['metrics', 'primary'],
      metric: primary.metric,
      better: primary.better,
      role: 'the primary metric',
    },
    ...secondary.map((m, i) => ({
      path: ['metrics', 'secondary', i],
      metric: m.metric,
      better: m.better,
      role: `secondary[${i}]`,
    })),
    ...guardrails.map((m, i) => ({
      path: ['metrics', 'guardrails', i],
      metric: m.metric,
      better: m.better,
      role: `guardrails[${i}]`,
    })),
  ];
  const seen = new Map<MetricName, string>();
  for (const ref of refs) {
    const expected = METRICS[ref.metric].better;
    if (ref.better !== expected) {
      issues.push({
        path: [...ref.path, 'better'],
        reason: `${expected} ${ref.metric} is better by the QoE definition; got ${ref.better}`,
      });
    }
    const earlier = seen.get(ref.metric);
    if (earlier !== undefined) {
      issues.push({ path: [...ref.path, 'metric'], reason: `${ref.metric} is already ${earlier}` });
    } else {
      seen.set(ref.metric, ref.role);
    }
  }

  issues.push(
    ...effectSizeRules(
      ['metrics', 'primary', 'mde'],
      primary.metric,
      primary.mde,
      'the minimum detectable effect',
    ),
  );
  const rule = def.analysis.decisionRule;
  if (rule === 'non-inferiority' && primary.margin === undefined) {
    issues.push({
      path: ['metrics', 'primary', 'margin'],
      reason: "decisionRule non-inferiority needs the primary metric's non-inferiority margin",
    });
  }
  if (rule === 'superiority' && primary.margin !== undefined) {
    issues.push({
      path: ['metrics', 'primary', 'margin'],
      reason: 'decisionRule superiority has no primary margin; remove it or use non-inferiority',
    });
  }
  if (primary.margin !== undefined) {
    issues.push(
      ...effectSizeRules(
        ['metrics', 'primary', 'margin'],
        primary.metric,
        primary.margin,
        'the non-inferiority margin',
      ),
    );
  }
  guardrails.forEach((g, i) => {
    issues.push(
      ...effectSizeRules(['metrics', 'guardrails', i, 'margin'], g.metric, g.margin, 'the guardrail margin'),
    );
  });
  return issues;
}

function statusRules(def: ExperimentDefinition): RuleIssue[] {
  if (def.status === 'shipped') {
    if (def.shippedCell === undefined) {
      return [{ path: ['shippedCell'], reason: 'a shipped experiment names the cell it shipped' }];
    }
    if (!def.cells.some((cell) => cell.name === def.shippedCell)) {
      return [{ path: ['shippedCell'], reason: `"${def.shippedCell}" is not one of the cells` }];
    }
  } else if (def.shippedCell !== undefined) {
    return [
      {
        path: ['shippedCell'],
        reason: `only a shipped experiment names a shipped cell; status is ${def.status}`,
      },
    ];
  }
  return [];
}
