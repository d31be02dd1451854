import { describe, expect, it } from 'vitest';
import { loadEnvironments } from './load';
import { ENVIRONMENT_NAME } from './schema';
import {
  bucketName,
  BUCKETS,
  clusterName,
  dataKeyAlias,
  deadLetterTopic,
  NAMESPACES,
  pipelineRoleName,
  parseStackName,
  pipelineServiceAccount,
  renderedPath,
  STACKS,
  stackName,
} from './naming';

const environments = await loadEnvironments();
// The longest name an environment may have (ENVIRONMENT_NAME): the limits below must hold for it.
const LONGEST_ENVIRONMENT = 'abcdefgh-123';
// S3: 3-63 characters, lower-case letters, digits, dots and dashes, starting and ending with a letter or digit.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Kubernetes DNS-1123 label: what namespace and service account names must be.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('naming', () => {
  it('tests the limits with the longest environment name the schema allows', () => {
    expect(LONGEST_ENVIRONMENT).toMatch(ENVIRONMENT_NAME.pattern);
    expect(`${LONGEST_ENVIRONMENT}x`).not.toMatch(ENVIRONMENT_NAME.pattern);
  });

  it('names stacks <env>-<stack> in apply order', () => {
    expect(STACKS.map((stack) => stackName('live', stack))).toEqual([
      'live-network',
      'live-data-lake',
      'live-cluster',
      'live-bootstrap',
    ]);
  });

  it('reads the environment and stack back from a stack name, also when the environment has dashes', () => {
    for (const env of ['live', 'eu-live', 'a-network', LONGEST_ENVIRONMENT]) {
      for (const stack of STACKS) expect(parseStackName(stackName(env, stack))).toEqual({ env, stack });
    }
    expect(parseStackName('network')).toBeUndefined();
    expect(parseStackName('live-database')).toBeUndefined();
  });

  it('gives every bucket of every environment a distinct name that S3 accepts', () => {
    const names = environments.flatMap((env) => BUCKETS.map((purpose) => bucketName(env, purpose)));
    for (const name of names) {
      expect(name).toMatch(S3_BUCKET);
      expect(name).not.toContain('..');
    }
    expect(new Set(names).size).toBe(names.length);
    expect(bucketName({ name: 'lab', aws: { accountId: '444444444444', region: 'eu-west-1' } }, 'raw')).toBe(
      'driftless-lab-raw-444444444444-eu-west-1',
    );
  });

  it('keeps bucket names within 63 characters in the longest region name', () => {
    const longest = { name: LONGEST_ENVIRONMENT, aws: { accountId: '123456789012', region: 'ap-southeast-2' } };
    for (const purpose of BUCKETS) expect(bucketName(longest, purpose).length).toBeLessThanOrEqual(63);
  });

  it('keeps role names within the IAM limit of 64 characters for pipeline names up to 32 characters', () => {
    expect(pipelineRoleName(LONGEST_ENVIRONMENT, 'x'.repeat(32)).length).toBeLessThanOrEqual(64);
    expect(pipelineRoleName('live', 'readings')).toBe('driftless-live-pipeline-readings');
  });

  it('uses DNS labels for namespaces and service accounts', () => {
    for (const namespace of Object.values(NAMESPACES)) expect(namespace).toMatch(DNS_LABEL);
    expect(pipelineServiceAccount('x'.repeat(32))).toMatch(DNS_LABEL);
    expect(pipelineServiceAccount('click-events')).toBe('spark-click-events');
  });

  it('derives the remaining shared names', () => {
    expect(clusterName('lab')).toBe('driftless-lab');
    expect(dataKeyAlias('live')).toBe('alias/driftless-live-data');
    expect(deadLetterTopic('clicks')).toBe('clicks.dlq');
    expect(renderedPath('trial', 'apps')).toBe('k8s/rendered/trial/apps');
  });
});
