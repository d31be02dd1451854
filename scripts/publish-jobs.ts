/**
 * `npm run publish-jobs -- --env <name> [--dry-run]`: uploads every pipeline's job code (the shared
 * runtime and the pipeline's SQL steps) to the environment's artifacts bucket, under the content hash
 * that the rendered manifests reference (`jobSpec(env, pipeline).codeUri`). A changed job is therefore a
 * changed manifest: reviewed in the pull request and rolled out by Argo CD, never a silent overwrite.
 *
 * Objects are immutable by construction (the key holds the hash): a key that exists is left alone, and
 * nothing is ever deleted. Credentials come from the default AWS chain (the deploy role); the region and
 * the account from the environment file. `--dry-run` makes no AWS call at all.
 */
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { environmentNames, loadEnvironments } from '../environments/load';
import { bucketName, dataKeyAlias, jobCodePrefix, stackName } from '../environments/naming';
import { ConfigError } from '../environments/problem';
import type { Environment, EnvironmentName } from '../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../pipelines/load';

const USAGE = 'usage: npm run publish-jobs -- --env <name> [--dry-run] (an environment: a file in environments/)';

/** What publishing needs of an S3 client; the script passes an `S3Client`, tests a fake. */
export interface S3Like {
  send(command: HeadObjectCommand | PutObjectCommand): Promise<unknown>;
}

/** One file of one pipeline's job code and where it goes. */
export interface JobUpload {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
  /** Path of the file in this repository. */
  readonly source: string;
}

/** What a run did (or, in a dry run, would do). */
export interface PublishResult {
  readonly uploaded: number;
  readonly unchanged: number;
}

export interface PublishOptions {
  readonly env: Environment;
  readonly pipelines: readonly LoadedPipeline[];
  readonly client: S3Like;
  /** List what would be uploaded; send nothing. @default false */
  readonly dryRun?: boolean;
  /** Receives one line per file and the summary. @default console.log */
  readonly log?: (line: string) => void;
}

/** The user's to fix: bad options. */
export class UsageError extends Error {}

/** An AWS call failed; carries what had been done before it, since nothing is attempted after it. */
export class PublishError extends Error {
  constructor(message: string, readonly done: PublishResult) {
    super(message);
    this.name = 'PublishError';
  }
}

// Spark fetches the files by name, so the type is for people browsing the bucket and for tooling.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.py': 'text/x-python',
  '.sql': 'application/sql',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.txt': 'text/plain',
  '.zip': 'application/zip',
  '.jar': 'application/java-archive',
};

/** Content type of a job file, by its extension. */
export const contentTypeOf = (fileName: string): string => CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';

/** ARN of the data lake's KMS key, by its alias (the key id is only known to Terraform). */
export const dataKeyAliasArn = (env: Environment): string => `arn:aws:kms:${env.aws.region}:${env.aws.accountId}:${dataKeyAlias(env.name)}`;

/** Every file of every pipeline with its bucket and key: `<artifacts bucket>/<jobCodePrefix(name, hash)><file>`. */
export function jobUploads(env: Environment, pipelines: readonly LoadedPipeline[]): JobUpload[] {
  const bucket = bucketName(env, 'artifacts');
  return pipelines.flatMap((pipeline) =>
    pipeline.code.files.map((file) => ({
      bucket,
      key: `${jobCodePrefix(pipeline.name, pipeline.code.hash)}${file.name}`,
      body: file.content,
      contentType: contentTypeOf(file.name),
      source: file.source,
    })),
  );
}

/**
 * Uploads every job file that is not in the artifacts bucket yet, one at a time, and stops at the
 * first failure (throwing PublishError with the key and AWS's message). In a dry run, only lists them.
 */
export async function publishJobs(options: PublishOptions): Promise<PublishResult> {
  const { env, pipelines, client } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const uploads = jobUploads(env, pipelines);
  const uri = (upload: JobUpload) => `s3://${upload.bucket}/${upload.key}`;

  if (options.dryRun) {
    for (const upload of uploads) log(`would upload ${uri(upload)} (${upload.body.length} bytes)`);
    const bytes = uploads.reduce((sum, upload) => sum + upload.body.length, 0);
    log(`dry run: ${uploads.length} files (${bytes} bytes) of ${pipelines.length} pipelines for ${env.name}; nothing was sent to AWS`);
    return { uploaded: 0, unchanged: 0 };
  }

  const keyArn = dataKeyAliasArn(env);
  let uploaded = 0;
  let unchanged = 0;
  for (const upload of uploads) {
    const target = { Bucket: upload.bucket, Key: upload.key, ExpectedBucketOwner: env.aws.accountId };
    const fail = (operation: string, error: unknown) =>
      new PublishError(`${operation} ${uri(upload)} failed: ${describeAwsError(error, env, upload.bucket, keyArn)}`, { uploaded, unchanged });

    let exists: boolean;
    try {
      await client.send(new HeadObjectCommand(target));
      exists = true;
    } catch (error) {
      if (!isNotFound(error)) throw fail('HeadObject', error);
      exists = false;
    }
    if (exists) {
      unchanged += 1;
      log(`unchanged ${uri(upload)}`);
      continue;
    }

    try {
      await client.send(
        new PutObjectCommand({
          ...target,
          Body: upload.body,
          ContentType: upload.contentType,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
          BucketKeyEnabled: true,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    } catch (error) {
      throw fail('PutObject', error);
    }
    uploaded += 1;
    log(`uploaded ${uri(upload)} (${upload.body.length} bytes)`);
  }
  log(`${uploaded} uploaded, ${unchanged} unchanged`);
  return { uploaded, unchanged };
}

/** The shape of an AWS SDK error, read defensively: HEAD responses carry no body, so often only the status. */
interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
}

const statusOf = (error: unknown): number | undefined => (error as AwsErrorLike | undefined)?.$metadata?.httpStatusCode;

// A HEAD of a missing key has no error body: the SDK names it NotFound, from the 404 alone.
function isNotFound(error: unknown): boolean {
  return (error as AwsErrorLike | undefined)?.name === 'NotFound' || statusOf(error) === 404;
}

/** `<AWS error name> (HTTP <status>): <AWS message>`, and what to do about it when the cause is a usual one. */
function describeAwsError(error: unknown, env: Environment, bucket: string, keyArn: string): string {
  const e = (error ?? {}) as AwsErrorLike;
  const status = statusOf(error);
  const name = e.name ?? 'Error';
  const base = `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${e.message ?? String(error)}`;
  const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'];
  let hint: string | undefined;
  if (name === 'CredentialsProviderError') {
    hint = `no AWS credentials: the default chain (AWS_PROFILE, AWS_* variables, SSO, instance role) found none; sign in as the deploy role of account ${env.aws.accountId}`;
  } else if (
    status === 301 ||
    ['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(name) ||
    (bucketRegion !== undefined && bucketRegion !== env.aws.region)
  ) {
    hint = `wrong region: environments/${env.name}.ts says ${env.aws.region}, but bucket ${bucket} is ${bucketRegion === undefined ? 'elsewhere' : `in ${bucketRegion}`}`;
  } else if (name === 'NoSuchBucket') {
    hint = `bucket ${bucket} does not exist: apply the ${stackName(env.name, 'data-lake')} stack first`;
  } else if (name.startsWith('KMS.')) {
    hint = `the data key ${keyArn} cannot be used: it must exist (${stackName(env.name, 'data-lake')} stack) and the deploy role needs kms:GenerateDataKey on it`;
  } else if (status === 403 || ['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'ExpiredToken', 'SignatureDoesNotMatch'].includes(name)) {
    hint =
      `access denied: run as the deploy role of account ${env.aws.accountId} (the bucket must be owned by that account); ` +
      `it needs s3:GetObject, s3:PutObject and s3:ListBucket on ${bucket} and kms:GenerateDataKey on ${keyArn}`;
  }
  return hint === undefined ? base : `${base}\n  ${hint}`;
}

function parseOptions(args: string[]): { env: EnvironmentName; dryRun: boolean } {
  const known = environmentNames();
  const allowed = known.join(', ');
  let values: { env?: string[]; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { env: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // Node's messages go on about positional arguments; the first sentence is the rule that was broken.
    const rule = (error as Error).message.split('. ')[0] ?? '';
    throw new UsageError(`${rule}; ${USAGE}`);
  }
  const env = values.env ?? [];
  if (env.length !== 1) {
    const got = env.length === 0 ? 'nothing' : `'${env.join("', '")}'`;
    throw new UsageError(`option '--env' must be given once, as one of ${allowed}, got ${got}; ${USAGE}`);
  }
  const name = env[0] as string;
  if (!known.includes(name)) {
    throw new UsageError(`option '--env' must be one of ${allowed} (the files in environments/), got '${name}'; ${USAGE}`);
  }
  return { env: name, dryRun: values['dry-run'] ?? false };
}

// Stands in for S3 in a dry run, so that a mistake there fails loudly instead of reaching AWS.
const NO_AWS: S3Like = {
  send: () => Promise.reject(new Error('a dry run makes no AWS calls')),
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // Every environment is validated, as in synth, so that a broken file never hides.
  const env = (await loadEnvironments()).find((candidate) => candidate.name === options.env) as Environment;
  const pipelines = await loadPipelines();
  const client = options.dryRun ? NO_AWS : new S3Client({ region: env.aws.region });
  await publishJobs({ env, pipelines, client, dryRun: options.dryRun });
}

if (typeof require !== 'undefined' && require.main === module) {
  main().catch((error: unknown) => {
    // Usage, configuration and AWS errors say what to fix; anything else is a bug: show where.
    if (error instanceof PublishError) {
      const { uploaded, unchanged } = error.done;
      console.error(`publish-jobs: ${error.message}\nStopped at the first failure (${uploaded} uploaded, ${unchanged} unchanged before it); nothing was deleted.`);
    } else if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(`publish-jobs: ${error.message}`);
    } else {
      console.error(`publish-jobs: ${(error as Error).stack ?? String(error)}`);
    }
    process.exitCode = 1;
  });
}
