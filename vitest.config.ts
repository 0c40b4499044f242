import { defineConfig } from 'vitest/config';

// Two projects: unit tests sit beside the code and need nothing running; integration and
// end-to-end tests live in tests/ and run against the real local stack (`npm run stack -- up`).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            '{core,infra,stack,cli,schemas,producers,processors,experiments,control-plane,dashboards,bench}/**/*.test.ts',
          ],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // Integration files share one broker and, in embedded mode, one chDB per process:
          // each file gets its own process (forks) and its own topics and database.
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
