import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline } from './schema';

/** The folder under pipelines/ that holds the PySpark runtime every pipeline shares (not a pipeline itself). */
export const RUNTIME_FOLDER = 'runtime';

/** The runtime's entry point: the file a SparkApplication runs. */
export const RUNTIME_ENTRY = 'driftless_runtime.py';

/** One file of a pipeline's job code, as uploaded to the artifacts bucket. */
export interface JobFile {
  /** File name under `pipelines/<name>/<hash>/` in the artifacts bucket. */
  readonly name: string;
  /** Path in this repository, relative to its root. */
  readonly source: string;
  readonly content: Buffer;
}

/** The code a pipeline's Spark job runs, and the content hash it is published and referenced under. */
export interface JobCode {
  readonly files: readonly JobFile[];
  /** First 16 hex digits of a SHA-256 over every file's name and content: a changed job is a changed manifest. */
  readonly hash: string;
}

/**
 * Reads a pipeline's job code (the shared runtime and the pipeline's SQL steps) from `pipelinesDir`, the runtime
 * from `runtimeDir` (the `runtime` folder beside the pipelines unless given).
 */
export function readJobCode(pipeline: Pipeline, pipelinesDir: string, runtimeDir: string = join(pipelinesDir, RUNTIME_FOLDER)): JobCode {
  const files: JobFile[] = [
    { name: RUNTIME_ENTRY, source: `pipelines/${RUNTIME_FOLDER}/${RUNTIME_ENTRY}`, content: readFileSync(join(runtimeDir, RUNTIME_ENTRY)) },
    ...pipeline.steps.map((step) => ({ name: step, source: `pipelines/${pipeline.name}/${step}`, content: readFileSync(join(pipelinesDir, pipeline.name, step)) })),
  ];
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${file.name}\0${file.content.length}\0`).update(file.content);
  return { files, hash: digest.digest('hex').slice(0, 16) };
}
