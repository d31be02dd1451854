/**
 * The pipeline image (pipelines/runtime/Dockerfile): what it is built from, and the tag it is pushed and referenced
 * under, a content hash of those files computed at synth time like the job code's, so that a changed image is a
 * changed manifest and an unchanged one never is.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineImageRepository } from '../../environments/naming';
import type { Environment } from '../../environments/schema';

/** The image's working directory (its WORKDIR, as in the official Spark image), where Spark puts a job's files. */
export const SPARK_WORK_DIR = '/opt/spark/work-dir';

/** The files the image is built from, in pipelines/runtime: the build context. */
export const IMAGE_FILES = ['Dockerfile', 'fetch_jars.py', 'jars.lock.tsv'] as const;

const RUNTIME_DIR = __dirname;

/** What every tag of the pipeline image starts with; the registry's lifecycle policy counts the images by it. */
export const PIPELINE_IMAGE_TAG_PREFIX = 'sha-';

/** The tag: `sha-` and the first 16 hex digits of a SHA-256 over each image file's name and content. */
export function pipelineImageTag(runtimeDir: string = RUNTIME_DIR): string {
  const digest = createHash('sha256');
  for (const file of IMAGE_FILES) {
    const content = readFileSync(join(runtimeDir, file));
    digest.update(`${file}\0${content.length}\0`).update(content);
  }
  return `${PIPELINE_IMAGE_TAG_PREFIX}${digest.digest('hex').slice(0, 16)}`;
}

/** The Spark image the Dockerfile starts from (its `SPARK_IMAGE` default). */
export function baseImage(runtimeDir: string = RUNTIME_DIR): string {
  const match = /^ARG SPARK_IMAGE=(\S+)$/m.exec(readFileSync(join(runtimeDir, 'Dockerfile'), 'utf8'));
  if (match === null) throw new Error(`${join(runtimeDir, 'Dockerfile')} has no 'ARG SPARK_IMAGE=<image>' line`);
  return match[1]!;
}

/** The environment's registry host (its account's ECR in its region). */
export const registryHost = (env: Pick<Environment, 'aws'>): string => `${env.aws.accountId}.dkr.ecr.${env.aws.region}.amazonaws.com`;

/** The image every Spark pod of the environment runs: its registry, repository and the content tag. */
export function pipelineImage(env: Pick<Environment, 'aws' | 'name'>, tag: string = pipelineImageTag()): string {
  return `${registryHost(env)}/${pipelineImageRepository(env.name)}:${tag}`;
}
