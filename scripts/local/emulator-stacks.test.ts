import { describe, expect, it } from 'vitest';
import { EMULATOR_LEFT_OUT, EMULATOR_UNKEPT, emulatorConfiguration, leftOutBecause, referencedAddresses } from './emulator-stacks';

const stack = {
  terraform: { required_providers: { aws: { source: 'aws', version: '6.25.0' } } },
  data: { aws_vpc: { main: { id: 'vpc-1' } } },
  resource: {
    aws_eks_cluster: { cluster: { name: 'c', vpc_config: [{ subnet_ids: ['${data.aws_vpc.main.id}'] }] } },
    aws_eks_addon: { 'vpc-cni': { cluster_name: '${aws_eks_cluster.cluster.name}', addon_name: 'vpc-cni' } },
    aws_eks_access_entry: { 'admin-0': { cluster_name: '${aws_eks_cluster.cluster.name}', principal_arn: 'arn:aws:iam::1:role/admin' } },
    // Refers to a left-out resource: cannot be created without it.
    aws_eks_access_policy_association: { admin: { principal_arn: '${aws_eks_access_entry.admin-0.principal_arn}' } },
    // Only ordered after one: kept, without that entry.
    aws_iam_role_policy_attachment: { general: { role: 'x', policy_arn: 'arn:aws:iam::aws:policy/P', depends_on: ['aws_eks_addon.vpc-cni', 'aws_eks_cluster.cluster'] } },
    aws_s3_bucket: { raw: { bucket: 'raw', lifecycle: { prevent_destroy: true, ignore_changes: ['tags'] } } },
    aws_iam_role: { ebs: { name: 'ebs' } },
    // Refers to a resource that refers to a left-out one: goes too.
    aws_iam_role_policy: { chained: { role: '${aws_iam_role.ebs.name}', policy: '${jsonencode({"x" = aws_eks_access_policy_association.admin.id})}' } },
    helm_release: { argocd: { name: 'argocd' } },
  },
  output: {
    cluster: { value: '${aws_eks_cluster.cluster.arn}' },
    addon: { value: '${aws_eks_addon.vpc-cni.arn}' },
  },
};

describe('the configuration the AWS API emulator takes', () => {
  const { json, leftOut } = emulatorConfiguration(stack) as { json: typeof stack; leftOut: Array<{ address: string; reason: string }> };

  it('leaves out the types the emulator lacks, what refers to them (transitively), and Kubernetes resources, each with a reason', () => {
    expect(leftOut.map((item) => item.address)).toEqual([
      'aws_eks_access_entry.admin-0',
      'aws_eks_access_policy_association.admin',
      'aws_eks_addon.vpc-cni',
      'aws_iam_role_policy.chained',
      'helm_release.argocd',
    ]);
    expect(leftOut.find((item) => item.address === 'aws_eks_addon.vpc-cni')?.reason).toBe(EMULATOR_LEFT_OUT['aws_eks_addon']);
    expect(leftOut.find((item) => item.address === 'aws_iam_role_policy.chained')?.reason).toBe('refers to aws_eks_access_policy_association.admin, which is left out');
    expect(leftOut.find((item) => item.address === 'helm_release.argocd')?.reason).toMatch(/Kubernetes API server/);
  });

  it('keeps everything else as synthesized, dropping only depends_on entries and outputs that name what was left out', () => {
    expect(Object.keys(json.resource).sort()).toEqual(['aws_eks_cluster', 'aws_iam_role', 'aws_iam_role_policy_attachment', 'aws_s3_bucket']);
    expect(json.resource.aws_iam_role).toEqual(stack.resource.aws_iam_role);
    expect(json.resource.aws_iam_role_policy_attachment.general.depends_on).toEqual(['aws_eks_cluster.cluster']);
    expect(Object.keys(json.output)).toEqual(['cluster']);
    expect(json.terraform).toEqual(stack.terraform);
    expect(json.data).toEqual(stack.data);
  });

  it('stops comparing only the attributes the emulator does not keep, keeping the lifecycle that was there', () => {
    const { lifecycle: clusterLifecycle, ...cluster } = json.resource.aws_eks_cluster.cluster as typeof stack.resource.aws_eks_cluster.cluster & { lifecycle: unknown };
    expect(cluster).toEqual(stack.resource.aws_eks_cluster.cluster);
    expect(clusterLifecycle).toEqual({ ignore_changes: EMULATOR_UNKEPT['aws_eks_cluster']!.attributes });
    expect(json.resource.aws_s3_bucket.raw.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['tags', ...EMULATOR_UNKEPT['aws_s3_bucket']!.attributes] });
    expect('lifecycle' in json.resource.aws_iam_role.ebs).toBe(false);
  });

  it('does not change its input', () => {
    expect(stack.resource.aws_iam_role_policy_attachment.general.depends_on).toHaveLength(2);
    expect(stack.resource.aws_s3_bucket.raw.lifecycle.ignore_changes).toEqual(['tags']);
    expect(stack.resource.aws_eks_addon['vpc-cni']).toBeDefined();
  });

  it('finds resource references inside expressions, not data sources or literals', () => {
    expect(referencedAddresses({ a: '${aws_s3_bucket.raw_1.id}/x', b: ['${data.aws_vpc.main.id}'], c: 'aws_s3_bucket.literal', d: '${merge(aws_kms_key.k.arn, var.x)}', e: '${jsonencode({a = 1}) == aws_iam_role.after_braces.arn}' }).sort()).toEqual([
      'aws_iam_role.after_braces',
      'aws_kms_key.k',
      'aws_s3_bucket.raw_1',
    ]);
    expect(leftOutBecause('aws_s3_bucket')).toBeUndefined();
    expect(leftOutBecause('kubernetes_namespace_v1')).toMatch(/Kubernetes/);
  });
});
