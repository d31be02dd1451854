import { defineConfig } from 'vitest/config';

/** The tests on the real engines (Spark and the rest): `*.engines.test.ts`, each saying what it needs. */
export default defineConfig({
  test: {
    globalSetup: ['scripts/leftover-guard.ts'],
    include: ['**/*.engines.test.ts'],
    exclude: ['**/node_modules/**'],
    // One Spark session runs every case of a test file; its start alone takes seconds.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
