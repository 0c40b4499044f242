#!/usr/bin/env node
// The `playloop` command. Sources are TypeScript run through tsx's loader, so there is no
// build step between editing and running; `npm run typecheck` keeps them honest.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
