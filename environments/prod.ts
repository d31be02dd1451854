import type { EnvironmentInput } from './schema';

/** Production: three AZs, a NAT gateway per AZ, HA everywhere, and data that no apply or sync may delete. */
export const environment = {
  name: 'prod',
  follows: 'staging',
  production: true,
  aws: { accountId: '333333333333', region: 'eu-central-1', stateBucket: 'driftless-tfstate-333333333333', deployRoleArn: 'arn:aws:iam::333333333333:role/driftless-deploy' },
  network: { vpcCidr: '10.30.0.0/16', azCount: 3, natGateways: 3, interfaceEndpoints: true, flowLogRetentionDays: 365 },
  cluster: {
    kubernetesVersion: '1.34',
    privateEndpoint: true,
    publicAccessCidrs: [],
    nodeGroups: [
      { name: 'general', instanceTypes: ['m7i.2xlarge'], capacityType: 'ON_DEMAND', minSize: 3, desiredSize: 6, maxSize: 12, diskSizeGiB: 200 },
    ],
    nodePools: {
      executors: { instanceCategories: ['c', 'm', 'r'], capacityTypes: ['spot', 'on-demand'], cpuLimit: 256, memoryLimitGiB: 1024 },
      stable: { instanceCategories: ['m'], cpuLimit: 96, memoryLimitGiB: 384 },
    },
    adminRoleArns: ['arn:aws:iam::333333333333:role/driftless-deploy'],
    logRetentionDays: 365,
  },
  dataLake: { noncurrentVersionDays: 90, intelligentTieringAfterDays: 30, logRetentionDays: 365 },
  kafka: {
    brokers: 3,
    brokerCpus: 4,
    brokerMemoryGiB: 16,
    controllers: 3,
    brokerStorageGiB: 500,
    controllerStorageGiB: 20,
    defaultReplicationFactor: 3,
    minInSyncReplicas: 2,
    retentionHours: 168,
    topicPartitions: 6,
  },
  hdfs: { namenodes: 2, journalnodes: 3, datanodes: 4, dfsReplication: 3, namenodeStorageGiB: 50, datanodeStorageGiB: 1000, datanodeCpus: 2, datanodeMemoryGiB: 8 },
  spark: { driverCores: 2, driverMemoryMiB: 4096, executorInstances: 4, executorCores: 4, executorMemoryMiB: 8192, executorCapacity: 'spot', shufflePartitions: 64 },
  monitoring: {
    retentionDays: 30,
    prometheusStorageGiB: 200,
    consumerLagThreshold: 10000,
    alertReceivers: { critical: { type: 'pagerduty' }, warning: { type: 'slack', channel: '#data-platform-alerts' } },
  },
  retainData: true,
  gitops: { repoUrl: 'https://github.com/example-org/driftless.git', revision: 'main', argoCdHostname: 'argocd.prod.example.com' },
  tags: { owner: 'data-platform', costCentre: 'CC-1001' },
} satisfies EnvironmentInput;
