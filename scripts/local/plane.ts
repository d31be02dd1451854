/**
 * The local data plane of one environment: Kafka, HDFS and the S3 emulator as processes on 127.0.0.1, with the
 * environment's topics, users, ACLs, buckets and replication. Its state lives in one folder (`.local/<env>/`, git-ignored),
 * and what clients need lives in `connection.json` there: endpoints, the CA, every local user's password.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { BUCKETS, bucketName, HDFS_CLUSTER } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import type { LoadedPipeline } from '../../pipelines/load';
import { PROJECT_ROOT } from '../project-copy';
import type { Toolchain } from '../toolchain/toolchain';
import { hdfsHealth, localHdfsShell, startLocalHdfs, stopLocalHdfs } from './hdfs';
import { ADMIN_USER, adminConnection, kafkaAdmin, startLocalKafka, stopBroker, type LocalKafka } from './kafka';
import { hdfsDirectoryCommands, kafkaPlan } from './manifests';
import { PIPELINE_DIRECTORIES_JOB } from '../../k8s/charts/hdfs-chart';
import { isRunning, stopGroup } from './processes';
import { createBuckets, LOCAL_AWS_CREDENTIALS, s3Healthy, startS3 } from './s3';

/** Ports of the engines: `DRIFTLESS_LOCAL_PORT_BASE` (default 19400) and the next five. */
export interface PlanePorts {
  readonly kafka: number;
  readonly kafkaController: number;
  readonly namenode: number;
  readonly namenodeHttp: number;
  readonly s3: number;
  /** The AWS API emulator that `local deploy` applies the stacks to (a moto of its own: the plane's holds its own buckets). */
  readonly aws: number;
}

/** A base port with it and the next five free on 127.0.0.1. */
export async function freePortBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768 and up), where the engines' own outgoing connections and the datanodes'
    // ports come from: a free port there can be taken between this check and the bind.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const all = await Promise.all([0, 1, 2, 3, 4, 5].map((offset) => free(base + offset)));
    if (all.every(Boolean)) return base;
  }
  throw new Error('found no six consecutive free ports on 127.0.0.1');
}

export const portsFrom = (base: number): PlanePorts => ({ kafka: base, kafkaController: base + 1, namenode: base + 2, namenodeHttp: base + 3, s3: base + 4, aws: base + 5 });

/** The folder of an environment's local plane: `DRIFTLESS_LOCAL_DIR` (default `.local`) / env. */
export function planeDir(env: string, root = process.env['DRIFTLESS_LOCAL_DIR'] ?? join(PROJECT_ROOT, '.local')): string {
  return join(root, env);
}

/** What `connection.json` holds, and `status --json` prints with each engine's health. */
export interface Connection {
  readonly environment: string;
  readonly kafka: { readonly endpoint: string; readonly protocol: 'SASL_SSL'; readonly mechanism: 'SCRAM-SHA-512'; readonly caFile: string; readonly pid: number };
  readonly hdfs: { readonly endpoint: string; readonly nameservice: string; readonly http: string; readonly datanodes: number; readonly replication: number; readonly pid: number };
  readonly s3: { readonly endpoint: string; readonly region: string; readonly buckets: readonly string[]; readonly pid: number };
  /** Each local user and its password: the Kafka admin and one SCRAM user per pipeline; the AWS test keys. */
  readonly users: { readonly kafka: Readonly<Record<string, string>>; readonly aws: { readonly accessKeyId: string; readonly secretAccessKey: string } };
}

/** The local plane's datanodes: at least three, so that replication 3 is possible, and more if the environment has more. */
export const localDatanodes = (env: Environment): number => Math.max(3, env.hdfs.dfsReplication);

const connectionFile = (dir: string) => join(dir, 'connection.json');

/** The running plane's connection details; undefined when it was never started or was stopped. */
export function readConnection(dir: string): Connection | undefined {
  return existsSync(connectionFile(dir)) ? (JSON.parse(readFileSync(connectionFile(dir), 'utf8')) as Connection) : undefined;
}

function kafkaOf(dir: string, toolchain: Toolchain, ports: Pick<PlanePorts, 'kafka' | 'kafkaController'>): LocalKafka {
  return { classpath: toolchain.jars('kafka'), dataDir: join(dir, 'kafka'), port: ports.kafka, controllerPort: ports.kafkaController, java: toolchain.java };
}

/** Passwords of the pipelines' Kafka users, made once per plane and kept, so that restarts keep clients working. */
function userPasswords(dir: string, names: readonly string[]): Record<string, string> {
  const file = join(dir, 'users.json');
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const all = { ...known };
  for (const name of names) all[name] ??= randomBytes(18).toString('base64url');
  writeSecret(file, `${JSON.stringify(all, null, 2)}\n`);
  return all;
}

function writeSecret(file: string, text: string): void {
  const partial = `${file}.partial`;
  writeFileSync(partial, text, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
}

/**
 * Starts every engine that is not running, applies the environment's topics, users and ACLs and creates its buckets,
 * and writes connection.json. Starting a running plane again only re-applies the topics, users and ACLs.
 */
export async function up(options: {
  readonly env: Environment;
  readonly pipelines: readonly LoadedPipeline[];
  readonly toolchain: Toolchain;
  readonly dir: string;
  readonly ports: PlanePorts;
  readonly log: (line: string) => void;
}): Promise<Connection> {
  const { env, pipelines, toolchain, dir, ports, log } = options;
  mkdirSync(dir, { recursive: true });
  const previous = readConnection(dir);
  const kafka = kafkaOf(dir, toolchain, ports);
  const started: Array<() => Promise<unknown>> = [];
  try {
    let kafkaPid = previous?.kafka.pid;
    if (kafkaPid === undefined || !isRunning(kafkaPid)) {
      log(`starting Kafka on 127.0.0.1:${ports.kafka} (SASL_SSL, SCRAM-SHA-512)`);
      kafkaPid = (await startLocalKafka(kafka)).pid;
      started.push(() => stopBroker(kafka));
    }
    const passwords = userPasswords(
      dir,
      pipelines.map((p) => p.name),
    );
    const plan = kafkaPlan(env, pipelines, (user) => passwords[user] ?? '');
    const planFile = join(dir, 'kafka-plan.json');
    writeSecret(planFile, JSON.stringify(plan));
    try {
      await kafkaAdmin(kafka, 'apply', [planFile]);
    } finally {
      rmSync(planFile, { force: true });
    }
    log(`Kafka: ${plan.topics.length} topics and ${plan.users.length} users with their ACLs, from the pipelines' KafkaTopic and KafkaUser manifests`);

    let hdfsPid = previous?.hdfs.pid;
    const datanodes = localDatanodes(env);
    if (hdfsPid === undefined || !isRunning(hdfsPid)) {
      log(`starting HDFS on 127.0.0.1:${ports.namenode} (a namenode and ${datanodes} datanodes, replication ${env.hdfs.dfsReplication})`);
      hdfsPid = (
        await startLocalHdfs({
          dir: join(dir, 'hdfs'),
          rpcPort: ports.namenode,
          httpPort: ports.namenodeHttp,
          datanodes,
          replication: env.hdfs.dfsReplication,
          classpath: toolchain.jars('hdfs').join(':'),
          java: toolchain.java,
        })
      ).pid;
      started.push(() => stopLocalHdfs(join(dir, 'hdfs')));
    }
    // The pipelines' directories, created as the cluster's Job creates them: a pipeline runs as its own HDFS user.
    const directoryCommands = hdfsDirectoryCommands(env, pipelines);
    for (const args of directoryCommands) {
      await localHdfsShell({ java: toolchain.java, classpath: toolchain.jars('hdfs').join(':'), rpcPort: ports.namenode }, args);
    }
    if (directoryCommands.length > 0) log(`HDFS: the pipelines' directories, from the ${PIPELINE_DIRECTORIES_JOB} Job's ${directoryCommands.length} commands`);

    let s3Pid = previous?.s3.pid;
    if (s3Pid === undefined || !isRunning(s3Pid)) {
      log(`starting the S3 emulator (moto) on 127.0.0.1:${ports.s3}`);
      mkdirSync(join(dir, 's3'), { recursive: true });
      s3Pid = await startS3({ python: toolchain.python, dir: join(dir, 's3'), port: ports.s3, env });
      started.push(() => stopGroup(s3Pid!));
      await createBuckets(env, ports.s3);
    }

    const connection: Connection = {
      environment: env.name,
      kafka: { endpoint: `127.0.0.1:${ports.kafka}`, protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', caFile: adminConnection(kafka).caPath, pid: kafkaPid },
      hdfs: { endpoint: `hdfs://127.0.0.1:${ports.namenode}`, nameservice: HDFS_CLUSTER, http: `http://127.0.0.1:${ports.namenodeHttp}`, datanodes, replication: env.hdfs.dfsReplication, pid: hdfsPid },
      s3: { endpoint: `http://127.0.0.1:${ports.s3}`, region: env.aws.region, buckets: BUCKETS.map((b) => bucketName(env, b)), pid: s3Pid },
      users: { kafka: { [ADMIN_USER]: adminConnection(kafka).password, ...Object.fromEntries(plan.users.map((u) => [u.name, u.password])) }, aws: LOCAL_AWS_CREDENTIALS },
    };
    writeSecret(connectionFile(dir), `${JSON.stringify(connection, null, 2)}\n`);
    return connection;
  } catch (error) {
    // A half-started plane is worse than none: stop what this call started.
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

/** Stops every engine of the plane (data on disk stays; the S3 emulator's, in memory, goes). */
export async function down(dir: string, toolchain: Toolchain | undefined, log: (line: string) => void): Promise<boolean> {
  const connection = readConnection(dir);
  if (connection === undefined) return false;
  await stopGroup(connection.s3.pid);
  await stopLocalHdfs(join(dir, 'hdfs'));
  if (toolchain) {
    const port = Number(connection.kafka.endpoint.split(':')[1]);
    await stopBroker(kafkaOf(dir, toolchain, { kafka: port, kafkaController: port + 1 }));
  } else {
    await stopGroup(connection.kafka.pid);
  }
  rmSync(connectionFile(dir), { force: true });
  log(`stopped the local plane of ${connection.environment}; Kafka's and HDFS's data stay in ${dir}`);
  return true;
}

/** Health of each engine, checked now. */
export interface PlaneHealth {
  readonly kafka: boolean;
  readonly hdfs: boolean;
  readonly s3: boolean;
}

export async function health(connection: Connection): Promise<PlaneHealth> {
  const [host, port] = connection.kafka.endpoint.split(':') as [string, string];
  const kafka = isRunning(connection.kafka.pid) && (await listening(host, Number(port)));
  const hdfsPort = Number(new URL(connection.hdfs.http).port);
  const hdfs = isRunning(connection.hdfs.pid) && (await hdfsHealth(hdfsPort, connection.hdfs.datanodes)).up;
  const s3 = isRunning(connection.s3.pid) && (await s3Healthy(Number(new URL(connection.s3.endpoint).port)).catch(() => false));
  return { kafka, hdfs, s3 };
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
