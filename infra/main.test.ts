import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { loadPipelines } from '../pipelines/load';
import { stackOf, synthesizeStacks } from './synthesized-stacks';

const environments = await loadEnvironments();
const pipelines = await loadPipelines();

describe.each(environments)('the $name stacks', (env) => {
  const stacks = synthesizeStacks(env, pipelines);

  it('are the four stacks, each depending on the one applied before it', () => {
    expect([...stacks.values()].map((s) => [s.construct.node.id, s.construct.dependencies.map((d) => d.node.id)])).toEqual([
      [`${env.name}-network`, []],
      [`${env.name}-data-lake`, [`${env.name}-network`]],
      [`${env.name}-cluster`, [`${env.name}-data-lake`]],
      [`${env.name}-bootstrap`, [`${env.name}-cluster`]],
    ]);
  });

  it('pin the AWS provider to the environment account and region, and tag everything', () => {
    for (const stack of stacks.values()) {
      expect(stack.json.provider.aws).toEqual([
        {
          region: env.aws.region,
          allowed_account_ids: [env.aws.accountId],
          default_tags: [
            { tags: { environment: env.name, owner: env.tags.owner, 'cost-centre': env.tags.costCentre, 'managed-by': 'driftless' } },
          ],
        },
      ]);
    }
  });

  it('require Terraform 1.10 for S3 native state locking', () => {
    for (const stack of stacks.values()) expect(stack.json.terraform.required_version).toBe('>= 1.10.0');
  });

  it('keep state in the environment state bucket (encrypted, locked, a key per stack) or else in a relative local file', () => {
    for (const [name, stack] of stacks) {
      if (env.aws.stateBucket === undefined) {
        expect(stack.json.terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
      } else {
        expect(stack.json.terraform.backend).toEqual({
          s3: { bucket: env.aws.stateBucket, key: `driftless/${name}.tfstate`, region: env.aws.region, encrypt: true, use_lockfile: true },
        });
      }
    }
  });
});

describe('the shipped environments', () => {
  it('show both state setups: dev local, staging and prod in S3', () => {
    expect(environments.map((env) => [env.name, env.aws.stateBucket !== undefined])).toEqual([
      ['dev', false],
      ['staging', true],
      ['prod', true],
    ]);
  });
});

describe('stack lookup', () => {
  it('fails loudly for a stack that does not exist', () => {
    expect(() => stackOf(synthesizeStacks(environments[0]!, []), 'dev', 'nothing')).toThrow('no stack dev-nothing');
  });
});
