import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The real-engine tests run in `npm run test:engines` (vitest.engines.config.mts), never in the fast suite; the
    // toolchain's cache and the local plane hold other projects' sources (Go modules ship their own *.spec.js).
    include: ['**/*.test.ts'],
    exclude: [...configDefaults.exclude, '**/*.engines.test.ts', '.cache/**', '.local/**'],
    // The run gets a private temporary folder and fails if it leaves anything there or in the work tree.
    globalSetup: ['scripts/leftover-guard.ts'],
  },
});
