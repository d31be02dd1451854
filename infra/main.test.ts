import { Testing, type TerraformStack } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { addEnvironmentStacks } from './main';

type TerraformJson = {
  terraform: { backend: Record<string, { path?: string }> };
  provider: Record<string, Array<Record<string, unknown>>>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
};

const environments = loadEnvironments();

function environmentStacks(envName: string): TerraformStack[] {
  const app = Testing.app();
  addEnvironmentStacks(app, environments.find((e) => e.name === envName)!);
  return app.node.children.filter((c): c is TerraformStack => 'dependencies' in c);
}

const resources = (tf: TerraformJson, type: string) => Object.values(tf.resource?.[type] ?? {});

describe.each(environments.map((env) => env.name))('the %s stacks', (envName) => {
  const env = environments.find((e) => e.name === envName)!;
  const stackConstructs = environmentStacks(envName);
  const stacks = new Map(stackConstructs.map((s) => [s.node.id, JSON.parse(Testing.synth(s, true)) as TerraformJson]));

  it('are the four stacks, each depending on the one applied before it', () => {
    expect(stackConstructs.map((s) => [s.node.id, s.dependencies.map((d) => d.node.id)])).toEqual([
      [`${envName}-network`, []],
      [`${envName}-data-lake`, [`${envName}-network`]],
      [`${envName}-cluster`, [`${envName}-data-lake`]],
      [`${envName}-bootstrap`, [`${envName}-cluster`]],
    ]);
  });

  it('pin the AWS provider to the environment account, region and tags', () => {
    for (const tf of stacks.values()) {
      expect(tf.provider.aws).toEqual([
        {
          region: env.aws.region,
          allowed_account_ids: [env.aws.accountId],
          default_tags: [
            { tags: { environment: envName, owner: env.tags.owner, 'cost-centre': env.tags.costCentre, 'managed-by': 'driftless' } },
          ],
        },
      ]);
    }
  });

  it('keep state in a local backend at a relative path outside the synth output', () => {
    for (const [name, tf] of stacks) {
      expect(tf.terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
    }
  });

  it('create the VPC from the environment CIDR', () => {
    expect(resources(stacks.get(`${envName}-network`)!, 'aws_vpc')).toEqual([
      expect.objectContaining({ cidr_block: env.network.vpcCidr, enable_dns_support: true }),
    ]);
  });

  it('rotate the data key and protect it from destroy exactly when data is retained', () => {
    const [key] = resources(stacks.get(`${envName}-data-lake`)!, 'aws_kms_key');
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(key!.lifecycle).toEqual({ prevent_destroy: env.retainData });
  });

  it('let only EKS in this account assume the cluster role', () => {
    const [role] = resources(stacks.get(`${envName}-cluster`)!, 'aws_iam_role');
    const trust = JSON.parse(role!.assume_role_policy as string);
    expect(trust.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'eks.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': env.aws.accountId } },
      }),
    ]);
  });

  it('configure the kubernetes provider from data sources, never from resources of the same apply', () => {
    const tf = stacks.get(`${envName}-bootstrap`)!;
    expect(tf.resource?.aws_eks_cluster).toBeUndefined();
    const [kubernetes] = tf.provider.kubernetes!;
    expect(kubernetes!.host).toBe('${data.aws_eks_cluster.cluster.endpoint}');
    expect(kubernetes!.token).toBe('${data.aws_eks_cluster_auth.cluster-auth.token}');
    expect(Object.values(tf.data?.aws_eks_cluster ?? {})).toEqual([expect.objectContaining({ name: `driftless-${envName}` })]);
  });
});
