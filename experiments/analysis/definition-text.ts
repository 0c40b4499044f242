/** A definition from YAML text, refused with every issue when invalid (for tests, benchmarks and tools). */
import { PlayloopError } from '../../core/errors.ts';
import type { ExperimentDefinition } from '../definitions/schema.ts';
import { formatIssue, parseExperiment } from '../definitions/validate.ts';

export function definitionFromYaml(text: string, file: string): ExperimentDefinition {
  const parsed = parseExperiment(text, file);
  if (parsed.definition === undefined || parsed.issues.length > 0) {
    throw new PlayloopError(
      'EXPERIMENT_INVALID',
      `${file} is not a valid definition:\n  ${parsed.issues.map(formatIssue).join('\n  ')}`,
    );
  }
  return parsed.definition;
}
