import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import type { Construct } from 'constructs';
import { PROJECT } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';

/** `<env>-network`: the VPC that the cluster and its endpoints live in. */
export class NetworkStack extends EnvironmentStack {
  /** The environment's VPC. */
  readonly vpc: Vpc;

  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'network' });
    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: env.network.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: `${PROJECT}-${env.name}` },
    });
  }
}
