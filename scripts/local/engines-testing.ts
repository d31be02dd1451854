/**
 * What the real-engine tests share (tests only): the plane that engines-setup.ts started, and the same entry points a
 * user has — `npm run produce -- --local`, the pipeline started as `npm run local -- run` starts it, and its output read
 * as `npm run local -- query` reads it.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { bucketName, type BucketPurpose } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../../pipelines/load';
import { query, startPipeline } from '../local';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';
import { installedToolchain, type Toolchain } from '../toolchain/toolchain';
import { kafkaAdmin, type LocalKafka } from './kafka';
import type { Connection } from './plane';
import { localS3Client } from './s3';

/** The shared plane, its environment and pipelines. */
export interface EnginePlane {
  readonly env: Environment;
  readonly pipelines: readonly LoadedPipeline[];
  readonly connection: Connection;
  readonly toolchain: Toolchain;
  readonly root: string;
  readonly dir: string;
}

export async function enginePlane(): Promise<EnginePlane> {
  const provided = inject('plane');
  const environments = await loadEnvironments();
  const env = environments.find((e) => e.name === provided.environment)!;
  const pipelines = await loadPipelines(undefined, environments.map((e) => e.name));
  return { env, pipelines, connection: provided.connection, toolchain: await installedToolchain(), root: provided.root, dir: provided.dir };
}

/** The pipeline of the folder a test file sits in: a pipeline's tests follow it through a copy or a rename. */
export function pipelineOfFolder(plane: EnginePlane, testFile: string): LoadedPipeline {
  const name = testFile.split('/').slice(-2, -1)[0];
  const pipeline = plane.pipelines.find((p) => p.name === name);
  if (!pipeline) throw new Error(`no pipeline named after the folder of ${testFile}`);
  return pipeline;
}

export function s3(plane: EnginePlane): S3Client {
  return localS3Client(plane.env, Number(new URL(plane.connection.s3.endpoint).port));
}

export async function putObject(plane: EnginePlane, purpose: BucketPurpose, key: string, body: string | Buffer): Promise<void> {
  const client = s3(plane);
  try {
    await client.send(new PutObjectCommand({ Bucket: bucketName(plane.env, purpose), Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** Keys and their server-side encryption under a prefix. */
export async function listObjects(plane: EnginePlane, purpose: BucketPurpose, prefix: string): Promise<string[]> {
  const client = s3(plane);
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucketName(plane.env, purpose), Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}

export async function deletePrefix(plane: EnginePlane, purpose: BucketPurpose, prefix: string): Promise<void> {
  const keys = await listObjects(plane, purpose, prefix);
  if (keys.length === 0) return;
  const client = s3(plane);
  try {
    await client.send(new DeleteObjectsCommand({ Bucket: bucketName(plane.env, purpose), Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  } finally {
    client.destroy();
  }
}

export async function getObject(plane: EnginePlane, purpose: BucketPurpose, key: string): Promise<string> {
  const client = s3(plane);
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucketName(plane.env, purpose), Key: key }));
    return await object.Body!.transformToString();
  } finally {
    client.destroy();
  }
}

/** A driver started as `npm run local -- run` starts it, in a process group of its own. */
export interface Driver {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** Signals the driver's whole process group (spark-submit, the JVM and the Python driver). */
  kill(signal: NodeJS.Signals): void;
  logTail(): string;
}

let drivers = 0;

export async function startDriver(plane: EnginePlane, pipeline: LoadedPipeline, options: { readonly date?: string } = {}): Promise<Driver> {
  const logFile = join(plane.dir, `driver-${pipeline.name}-${++drivers}.log`);
  const child = await startPipeline({ ...plane, pipeline, output: { logFile }, ...(options.date ? { date: options.date } : {}) });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    logFile,
    exited,
    kill: (signal) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Gone already.
      }
    },
    logTail: () => (existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 40) : '(no log)'),
  };
}

/** Runs a batch pipeline for a day to its end; fails with the driver's log if it does not exit 0. */
export async function runBatch(plane: EnginePlane, pipeline: LoadedPipeline, date: string): Promise<void> {
  const driver = await startDriver(plane, pipeline, { date });
  const code = await driver.exited;
  if (code !== 0) throw new Error(`${pipeline.name} --date ${date} exited ${code}:\n${driver.logTail()}`);
}

/** Stops a stream as Ctrl-C would, and waits for it. */
export async function stopDriver(driver: Driver): Promise<void> {
  driver.kill('SIGTERM');
  const ended = await Promise.race([driver.exited.then(() => true), sleep(60_000).then(() => false)]);
  if (!ended) {
    driver.kill('SIGKILL');
    await driver.exited;
  }
}

export function queryRows(plane: EnginePlane, pipeline: LoadedPipeline, rejects = false): Promise<Array<Record<string, unknown>>> {
  return query({ ...plane, pipeline, rejects });
}

/** `npm run produce -- --local --env <env> --pipeline <name> --file <csv>`, as a user runs it. */
export async function produce(plane: EnginePlane, pipeline: LoadedPipeline, file: string): Promise<string> {
  const result = await runCommand(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'produce.ts'), '--local', '--env', plane.env.name, '--pipeline', pipeline.name, '--file', file],
    { cwd: PROJECT_ROOT, env: { ...process.env, DRIFTLESS_LOCAL_DIR: plane.root } },
  );
  if (result.code !== 0) throw new Error(`npm run produce failed (${result.code}):\n${tail(result.stderr + result.stdout)}`);
  return result.stdout;
}

function localKafka(plane: EnginePlane): LocalKafka {
  const port = Number(plane.connection.kafka.endpoint.split(':')[1]);
  return { classpath: plane.toolchain.jars('kafka'), dataDir: join(plane.dir, 'kafka'), port, controllerPort: port + 1, java: plane.toolchain.java };
}

/** The consumer group's lag on the topics, summed over partitions, from the broker. */
export async function consumerLag(plane: EnginePlane, group: string, topics: readonly string[]): Promise<number> {
  const lag = (await kafkaAdmin(localKafka(plane), 'lag', [group, ...topics])) as { total: number };
  return lag.total;
}

/** What the broker holds: topics with their configs, users, ACLs. */
export function describeKafka(plane: EnginePlane): Promise<unknown> {
  return kafkaAdmin(localKafka(plane), 'describe');
}

/** Polls until `check` returns true, at most `timeoutMs`; `what` names the wait in the failure. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, driver?: Driver): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(2_000)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s${driver ? `; the driver's log ends:\n${driver.logTail()}` : ''}`);
  }
}
