import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import type { Construct } from 'constructs';
import { clusterName } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';

/** `<env>-cluster`: the EKS cluster and the roles its workloads assume. */
export class ClusterStack extends EnvironmentStack {
  /** The role the EKS control plane assumes. */
  readonly clusterRole: IamRole;

  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'cluster' });
    this.clusterRole = new IamRole(this, 'cluster-role', {
      name: `${clusterName(env.name)}-cluster`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': env.aws.accountId } },
        }],
      }),
    });
  }
}
