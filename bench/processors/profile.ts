/**
 * How the processors benchmark reads a CPU profile (the summariser is bench/profile.ts): self
 * time per component of the pipeline, the processors' folders apart.
 */
import { type CallFrame, type CpuProfile, type ProfileSummary, summariseProfile } from '../profile.ts';

/** Which part of the system a frame belongs to, from its script URL. */
export function componentOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) {
    const name = pkg[1]!;
    return name === 'avsc' ? 'avsc (Avro)' : name;
  }
  for (const dir of [
    'processors/sessionize',
    'processors/qoe-core',
    'processors/qoe',
    'processors/runtime',
  ]) {
    if (url.includes(`/${dir}/`)) return dir;
  }
  if (url.includes('/infra/')) return 'infra';
  if (url.includes('/bench/')) return 'bench (polling)';
  return 'other';
}

/** The processors' summary of a profile, cut to `span` (the profile's monotonic µs). */
export function summariseProcessorsProfile(
  profile: CpuProfile,
  span?: { readonly fromUs: number; readonly toUs: number },
): ProfileSummary {
  return summariseProfile(profile, { componentOf, ...(span === undefined ? {} : { span }) });
}
