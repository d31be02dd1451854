/**
 * Which arguments force Terraform to replace a resource instead of updating it in place, for the resource
 * types this platform uses. The offline review has no provider schema, so this table stands in for it:
 * written from the provider sources (hashicorp/aws 6.x, kubernetes 2.x, helm 3.x; `ForceNew` arguments),
 * deliberately limited to the arguments the stacks set. `npm run plan` gives Terraform's exact answer;
 * a type missing here is reported as changed in place, never as replaced.
 *
 * Paths use dots and no indices: `vpc_config.subnet_ids` matches `vpc_config[0].subnet_ids[1]`.
 */

import { INSIDE_JSON } from './value-diff';

/** Resource type → arguments whose change replaces the resource. */
export const FORCES_REPLACEMENT: Readonly<Record<string, readonly string[]>> = {
  // network
  aws_vpc: ['cidr_block', 'ipv4_ipam_pool_id'],
  aws_subnet: ['vpc_id', 'cidr_block', 'availability_zone', 'availability_zone_id'],
  aws_eip: ['domain', 'network_border_group'],
  aws_nat_gateway: ['allocation_id', 'subnet_id', 'connectivity_type', 'private_ip'],
  aws_route: ['route_table_id', 'destination_cidr_block', 'destination_ipv6_cidr_block', 'destination_prefix_list_id'],
  aws_route_table: ['vpc_id'],
  aws_route_table_association: ['subnet_id', 'gateway_id'],
  aws_default_security_group: ['vpc_id'],
  aws_security_group: ['name', 'name_prefix', 'vpc_id', 'description'],
  aws_vpc_security_group_ingress_rule: ['security_group_id'],
  aws_vpc_security_group_egress_rule: ['security_group_id'],
  aws_vpc_endpoint: ['vpc_id', 'service_name', 'vpc_endpoint_type', 'service_region'],
  aws_flow_log: [
    'vpc_id',
    'subnet_id',
    'eni_id',
    'traffic_type',
    'log_destination',
    'log_destination_type',
    'log_group_name',
    'iam_role_arn',
    'log_format',
    'max_aggregation_interval',
    'destination_options',
  ],
  aws_cloudwatch_log_group: ['name', 'name_prefix', 'log_group_class'],
  // data lake
  aws_kms_key: ['customer_master_key_spec', 'key_usage', 'multi_region', 'custom_key_store_id', 'xks_key_id'],
  aws_kms_alias: ['name', 'name_prefix'],
  aws_s3_bucket: ['bucket', 'bucket_prefix', 'object_lock_enabled'],
  aws_s3_bucket_versioning: ['bucket', 'expected_bucket_owner'],
  aws_s3_bucket_server_side_encryption_configuration: ['bucket', 'expected_bucket_owner'],
  aws_s3_bucket_public_access_block: ['bucket'],
  aws_s3_bucket_ownership_controls: ['bucket'],
  aws_s3_bucket_policy: ['bucket'],
  aws_s3_bucket_lifecycle_configuration: ['bucket', 'expected_bucket_owner'],
  aws_s3_bucket_logging: ['bucket', 'expected_bucket_owner'],
  // cluster
  aws_iam_role: ['name', 'name_prefix', 'path'],
  aws_iam_role_policy: ['name', 'name_prefix', 'role'],
  aws_iam_role_policy_attachment: ['role', 'policy_arn'],
  aws_eks_cluster: [
    'name',
    'role_arn',
    'bootstrap_self_managed_addons',
    'access_config.bootstrap_cluster_creator_admin_permissions',
    'kubernetes_network_config.ip_family',
    'kubernetes_network_config.service_ipv4_cidr',
    'outpost_config',
    'remote_network_config',
  ],
  aws_eks_node_group: [
    'cluster_name',
    'node_group_name',
    'node_group_name_prefix',
    'node_role_arn',
    'subnet_ids',
    'ami_type',
    'capacity_type',
    'disk_size',
    'instance_types',
    'remote_access',
    'launch_template.id',
    'launch_template.name',
  ],
  aws_launch_template: ['name', 'name_prefix'],
  aws_eks_addon: ['cluster_name', 'addon_name'],
  aws_eks_access_entry: ['cluster_name', 'principal_arn', 'type'],
  aws_eks_access_policy_association: ['cluster_name', 'principal_arn', 'policy_arn', 'access_scope'],
  aws_eks_pod_identity_association: ['cluster_name', 'namespace', 'service_account'],
  aws_ecr_repository: ['name', 'encryption_configuration'],
  aws_ecr_lifecycle_policy: ['repository', 'policy'],
  aws_ecr_repository_policy: ['repository'],
  aws_sqs_queue: ['name', 'name_prefix', 'fifo_queue'],
  aws_sqs_queue_policy: ['queue_url'],
  aws_cloudwatch_event_rule: ['name', 'name_prefix', 'event_bus_name'],
  aws_cloudwatch_event_target: ['rule', 'target_id', 'event_bus_name'],
  aws_ec2_tag: ['resource_id', 'key'],
  // bootstrap
  helm_release: ['name', 'namespace'],
  kubernetes_namespace_v1: ['metadata.name'],
};

/**
 * The entries of the table that a change at `path` (a formatted attribute path) of a `type` resource hits.
 * A change above an entry (the whole `kubernetes_network_config` block) counts, as does one below it.
 */
export function replacingArguments(type: string, path: string): string[] {
  const attribute = path.split(INSIDE_JSON)[0] ?? path;
  const normalized = attribute.replace(/\[\d+\]/g, '').replace(/\["([^"]*)"\]/g, '.$1');
  return (FORCES_REPLACEMENT[type] ?? []).filter(
    (entry) => normalized === entry || normalized.startsWith(`${entry}.`) || entry.startsWith(`${normalized}.`),
  );
}
