/**
 * globalSetup of `npm run test:engines`: installs the pinned toolchain (a no-op when cached), starts one local plane for
 * the first environment in deploy order in a folder and on ports of its own (a developer's `npm run local -- up` is left
 * alone), hands its connection to the tests, and stops and removes it afterwards. Nothing is skipped: a missing Java,
 * Python or download fails the run with what is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadEnvironments } from '../../environments/load';
import { loadPipelines } from '../../pipelines/load';
import { installToolchain } from '../toolchain/toolchain';
import { down, freePortBase, planeDir, portsFrom, up, type Connection } from './plane';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The plane the engine tests share. */
    plane: {
      /** DRIFTLESS_LOCAL_DIR for scripts that find the plane by environment (`npm run produce -- --local`). */
      readonly root: string;
      readonly dir: string;
      readonly environment: string;
      readonly connection: Connection;
    };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`engines: ${line}\n`);
  const started = Date.now();
  const toolchain = await installToolchain(log, undefined, { goTools: true });
  log(`toolchain ready (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  // The Spark-only tests (parity, windows) run the runtime's functions with the toolchain's pyspark.
  process.env['DRIFTLESS_PYTHON'] ??= toolchain.python;
  const environments = await loadEnvironments();
  const env = environments[0];
  if (env === undefined) throw new Error('environments/ holds no environment: the engine tests run the pipelines in the first one');
  const pipelines = await loadPipelines(undefined, environments.map((e) => e.name));
  const root = mkdtempSync(join(tmpdir(), 'driftless-engines-'));
  const dir = planeDir(env.name, root);
  let connection: Connection;
  try {
    connection = await up({ env, pipelines, toolchain, dir, ports: portsFrom(await freePortBase()), log });
  } catch (error) {
    await down(dir, toolchain, log).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  log(`local plane of ${env.name} up in ${dir} (${((Date.now() - started) / 1000).toFixed(0)} s since the start)`);
  project.provide('plane', { root, dir, environment: env.name, connection });
  return async () => {
    await down(dir, toolchain, log);
    if (process.env['DRIFTLESS_KEEP_ENGINES'] === '1') log(`kept ${root} (DRIFTLESS_KEEP_ENGINES=1)`);
    else rmSync(root, { recursive: true, force: true });
  };
}
