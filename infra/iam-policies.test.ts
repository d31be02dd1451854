import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { loadPipelines } from '../pipelines/load';
import { fixtureEnvironments } from '../scripts/fixtures/environments';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { synthesizeStacks } from './synthesized-stacks';

/** Where policy documents live in Terraform JSON: resource type → argument. */
const POLICY_ARGUMENTS: Record<string, string> = {
  aws_iam_role: 'assume_role_policy',
  aws_iam_role_policy: 'policy',
  aws_iam_policy: 'policy',
  aws_s3_bucket_policy: 'policy',
  aws_ecr_repository_policy: 'policy',
  aws_sqs_queue_policy: 'policy',
  aws_kms_key: 'policy',
};

// Actions that only read: everything else counts as a write.
const READ_ONLY = /^[a-z0-9-]+:(Get|List|Describe|Head)[A-Za-z]*$/;

/** What is wrong with one policy document: wildcard actions, s3:*, or writes on every resource. */
function policyFindings(document: string): string[] {
  const statements = [JSON.parse(document).Statement].flat() as Array<{ Effect: string; Action: string | string[]; Resource?: string | string[] }>;
  return statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => {
      const actions = [s.Action].flat();
      const resources = [s.Resource ?? []].flat();
      return [
        ...actions.filter((a) => a === '*' || a.endsWith(':*')).map((a) => `allows the wildcard action ${a}`),
        ...(resources.includes('*') ? actions.filter((a) => !READ_ONLY.test(a)).map((a) => `allows the write action ${a} on every resource`) : []),
      ];
    });
}

describe('policyFindings', () => {
  const doc = (statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

  it('accepts scoped actions, reads on every resource and wildcard denies', () => {
    expect(policyFindings(doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/p/*' }))).toEqual([]);
    expect(policyFindings(doc({ Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }))).toEqual([]);
    expect(policyFindings(doc({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' }))).toEqual([]);
  });

  it('rejects "*", s3:* and writes on "*"', () => {
    expect(policyFindings(doc({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }))).toEqual(['allows the wildcard action *']);
    expect(policyFindings(doc({ Effect: 'Allow', Action: ['s3:*'], Resource: 'arn:aws:s3:::b/*' }))).toEqual(['allows the wildcard action s3:*']);
    expect(policyFindings(doc({ Effect: 'Allow', Action: ['s3:PutObject'], Resource: '*' }))).toEqual(['allows the write action s3:PutObject on every resource']);
  });
});

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: await fixturePipelines() },
].flatMap(({ environments, pipelines }) => environments.map((env) => ({ env, pipelines })));

describe('every IAM policy document in every stack', () => {
  const documents = cases.flatMap(({ env, pipelines }) =>
    [...synthesizeStacks(env, pipelines)].flatMap(([stackName, stack]) =>
      Object.entries(POLICY_ARGUMENTS).flatMap(([type, argument]) =>
        Object.entries(stack.resources(type))
          .filter(([, block]) => typeof block[argument] === 'string')
          .map(([name, block]) => ({ where: `${stackName} ${type}.${name}`, document: block[argument] as string })),
      ),
    ),
  );

  it('are found (roles, inline policies, bucket, repository and queue policies in every environment, a role per pipeline)', () => {
    for (const { env, pipelines } of cases) {
      for (const type of ['aws_iam_role', 'aws_iam_role_policy', 'aws_s3_bucket_policy', 'aws_ecr_repository_policy', 'aws_sqs_queue_policy']) {
        expect(documents.some((d) => d.where.startsWith(`${env.name}-`) && d.where.includes(` ${type}.`)), `${env.name} ${type}`).toBe(true);
      }
      for (const pipeline of pipelines) {
        for (const type of ['aws_iam_role', 'aws_iam_role_policy']) {
          const where = `${env.name}-cluster ${type}.pipeline-${pipeline.name}-role_`;
          expect(documents.filter((d) => d.where.startsWith(where)), `${env.name} ${type} of ${pipeline.name}`).toHaveLength(1);
        }
      }
    }
  });

  it('grant no wildcard action, no s3:* and no write action on "*"', () => {
    const findings = documents.flatMap(({ where, document }) => policyFindings(document).map((f) => `${where} ${f}`));
    expect(findings).toEqual([]);
  });
});
