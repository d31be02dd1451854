import type { EnvironmentInput } from './schema';

/** Development: small, cheap and disposable; the API endpoint is public but only to the office network. */
export const environment = {
  name: 'dev',
  production: false,
  aws: { accountId: '111111111111', region: 'eu-central-1', deployRoleArn: 'arn:aws:iam::111111111111:role/driftless-deploy' },
  network: { vpcCidr: '10.10.0.0/16', azCount: 2, natGateways: 1, interfaceEndpoints: false, flowLogRetentionDays: 14 },
  cluster: {
    kubernetesVersion: '1.34',
    privateEndpoint: false,
    publicAccessCidrs: ['203.0.113.0/24'],
    nodeGroups: [
      { name: 'general', instanceTypes: ['m7i.xlarge'], capacityType: 'SPOT', minSize: 1, desiredSize: 2, maxSize: 4, diskSizeGiB: 50 },
    ],
    nodePools: {
      executors: { instanceCategories: ['c', 'm', 'r'], capacityTypes: ['spot', 'on-demand'], cpuLimit: 16, memoryLimitGiB: 64 },
      stable: { instanceCategories: ['m'], cpuLimit: 24, memoryLimitGiB: 64 },
    },
    adminRoleArns: ['arn:aws:iam::111111111111:role/driftless-deploy'],
    logRetentionDays: 7,
  },
  dataLake: { noncurrentVersionDays: 7, logRetentionDays: 30 },
  kafka: {
    brokers: 1,
    brokerCpus: 1,
    brokerMemoryGiB: 2,
    controllers: 0,
    brokerStorageGiB: 20,
    controllerStorageGiB: 5,
    defaultReplicationFactor: 1,
    minInSyncReplicas: 1,
    retentionHours: 24,
    topicPartitions: 1,
  },
  hdfs: { namenodes: 1, journalnodes: 1, datanodes: 1, dfsReplication: 1, namenodeStorageGiB: 5, datanodeStorageGiB: 20, datanodeCpus: 1, datanodeMemoryGiB: 2 },
  spark: { driverCores: 1, driverMemoryMiB: 1024, executorInstances: 1, executorCores: 1, executorMemoryMiB: 2048, executorCapacity: 'spot', shufflePartitions: 4 },
  monitoring: {
    retentionDays: 3,
    prometheusStorageGiB: 20,
    consumerLagThreshold: 100000,
    alertReceivers: { critical: { type: 'slack', channel: '#data-platform-dev' }, warning: { type: 'slack', channel: '#data-platform-dev' } },
  },
  retainData: false,
  gitops: { repoUrl: 'https://github.com/example-org/driftless.git', revision: 'main', argoCdHostname: 'argocd.dev.example.com' },
  tags: { owner: 'data-platform', costCentre: 'CC-1001' },
} satisfies EnvironmentInput;
