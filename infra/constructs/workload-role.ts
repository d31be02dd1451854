import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import type { ServiceAccountRef } from '../../environments/naming';
import { policyDocument, type PolicyStatement } from './policy-document';
import { suppressPolicy } from './policy-suppression';

/** Props of a workload role. */
export interface WorkloadRoleProps {
  /** Role name, from environments/naming.ts. */
  readonly roleName: string;
  /** Name of the EKS cluster the service account lives in. */
  readonly clusterName: string;
  /** ARN of that cluster: only Pod Identity acting for this cluster may assume the role. */
  readonly clusterArn: string;
  /** The service account whose pods get the role. */
  readonly serviceAccount: ServiceAccountRef;
  /** Statements of the role's inline policy. @default none */
  readonly statements?: readonly PolicyStatement[];
  /**
   * AWS managed policies to attach (for AWS's own add-ons, whose needs AWS maintains), by their path and name under
   * `arn:aws:iam::aws:policy/`: `AmazonEKS_CNI_Policy`, `service-role/AmazonEBSCSIDriverPolicy`. @default none
   */
  readonly managedPolicies?: readonly string[];
  /** Create the Pod Identity association here; false when an EKS add-on binds the role itself. @default true */
  readonly associate?: boolean;
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: trusted only by the Pod
 * Identity service acting for one cluster, namespace and service account, and bound to that service account.
 */
export class WorkloadRole extends Construct {
  /** The role. */
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: WorkloadRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          // EKS tags the session with the cluster, namespace and service account it acts for (hence
          // sts:TagSession); requiring them makes the trust itself as narrow as the association.
          Condition: {
            StringEquals: {
              'aws:RequestTag/eks-cluster-arn': props.clusterArn,
              'aws:RequestTag/kubernetes-namespace': props.serviceAccount.namespace,
              'aws:RequestTag/kubernetes-service-account': props.serviceAccount.name,
            },
          },
        },
      ]),
    });
    if (props.statements !== undefined && props.statements.length > 0) {
      new IamRolePolicy(this, 'policy', { role: this.role.id, name: 'workload', policy: policyDocument(props.statements) });
    }
    for (const path of props.managedPolicies ?? []) {
      const policy = path.split('/').pop()!;
      const attachment = new IamRolePolicyAttachment(this, policy, { role: this.role.name, policyArn: `arn:aws:iam::aws:policy/${path}` });
      // The gate still rejects administrator-like managed policies (DL-IAM-006), which this does not excuse.
      suppressPolicy(attachment, {
        id: 'DL-IAM-005',
        reason: `${policy} is the policy AWS publishes for its own EKS add-on that this role serves; AWS changes it together with the add-on versions, so an inline copy would fall behind.`,
      });
    }
    if (props.associate ?? true) {
      new EksPodIdentityAssociation(this, 'association', {
        clusterName: props.clusterName,
        namespace: props.serviceAccount.namespace,
        serviceAccount: props.serviceAccount.name,
        roleArn: this.role.arn,
      });
    }
  }
}
