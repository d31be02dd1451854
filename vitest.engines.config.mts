import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `npm run test:engines`: the pipelines and the local plane on real engines (Kafka, HDFS, the S3 emulator, Spark). One
 * plane is started for the whole run (scripts/local/engines-setup.ts) and the files run one after another: they share
 * it, and two Spark drivers at once would not fit two cores.
 */
export default defineConfig({
  test: {
    include: ['**/*.engines.test.ts'],
    exclude: [...configDefaults.exclude, '.cache/**', '.local/**'],
    // The leftover guard first: the run gets a private temporary folder and fails if it leaves anything behind.
    globalSetup: ['scripts/leftover-guard.ts', 'scripts/local/engines-setup.ts'],
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 10 * 60_000,
    // One line per test as it finishes: a run of many minutes must show where it is.
    reporters: ['verbose'],
  },
});
