import { describe, expect, it } from 'vitest';
import { loadEnvironments } from './load';
import {
  bucketName,
  BUCKETS,
  clusterName,
  dataKeyAlias,
  deadLetterTopic,
  NAMESPACES,
  pipelineRoleName,
  pipelineServiceAccount,
  renderedPath,
  STACKS,
  stackName,
} from './naming';

const environments = await loadEnvironments();
// S3: 3-63 characters, lower-case letters, digits, dots and dashes, starting and ending with a letter or digit.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Kubernetes DNS-1123 label: what namespace and service account names must be.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('naming', () => {
  it('names stacks <env>-<stack> in apply order', () => {
    expect(STACKS.map((stack) => stackName('prod', stack))).toEqual([
      'prod-network',
      'prod-data-lake',
      'prod-cluster',
      'prod-bootstrap',
    ]);
  });

  it('gives every bucket of every environment a distinct name that S3 accepts', () => {
    const names = environments.flatMap((env) => BUCKETS.map((purpose) => bucketName(env, purpose)));
    for (const name of names) {
      expect(name).toMatch(S3_BUCKET);
      expect(name).not.toContain('..');
    }
    expect(new Set(names).size).toBe(names.length);
    expect(bucketName({ name: 'dev', aws: { accountId: '111111111111', region: 'eu-central-1' } }, 'raw')).toBe(
      'driftless-dev-raw-111111111111-eu-central-1',
    );
  });

  it('keeps bucket names within 63 characters in the longest region name', () => {
    const longest = { name: 'staging' as const, aws: { accountId: '123456789012', region: 'ap-southeast-2' } };
    for (const purpose of BUCKETS) expect(bucketName(longest, purpose).length).toBeLessThanOrEqual(63);
  });

  it('keeps role names within the IAM limit of 64 characters for pipeline names up to 32 characters', () => {
    expect(pipelineRoleName('staging', 'x'.repeat(32)).length).toBeLessThanOrEqual(64);
    expect(pipelineRoleName('prod', 'temperature')).toBe('driftless-prod-pipeline-temperature');
  });

  it('uses DNS labels for namespaces and service accounts', () => {
    for (const namespace of Object.values(NAMESPACES)) expect(namespace).toMatch(DNS_LABEL);
    expect(pipelineServiceAccount('order-events')).toMatch(DNS_LABEL);
    expect(pipelineServiceAccount('order-events')).toBe('spark-order-events');
  });

  it('derives the remaining shared names', () => {
    expect(clusterName('dev')).toBe('driftless-dev');
    expect(dataKeyAlias('prod')).toBe('alias/driftless-prod-data');
    expect(deadLetterTopic('orders')).toBe('orders.dlq');
    expect(renderedPath('staging', 'apps')).toBe('k8s/rendered/staging/apps');
  });
});
