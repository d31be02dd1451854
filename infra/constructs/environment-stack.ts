import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct } from 'constructs';
import { PROJECT, stackName, stateKey, type StackKind } from '../../environments/naming';
import type { Environment } from '../../environments/schema';

/** Props of every stack of an environment. */
export interface EnvironmentStackProps {
  /** The validated environment this stack belongs to. */
  readonly env: Environment;
  /** Which of the environment's stacks this is; with the environment's name it forms the stack id. */
  readonly kind: StackKind;
}

/**
 * A Terraform stack bound to one environment: an AWS provider that refuses any other account,
 * tags on everything, and a state location of its own.
 */
export class EnvironmentStack extends TerraformStack {
  /** The environment this stack belongs to. */
  readonly env: Environment;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const id = stackName(props.env.name, props.kind);
    super(scope, id);
    this.env = props.env;

    new AwsProvider(this, 'aws', {
      region: props.env.aws.region,
      // A mistyped profile or role can then never apply dev's plan to prod's account.
      allowedAccountIds: [props.env.aws.accountId],
      defaultTags: [{ tags: environmentTags(props.env) }],
    });

    // S3 native locking (use_lockfile) needs Terraform 1.10; cdktf 0.21 has no field for it, hence the overrides.
    this.addOverride('terraform.required_version', '>= 1.10.0');
    const { stateBucket, region } = props.env.aws;
    if (stateBucket !== undefined) {
      new S3Backend(this, { bucket: stateBucket, key: stateKey(props.env.name, props.kind), region, encrypt: true });
      this.addOverride('terraform.backend.s3.use_lockfile', true);
    } else {
      // Relative to cdktf.out/stacks/<id>/, where Terraform runs: the state sits in the repository root
      // (git-ignored) and outlives the synth output; the path holds nothing of this machine.
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
  }
}

/** The tags every AWS resource of an environment carries. */
export function environmentTags(env: Environment): Record<string, string> {
  return {
    environment: env.name,
    owner: env.tags.owner,
    'cost-centre': env.tags.costCentre,
    'managed-by': PROJECT,
  };
}
