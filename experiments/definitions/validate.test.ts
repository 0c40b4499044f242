import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import {
  checkExperimentSet,
  formatIssue,
  formatPath,
  loadExperiments,
  parseExperiment,
  targetingOverlaps,
  validateExperimentFiles,
} from './validate.ts';

const EXPERIMENTS = join(import.meta.dirname, '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => relative(process.cwd(), join(FIXTURES, name));

/** `path: reason` of every issue a fixture (or set of fixtures) raises. */
async function issuesOf(...names: string[]): Promise<string[]> {
  const report = await validateExperimentFiles(names.map(fixture));
  expect(report.ok).toBe(false);
  return report.issues.map((i) => `${i.path}: ${i.reason}`);
}

describe('the shipped definitions', () => {
  it('are valid, alone and together', async () => {
    const definitions = await loadExperiments(EXPERIMENTS);
    expect(definitions.map((d) => [d.key, d.status])).toEqual([
      ['abr-bandwidth-factor', 'running'],
      ['steering-health-weighted', 'running'],
    ]);
    const abr = definitions[0];
    expect(abr?.cells.map((c) => [c.name, c.control, c.weight, c.config.abr?.abrBandWidthFactor])).toEqual([
      ['control', true, 5000, 0.95],
      ['headroom-0-8', false, 5000, 0.8],
    ]);
    expect(abr?.targeting.deviceClasses).toEqual(['tv', 'desktop']);
    expect(definitions[1]?.cells.map((c) => c.config.steering?.policy)).toEqual([
      'proximity-only',
      'health-weighted',
    ]);
  });

  it('are deep-frozen', async () => {
    const [abr] = await loadExperiments(EXPERIMENTS);
    expect(Object.isFrozen(abr)).toBe(true);
    expect(Object.isFrozen(abr?.cells)).toBe(true);
    expect(Object.isFrozen(abr?.cells[0]?.config.abr)).toBe(true);
    expect(Object.isFrozen(abr?.targeting.deviceClasses)).toBe(true);
  });
});

describe('one definition at a time', () => {
  // Each fixture breaks one rule; the validator names the field and the reason, and
  // refuses the definition rather than repairing it.
  it.each([
    ['weights-not-10000', ['cells: weights sum to 9000 basis points; they must sum to exactly 10000 (100%)']],
    [
      'percent-weights',
      [
        'cells: weights sum to 100 basis points; they must sum to exactly 10000 (100%); they look like percentages: 50% is 5000 basis points',
      ],
    ],
    [
      'fractional-weight',
      [
        'cells[0].weight: must be an integer number of basis points (10000 = 100%)',
        'cells[1].weight: must be an integer number of basis points (10000 = 100%)',
      ],
    ],
    [
      'unknown-knob',
      [
        'cells[1].config.abr.abrBandwidthFactor: unknown ABR knob "abrBandwidthFactor" (did you mean "abrBandWidthFactor"?); known: abrBandWidthFactor, abrBandWidthUpFactor, abrEwmaDefaultEstimate, maxBufferLength, startLevel, bandwidthSafetyFactor',
      ],
    ],
    [
      'unknown-field',
      ['hypothesis: required (string)', 'hypotesis: unknown field "hypotesis" (did you mean "hypothesis"?)'],
    ],
    ['duplicate-cell-names', ['cells[1].name: duplicate cell name "control" (also cells[0])']],
    [
      'two-controls',
      [
        'cells[1].control: a second control cell; cells[0] is already the control and there must be exactly one',
      ],
    ],
    ['no-control', ['cells: no control cell: mark exactly one cell with control: true']],
    ['single-cell', ['cells: needs a control and at least one treatment; got 1 cell(s)']],
    [
      'knob-mismatch',
      [
        'cells[1].config.abr.maxBufferLength: set here but not in the control cell "control"; every cell must state the same knobs so the control is an explicit baseline',
      ],
    ],
    [
      'empty-config',
      [
        'cells[0].config: the control overrides no knob; every cell states the knobs under test, the control its baseline values',
      ],
    ],
    [
      'bad-knob-value',
      ['cells[1].config.abr.abrBandWidthFactor: must be in (0, 1]: a share of the measured bandwidth'],
    ],
    [
      'unknown-steering-policy',
      ['cells[1].config.steering.policy: Invalid option: expected one of "proximity-only"|"health-weighted"'],
    ],
    [
      'bad-mde',
      [
        'metrics.primary.mde.relative: the minimum detectable effect must be a fraction strictly between 0 and 1 (0.05 = 5%); got 1.5',
      ],
    ],
    [
      'mde-both',
      [
        "metrics.primary.mde: the minimum detectable effect needs exactly one of relative (a fraction of the control's mean) or absolute (in rebufferRatio's unit)",
      ],
    ],
    [
      'mde-absolute-proportion',
      [
        'metrics.primary.mde.absolute: the minimum detectable effect on rebufferRatio (proportion) must be in (0, 1); got 2',
      ],
    ],
    [
      'wrong-direction',
      ['metrics.secondary[0].better: lower startupMs is better by the QoE definition; got higher'],
    ],
    ['duplicate-metric', ['metrics.guardrails[0].metric: rebufferRatio is already the primary metric']],
    [
      'unknown-metric',
      [
        'metrics.secondary[0].metric: Invalid option: expected one of "startupMs"|"ebvs"|"vsf"|"vpf"|"rebufferRatio"|"stallsPerHour"|"avgBitrateKbps"|"switches"|"score"',
      ],
    ],
    [
      'non-inferiority-without-margin',
      [
        "metrics.primary.margin: decisionRule non-inferiority needs the primary metric's non-inferiority margin",
      ],
    ],
    ['bad-alpha', ['analysis.alpha: must be a fraction in (0, 0.2] (0.05 is 5%)']],
    [
      'traffic-fraction',
      [
        'trafficShare: 0.33333 is not a whole number of buckets: use at most four decimals (0.0001 = 1 bucket of 10000)',
      ],
    ],
    ['traffic-over-one', ['trafficShare: Too big: expected number to be <=1']],
    [
      'bad-range',
      [
        'namespace.range: start 6000 must be below end 4000 (a half-open range [start, end) of 10000 buckets)',
      ],
    ],
    [
      'bad-targeting',
      [
        'targeting.deviceClasses[1]: Invalid option: expected one of "tv"|"mobile"|"tablet"|"desktop"|"console"|"stb"',
        'targeting.countries[0]: must be an ISO 3166-1 alpha-2 code in upper case',
        'targeting.isps[0]: must be an autonomous system number such as AS3320',
      ],
    ],
    ['bad-status', ['status: Invalid option: expected one of "draft"|"running"|"stopped"|"shipped"']],
    ['shipped-without-cell', ['shippedCell: a shipped experiment names the cell it shipped']],
    ['unknown-hash-version', ['hashVersion: unknown hash version; supported: 1']],
    ['bad-seed', ['seed: must use only letters, digits, ".", "_" and "-"']],
    ['missing-owner', ['owner: required (string)']],
    ['key-mismatch', ['key: "some-other-key" must match the file name (key-mismatch.yaml)']],
    [
      'undefined-alias',
      ['(root): not valid YAML: Unresolved alias (the anchor must be set before the alias): nobody'],
    ],
    ['duplicate-yaml-key', ['(root): not valid YAML: Map keys must be unique']],
    ['not-a-mapping', ['(root): Invalid input: expected object, received array']],
  ])('%s', async (name, expected) => {
    expect(await issuesOf(`${name}.yaml`)).toEqual(expected);
  });

  it('names the file and the line of the offending field', async () => {
    const report = await validateExperimentFiles([fixture('unknown-knob.yaml')]);
    const [issue] = report.issues;
    expect(issue?.file).toBe(fixture('unknown-knob.yaml'));
    expect(issue?.line).toBe(26);
    expect(formatIssue(issue ?? { file: '', path: '', reason: '' })).toMatch(
      /^experiments\/definitions\/fixtures\/unknown-knob\.yaml: cells\[1\]\.config\.abr\.abrBandwidthFactor: unknown ABR knob .* \(line 26\)$/,
    );
  });

  it('reports YAML syntax errors with their line', () => {
    // Inline rather than a fixture file: biome, which lints the repository's YAML, would
    // refuse a file that does not parse.
    expect(parseExperiment('key: x\nowner: a: b\n', 'x.yaml').issues).toEqual([
      {
        file: 'x.yaml',
        path: '(root)',
        reason: 'not valid YAML: Nested mappings are not allowed in compact mappings',
        line: 2,
      },
    ]);
  });

  it('refuses alias bombs', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const [issue] = parseExperiment(`${lines.join('\n')}\n`, 'bomb.yaml').issues;
    expect(issue?.reason).toMatch(/^not valid YAML: Excessive alias count/);
  });

  it('reports a file it cannot read', async () => {
    const report = await validateExperimentFiles(['no/such/file.yaml']);
    expect(report.issues).toEqual([
      { file: 'no/such/file.yaml', path: '(root)', reason: 'cannot be read (ENOENT)' },
    ]);
  });

  it('accepts a shipped experiment that names its cell, and a non-inferiority test with a margin', () => {
    const base = readFileSync(join(EXPERIMENTS, 'abr-bandwidth-factor.yaml'), 'utf8');
    const shipped = base.replace('status: running', 'status: shipped\nshippedCell: headroom-0-8');
    expect(parseExperiment(shipped, 'abr-bandwidth-factor.yaml').issues).toEqual([]);
    const nonInferiority = base
      .replace('decisionRule: superiority', 'decisionRule: non-inferiority')
      .replace('mde: { relative: 0.1 } }', 'mde: { relative: 0.1 }, margin: { relative: 0.02 } }');
    expect(parseExperiment(nonInferiority, 'abr-bandwidth-factor.yaml').issues).toEqual([]);
  });
});

describe('definitions as a set', () => {
  it('refuses two running experiments with overlapping ranges in one namespace', async () => {
    expect(await issuesOf('overlap/overlap-a.yaml', 'overlap/overlap-b.yaml')).toEqual([
      `namespace.range: [5000, 10000) overlaps [0, 6000) of running experiment "overlap-a" (${fixture('overlap/overlap-a.yaml')}) in namespace "abr"`,
    ]);
  });

  it('refuses two running experiments in different namespaces that set one knob for overlapping targeting', async () => {
    expect(await issuesOf('knob-conflict/conflict-a.yaml', 'knob-conflict/conflict-b.yaml')).toEqual([
      `cells[0].config.abr.abrBandWidthFactor: running experiment "conflict-a" (${fixture('knob-conflict/conflict-a.yaml')}) in namespace "abr-a" also overrides abrBandWidthFactor and its targeting overlaps; put both in one namespace with disjoint ranges, or make their targeting disjoint`,
    ]);
  });

  it('refuses duplicate keys and shared seeds', async () => {
    const one = fixture('duplicate-key/one/same-key.yaml');
    expect(await issuesOf('duplicate-key/one/same-key.yaml', 'duplicate-key/two/same-key.yaml')).toEqual([
      `key: duplicate key: "same-key" (${one}) has the same key`,
      `seed: seed "shared-seed" is also used by "same-key" (${one}); each experiment needs its own seed`,
    ]);
  });

  it('accepts disjoint ranges in one namespace and one knob in two namespaces for disjoint targeting', async () => {
    const report = await validateExperimentFiles(
      ['consistent/split-a.yaml', 'consistent/split-b.yaml', 'consistent/mobile-only.yaml'].map(fixture),
    );
    expect(report.issues).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('only checks overlaps between running experiments', async () => {
    const report = await validateExperimentFiles([fixture('overlap/overlap-a.yaml')]);
    const a = report.experiments[0];
    if (a === undefined) throw new Error('overlap-a should be valid on its own');
    const draft = {
      file: 'b.yaml',
      definition: { ...a.definition, key: 'b', seed: 'b', status: 'draft' as const },
    };
    expect(checkExperimentSet([a, draft])).toEqual([]);
    const running = { file: 'b.yaml', definition: { ...draft.definition, status: 'running' as const } };
    expect(checkExperimentSet([a, running]).map((i) => i.path)).toEqual(['namespace.range']);
  });

  it('decides targeting overlap dimension by dimension, empty meaning all', () => {
    const t = (deviceClasses: ('tv' | 'mobile')[], countries: string[] = [], isps: string[] = []) => ({
      deviceClasses,
      countries,
      isps,
    });
    expect(targetingOverlaps(t([]), t(['tv']))).toBe(true);
    expect(targetingOverlaps(t(['tv']), t(['mobile']))).toBe(false);
    expect(targetingOverlaps(t(['tv'], ['DE']), t(['tv'], ['FR']))).toBe(false);
    expect(targetingOverlaps(t(['tv'], ['DE']), t([], ['DE', 'FR'], ['AS1']))).toBe(true);
  });
});

describe('loadExperiments', () => {
  it('refuses the whole directory when one definition is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'playloop-experiments-'));
    writeFileSync(
      join(dir, 'abr-bandwidth-factor.yaml'),
      readFileSync(join(EXPERIMENTS, 'abr-bandwidth-factor.yaml')),
    );
    writeFileSync(join(dir, 'two-controls.yaml'), readFileSync(join(FIXTURES, 'two-controls.yaml')));
    const error = await loadExperiments(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlayloopError);
    expect((error as PlayloopError).code).toBe('PLAYLOOP_EXPERIMENT_INVALID');
    expect((error as PlayloopError).message).toContain(
      'two-controls.yaml: cells[1].control: a second control cell',
    );
  });

  it('refuses a directory it cannot read', async () => {
    await expect(loadExperiments('/no/such/dir')).rejects.toThrow(/cannot be read/);
  });
});

describe('formatPath', () => {
  it('writes indices in brackets and keys with dots', () => {
    expect(formatPath(['cells', 1, 'weight'])).toBe('cells[1].weight');
    expect(formatPath([])).toBe('(root)');
  });
});
