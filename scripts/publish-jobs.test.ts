import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';
import { jobSpec } from '../pipelines/job-spec';
import { loadPipelines, type LoadedPipeline } from '../pipelines/load';
import { fixtureEnvironment, fixtureEnvironments, FIXTURE_INPUTS } from './fixtures/environments';
import { fixturePipelines } from './fixtures/pipelines';
import { publishJobs, type S3Like } from './publish-jobs';
import { fixtureProject } from './test-projects';

const SLOW = { timeout: 60_000 };

// Exact values come from the fixture environment lab and the fixture pipelines; the property that uploads and
// manifests agree is checked over the project's own environments and pipelines too.
const { accountId: ACCOUNT, region: REGION } = FIXTURE_INPUTS.lab.aws;
const ARTIFACTS = `driftless-lab-artifacts-${ACCOUNT}-${REGION}`;

type Sent = { readonly op: 'HeadObject' | 'PutObject'; readonly input: Record<string, unknown> };

/**
 * An in-memory bucket store speaking the two commands. `existing` holds `<bucket>/<key>` of stored objects;
 * `fail` may return an error for a command, which is then thrown instead of answering.
 */
function fakeS3(existing = new Set<string>(), fail?: (sent: Sent) => Error | undefined) {
  const sent: Sent[] = [];
  const client: S3Like = {
    async send(command) {
      const op = command instanceof HeadObjectCommand ? 'HeadObject' : command instanceof PutObjectCommand ? 'PutObject' : undefined;
      if (op === undefined) throw new Error(`unexpected command ${command.constructor.name}`);
      const entry: Sent = { op, input: { ...command.input } };
      sent.push(entry);
      const error = fail?.(entry);
      if (error) throw error;
      const id = `${String(entry.input.Bucket)}/${String(entry.input.Key)}`;
      if (op === 'PutObject') {
        existing.add(id);
        return {};
      }
      // What the SDK makes of a 404 to a HEAD: no body, so the name comes from the status alone.
      if (!existing.has(id)) throw new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } });
      return {};
    },
  };
  return { client, sent, existing };
}

const awsError = (name: string, httpStatusCode: number, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message });

const lab = fixtureEnvironment('lab');
let pipelines: LoadedPipeline[];
beforeAll(async () => {
  pipelines = await fixturePipelines();
});

/** `s3a://bucket/key` of every file, as the manifests reference it: the job's codeUri plus the file name. */
const referencedUris = (env: Environment, of: readonly LoadedPipeline[] = pipelines) =>
  of.flatMap((pipeline) => pipeline.code.files.map((file) => `${jobSpec(env, pipeline).codeUri}${file.name}`));

const fileCount = () => pipelines.reduce((sum, pipeline) => sum + pipeline.code.files.length, 0);

function run(client: S3Like, options: { env?: Environment; dryRun?: boolean; pipelines?: readonly LoadedPipeline[] } = {}) {
  const lines: string[] = [];
  const result = publishJobs({
    env: options.env ?? lab,
    pipelines: options.pipelines ?? pipelines,
    client,
    dryRun: options.dryRun ?? false,
    log: (line) => lines.push(line),
  });
  return { result, lines };
}

describe('publishJobs', () => {
  it('uploads every file of every pipeline once, under its code hash, encrypted with the data key', async () => {
    expect(pipelines.map((pipeline) => pipeline.name)).toEqual(['clicks', 'ledger', 'readings']);
    const s3 = fakeS3();
    const { result, lines } = run(s3.client);
    await expect(result).resolves.toEqual({ uploaded: fileCount(), unchanged: 0 });

    const puts = s3.sent.filter((s) => s.op === 'PutObject').map((s) => s.input);
    expect(puts).toHaveLength(fileCount());
    for (const pipeline of pipelines) {
      for (const file of pipeline.code.files) {
        const key = `pipelines/${pipeline.name}/${pipeline.code.hash}/${file.name}`;
        const matching = puts.filter((put) => put.Key === key);
        expect(matching, key).toHaveLength(1);
        const put = matching[0] as Record<string, unknown>;
        expect(put.Bucket).toBe(ARTIFACTS);
        expect(Buffer.compare(put.Body as Buffer, file.content), `body of ${key}`).toBe(0);
        expect(put).toMatchObject({
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/driftless-lab-data`,
          BucketKeyEnabled: true,
          ChecksumAlgorithm: 'SHA256',
          ExpectedBucketOwner: ACCOUNT,
          ContentType: file.name.endsWith('.py') ? 'text/x-python' : file.name.endsWith('.sql') ? 'application/sql' : 'application/octet-stream',
        });
      }
    }
    // Each upload is checked first, and only once.
    expect(s3.sent.map((s) => s.op)).toEqual(puts.flatMap(() => ['HeadObject', 'PutObject']));
    expect(lines.filter((line) => line.startsWith('uploaded s3://'))).toHaveLength(fileCount());
    expect(lines.at(-1)).toBe(`${fileCount()} uploaded, 0 unchanged`);
  });

  it.each([
    ['the fixture environments and pipelines', async () => ({ environments: fixtureEnvironments(), pipelines: await fixturePipelines() })],
    ["the project's own", async () => ({ environments: await loadEnvironments(), pipelines: await loadPipelines() })],
  ])('uploads to exactly the keys that the manifests reference (jobSpec codeUri + file name), in every environment, for %s', async (_, load) => {
    const project = await load();
    expect(project.environments.length).toBeGreaterThan(0);
    for (const env of project.environments) {
      const s3 = fakeS3();
      await run(s3.client, { env, pipelines: project.pipelines }).result;
      const uploaded = s3.sent.filter((s) => s.op === 'PutObject').map((s) => `s3a://${String(s.input.Bucket)}/${String(s.input.Key)}`);
      expect(uploaded.sort(), env.name).toEqual(referencedUris(env, project.pipelines).sort());
    }
  });

  it('uploads nothing on a second run: the objects are there and immutable', async () => {
    const s3 = fakeS3();
    await run(s3.client).result;
    const afterFirst = s3.sent.length;

    const { result, lines } = run(s3.client);
    await expect(result).resolves.toEqual({ uploaded: 0, unchanged: fileCount() });
    const second = s3.sent.slice(afterFirst);
    expect(second.map((s) => s.op)).toEqual(Array(fileCount()).fill('HeadObject'));
    expect(lines.filter((line) => line.startsWith('unchanged s3://'))).toHaveLength(fileCount());
    expect(lines.at(-1)).toBe(`0 uploaded, ${fileCount()} unchanged`);
  });

  it('uploads only the files that are missing', async () => {
    const first = referencedUris(lab)[0]?.replace(/^s3a:\/\//, '') as string;
    const s3 = fakeS3(new Set([first]));
    await expect(run(s3.client).result).resolves.toEqual({ uploaded: fileCount() - 1, unchanged: 1 });
    expect(s3.sent.filter((s) => s.op === 'PutObject').map((s) => `${String(s.input.Bucket)}/${String(s.input.Key)}`)).not.toContain(first);
  });

  it('fails on a HeadObject error other than 404, naming the key, and attempts nothing after it', async () => {
    const heads = { count: 0 };
    const s3 = fakeS3(new Set(), (s) => (s.op === 'HeadObject' && ++heads.count === 2 ? awsError('AccessDenied', 403, 'Access Denied') : undefined));
    const { result } = run(s3.client);
    await expect(result).rejects.toThrow(new RegExp(`^HeadObject s3://\\S+ failed: AccessDenied \\(HTTP 403\\): Access Denied\n {2}access denied: run as the deploy role of account ${ACCOUNT}`));
    const failedKey = String(s3.sent[2]?.input.Key);
    await expect(result).rejects.toThrow(`s3://${ARTIFACTS}/${failedKey} failed`);
    expect(s3.sent.map((s) => s.op)).toEqual(['HeadObject', 'PutObject', 'HeadObject']);
  });

  it('stops at the first failed upload and reports the key and what to do', async () => {
    const s3 = fakeS3(new Set(), (s) => (s.op === 'PutObject' ? awsError('NoSuchBucket', 404, 'The specified bucket does not exist') : undefined));
    const { result } = run(s3.client);
    const key = String(referencedUris(lab)[0]).replace(/^s3a:/, 's3:');
    await expect(result).rejects.toThrow(`PutObject ${key} failed: NoSuchBucket (HTTP 404): The specified bucket does not exist`);
    await expect(result).rejects.toThrow('apply the lab-data-lake stack first');
    expect(s3.sent.map((s) => s.op)).toEqual(['HeadObject', 'PutObject']);
  });

  it.each([
    ['a HEAD 403 without a body', awsError('Unknown', 403, 'UnknownError'), `access denied: run as the deploy role of account ${ACCOUNT}`],
    ['a redirect to another region', awsError('Unknown', 301, 'UnknownError'), `wrong region: environments/lab.ts says ${REGION}`],
    ['missing credentials', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'no AWS credentials'],
  ])('explains %s', async (_, error, hint) => {
    const s3 = fakeS3(new Set(), () => error);
    await expect(run(s3.client).result).rejects.toThrow(hint);
    expect(s3.sent).toHaveLength(1);
  });

  it('makes no client call in a dry run and lists every file with its size', async () => {
    const refusing: S3Like = {
      send: () => {
        throw new Error('a dry run must not call AWS');
      },
    };
    const { result, lines } = run(refusing, { dryRun: true });
    await expect(result).resolves.toEqual({ uploaded: 0, unchanged: 0 });
    const expected = pipelines.flatMap((pipeline) =>
      pipeline.code.files.map((file) => `would upload s3://${ARTIFACTS}/pipelines/${pipeline.name}/${pipeline.code.hash}/${file.name} (${file.content.length} bytes)`),
    );
    expect(lines.slice(0, -1)).toEqual(expected);
    expect(lines.at(-1)).toMatch(new RegExp(`^dry run: ${fileCount()} files \\(\\d+ bytes\\) of ${pipelines.length} pipelines for lab`));
  });
});

describe('npm run publish-jobs', () => {
  // In a copy with the fixture environments and pipelines, so that its keys are those computed above.
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-publish-jobs-test-'));
  const project = join(scratch, 'project');
  beforeAll(() => fixtureProject(project));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const script = (args: string[]) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/publish-jobs.ts', ...args], {
      cwd: project,
      encoding: 'utf8',
      // Any AWS call would go to a closed port with made-up credentials and fail the run.
      env: { ...process.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('prints every key the manifests reference in a dry run and exits 0', SLOW, () => {
    const { status, stdout, stderr } = script(['--dry-run', '--env', 'lab']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const printed = [...stdout.matchAll(/^would upload (s3:\/\/\S+) \(\d+ bytes\)$/gm)].map((m) => m[1]);
    expect(printed).toEqual(referencedUris(lab).map((uri) => uri.replace(/^s3a:/, 's3:')));
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^dry run: \d+ files .*nothing was sent to AWS$/);
  });

  it.each([
    ['no options', []],
    ['--env without a value', ['--env']],
    ['an unknown environment', ['--env', 'qa', '--dry-run']],
    ['an unknown option', ['--env', 'lab', '--dry-run', '--force']],
    ['a positional argument', ['lab', '--dry-run']],
    ['--env twice', ['--env', 'lab', '--env', 'live', '--dry-run']],
  ])('exits 1 with one line naming the rule and the allowed values for %s', SLOW, (_, args) => {
    const { status, stdout, stderr } = script(args);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^publish-jobs: .+; usage: npm run publish-jobs -- --env <name> \[--dry-run\] \(an environment: a file in environments\/\)$/);
  });

  it('names the bad value and the allowed environments', SLOW, () => {
    expect(script(['--env', 'qa']).stderr).toContain("option '--env' must be one of lab, live, trial (the files in environments/), got 'qa'");
    expect(script(['--env', 'lab', '--force']).stderr).toContain("Unknown option '--force'");
  });
});
