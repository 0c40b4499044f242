// The allocation thread's entry (allocation-thread.ts starts it). A worker thread does not
// inherit the tsx loader its process was started with, so it registers its own before
// loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./allocation-thread-main.ts');
