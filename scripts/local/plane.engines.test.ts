/**
 * The local plane against what the manifests and the environment say, checked on the running engines: every topic,
 * user and ACL of the rendered KafkaTopics and KafkaUsers is on the broker and nothing more is allowed; HDFS has its
 * datanodes and the environment's replication; the buckets encrypt with the environment's key; `status --json` tells
 * scripts all of it; and a machine without Java or Python gets one line saying what to install.
 */
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketName, BUCKETS, PIPELINE_HDFS_USER, SPARK_EVENT_LOG_PREFIX } from '../../environments/naming';
import { pipelineDirectories } from '../../k8s/charts/hdfs-chart';
import { query } from '../local';
import { connectPlatformatic } from '../produce';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand } from '../run-command';
import { describeKafka, enginePlane, s3, type EnginePlane } from './engines-testing';
import { hdfsHealth } from './hdfs';
import { kafkaPlan } from './manifests';
import { dataKeyArn } from './s3';

let plane: EnginePlane;

beforeAll(async () => {
  plane = await enginePlane();
});

/** The messages of an error and every error inside it: the client wraps the broker's answer in several layers. */
function messages(error: unknown, seen = new Set<unknown>()): string[] {
  if (typeof error !== 'object' || error === null || seen.has(error)) return [];
  seen.add(error);
  const { message, cause, errors } = error as { message?: string; cause?: unknown; errors?: unknown[] };
  return [message ?? '', ...messages(cause, seen), ...(errors ?? []).flatMap((e) => messages(e, seen))];
}

async function failure(action: Promise<unknown>): Promise<string> {
  try {
    await action;
  } catch (error) {
    return messages(error).join(' | ');
  }
  throw new Error('the broker accepted what it should refuse');
}

const local = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  runCommand(process.execPath, ['--import', 'tsx', 'scripts/local.ts', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DRIFTLESS_LOCAL_DIR: plane.root, ...env } });

describe('the local plane', () => {
  it('holds exactly the topics, users and ACLs of the rendered KafkaTopics and KafkaUsers', async () => {
    const rendered = kafkaPlan(plane.env, plane.pipelines, () => '');
    const broker = (await describeKafka(plane)) as {
      topics: Record<string, { partitions: number; config: Record<string, string> }>;
      users: Record<string, unknown>;
      acls: Record<string, Array<{ resource: unknown; operations: string[] }>>;
    };
    expect(Object.keys(broker.topics).filter((t) => !t.startsWith('__')).sort()).toEqual(rendered.topics.map((t) => t.name).sort());
    for (const topic of rendered.topics) {
      expect(broker.topics[topic.name]?.partitions, topic.name).toBe(topic.partitions);
      expect(broker.topics[topic.name]?.config, topic.name).toMatchObject(topic.config);
    }
    expect(Object.keys(broker.users).sort()).toEqual(['admin', ...rendered.users.map((u) => u.name)].sort());
    for (const user of rendered.users) {
      const acls = (broker.acls[`User:${user.name}`] ?? []).map((a) => ({ resource: a.resource, operations: [...a.operations].sort() }));
      const wanted = user.acls.map((a) => ({ resource: a.resource, operations: [...a.operations].sort() }));
      const key = (a: { resource: unknown }) => {
        const { type, name, patternType } = a.resource as Record<string, string>;
        return `${type}|${name}|${patternType}`;
      };
      expect(acls.sort((a, b) => key(a).localeCompare(key(b))), user.name).toEqual(wanted.sort((a, b) => key(a).localeCompare(key(b))));
    }
  });

  it("refuses a pipeline's user on a topic its KafkaUser does not name, over SASL_SSL with the local CA", async () => {
    const rendered = kafkaPlan(plane.env, plane.pipelines, () => '');
    const [user] = rendered.users;
    expect(user).toBeDefined();
    const own = new Set(user!.acls.filter((a) => a.resource.type === 'topic').map((a) => a.resource.name));
    const foreign = rendered.topics.find((t) => !own.has(t.name));
    if (foreign === undefined) throw new Error(`every topic belongs to ${user!.name}: the engine suite needs a second pipeline with a topic`);
    const producer = await connectPlatformatic({
      bootstrap: plane.connection.kafka.endpoint,
      ca: readFileSync(plane.connection.kafka.caFile, 'utf8'),
      username: user!.name,
      password: plane.connection.users.kafka[user!.name]!,
    });
    try {
      expect(await failure(producer.send(foreign.name, [{ key: 'k', value: 'v' }]))).toMatch(/Topic authorization failed/);
    } finally {
      await producer.close();
    }
  });

  it('rejects a wrong password', async () => {
    const producer = await connectPlatformatic({
      bootstrap: plane.connection.kafka.endpoint,
      ca: readFileSync(plane.connection.kafka.caFile, 'utf8'),
      username: 'admin',
      password: 'not-the-password',
    });
    try {
      const [topic] = kafkaPlan(plane.env, plane.pipelines, () => '').topics;
      expect(await failure(producer.send(topic!.name, [{ key: 'k', value: 'v' }]))).toMatch(/SASL authentication failed/);
    } finally {
      await producer.close();
    }
  });

  it("runs HDFS with at least three live datanodes and the environment's replication", async () => {
    const health = await hdfsHealth(Number(new URL(plane.connection.hdfs.http).port), 3);
    expect(health.liveDatanodes).toBeGreaterThanOrEqual(3);
    expect(health.up).toBe(true);
    expect(plane.connection.hdfs.replication).toBe(plane.env.hdfs.dfsReplication);
  });

  it("holds every pipeline's HDFS directory, made by the rendered Job's commands, owned by the pipelines' user with the Job's mode", async () => {
    const directories = pipelineDirectories(plane.pipelines);
    if (directories.length === 0) throw new Error('no pipeline of this plane uses HDFS: add one, or this check proves nothing');
    for (const { path, mode } of directories) {
      const response = await fetch(`${plane.connection.hdfs.http}/webhdfs/v1${path}?op=GETFILESTATUS&user.name=${PIPELINE_HDFS_USER}`);
      expect(response.status, path).toBe(200);
      const { FileStatus: status } = (await response.json()) as { FileStatus: { type: string; owner: string; permission: string } };
      expect({ path, type: status.type, owner: status.owner, permission: status.permission }).toEqual({ path, type: 'DIRECTORY', owner: PIPELINE_HDFS_USER, permission: mode });
    }
  });

  it("refuses the pipelines' user a directory of its own at the root: only the platform's Job may create them", async () => {
    const response = await fetch(`${plane.connection.hdfs.http}/webhdfs/v1/engines-test-not-given?op=MKDIRS&user.name=${PIPELINE_HDFS_USER}`, { method: 'PUT' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('AccessControlException');
  });

  it("writes Spark's event log to the logs bucket in Spark's rolling layout, files the History Server reads one by one", async () => {
    const [pipeline] = plane.pipelines;
    if (!pipeline) throw new Error('the plane has no pipeline whose Spark settings to run with');
    const client = s3(plane);
    try {
      const Bucket = bucketName(plane.env, 'logs');
      const list = async () => ((await client.send(new ListObjectsV2Command({ Bucket, Prefix: SPARK_EVENT_LOG_PREFIX }))).Contents ?? []).map((o) => o.Key!);
      const before = new Set(await list());
      await client.send(new PutObjectCommand({ Bucket: bucketName(plane.env, 'raw'), Key: 'engines-test/event-log.txt', Body: '{"line":1}\n' }));
      const rows = await query({ ...plane, pipeline, rejects: false, text: `s3a://${bucketName(plane.env, 'raw')}/engines-test/event-log.txt` });
      expect(rows).toEqual([{ line: 1 }]);
      // Spark's rolling layout: a folder per application with numbered event files and an app-status marker.
      const added = (await list()).filter((key) => !before.has(key));
      expect(added.some((key) => /eventlog_v2_[^/]+\/events_1_[^/]+$/.test(key)), added.join(', ')).toBe(true);
      expect(added.some((key) => /eventlog_v2_[^/]+\/appstatus_[^/]+$/.test(key)), added.join(', ')).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it("encrypts every data bucket with the environment's key by default, as the data-lake stack does", async () => {
    const client = s3(plane);
    try {
      for (const purpose of BUCKETS.filter((p) => p !== 'logs')) {
        const Bucket = bucketName(plane.env, purpose);
        await client.send(new PutObjectCommand({ Bucket, Key: 'engines-test/plain.txt', Body: 'no headers' }));
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: 'engines-test/plain.txt' }));
        expect(head.ServerSideEncryption, purpose).toBe('aws:kms');
        expect(head.SSEKMSKeyId, purpose).toBe(dataKeyArn(plane.env));
      }
    } finally {
      client.destroy();
    }
  });

  it('prints one JSON object with each engine, its health and the local credentials', async () => {
    const result = await local(['status', '--json', '--env', plane.env.name]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, any>;
    expect(status['health']).toEqual({ kafka: true, hdfs: true, s3: true });
    expect(status['kafka'].endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(status['hdfs'].endpoint).toMatch(/^hdfs:\/\/127\.0\.0\.1:\d+$/);
    expect(status['s3'].endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(status['users'].kafka).sort()).toEqual(['admin', ...kafkaPlan(plane.env, plane.pipelines, () => '').users.map((u) => u.name)].sort());
  });

  it('says in one line what to install when Java or Python is missing', async () => {
    const noJava = await local(['status', '--env', plane.env.name], { JAVA_HOME: '/nonexistent-jdk' });
    // status needs no engine toolchain; up does, and says so before starting anything.
    const up = await local(['up', '--env', plane.env.name], { JAVA_HOME: '/nonexistent-jdk', DRIFTLESS_LOCAL_DIR: `${plane.root}/other` });
    expect(noJava.code).toBe(0);
    expect(up.code).toBe(1);
    expect(up.stderr.trim().split('\n')).toHaveLength(1);
    expect(up.stderr).toMatch(/Java 17 or newer.*install a JDK/);
    const noPython = await local(['up', '--env', plane.env.name], { DRIFTLESS_PYTHON_BASE: '/nonexistent-python3', DRIFTLESS_LOCAL_DIR: `${plane.root}/other` });
    expect(noPython.code).toBe(1);
    expect(noPython.stderr.trim().split('\n')).toHaveLength(1);
    expect(noPython.stderr).toMatch(/Python 3\.10 or newer.*install python3/);
  });
});
