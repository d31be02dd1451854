import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { loadPipelines } from '../pipelines/load';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments } from '../scripts/fixtures/environments';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { stackOf, synthesizeStacks } from './synthesized-stacks';

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: await fixturePipelines() },
].flatMap(({ environments, pipelines }) => environments.map((env) => ({ env, pipelines })));

describe.each(cases)('the $env.name stacks', ({ env, pipelines }) => {
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

describe('state', () => {
  it('is a relative local file per stack for an environment without a state bucket', () => {
    const lab = fixtureEnvironment('lab');
    expect(FIXTURE_INPUTS.lab.aws).not.toHaveProperty('stateBucket');
    expect(stackOf(synthesizeStacks(lab, []), 'lab', 'data-lake').json.terraform.backend).toEqual({ local: { path: '../../../terraform.lab-data-lake.tfstate' } });
  });

  it('is a key per stack in the state bucket of an environment that has one, encrypted and locked', () => {
    const trial = fixtureEnvironment('trial');
    expect(stackOf(synthesizeStacks(trial, []), 'trial', 'data-lake').json.terraform.backend).toEqual({
      s3: { bucket: FIXTURE_INPUTS.trial.aws.stateBucket, key: 'driftless/trial-data-lake.tfstate', region: FIXTURE_INPUTS.trial.aws.region, encrypt: true, use_lockfile: true },
    });
  });
});

describe('stack lookup', () => {
  it('fails loudly for a stack that does not exist', () => {
    expect(() => stackOf(synthesizeStacks(fixtureEnvironment('lab'), []), 'lab', 'nothing')).toThrow('no stack lab-nothing');
  });
});
