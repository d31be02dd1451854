import type { EnvironmentInput } from './schema';

/** Staging: the shape of prod (HA, dedicated controllers, private endpoint) at a smaller size. */
export const environment = {
  name: 'staging',
  follows: 'dev',
  production: false,
  aws: { accountId: '222222222222', region: 'eu-central-1', stateBucket: 'driftless-tfstate-222222222222', deployRoleArn: 'arn:aws:iam::222222222222:role/driftless-deploy' },
  network: { vpcCidr: '10.20.0.0/16', azCount: 3, natGateways: 1, interfaceEndpoints: true, flowLogRetentionDays: 30 },
  cluster: {
    kubernetesVersion: '1.34',
    privateEndpoint: true,
    publicAccessCidrs: [],
    nodeGroups: [
      { name: 'general', instanceTypes: ['m7i.xlarge'], capacityType: 'ON_DEMAND', minSize: 3, desiredSize: 3, maxSize: 6, diskSizeGiB: 100 },
    ],
    nodePools: {
      executors: { instanceCategories: ['c', 'm', 'r'], capacityTypes: ['spot', 'on-demand'], cpuLimit: 64, memoryLimitGiB: 256 },
      stable: { instanceCategories: ['m'], cpuLimit: 48, memoryLimitGiB: 128 },
    },
    adminRoleArns: ['arn:aws:iam::222222222222:role/driftless-deploy'],
    logRetentionDays: 30,
  },
  dataLake: { noncurrentVersionDays: 30, logRetentionDays: 90 },
  kafka: {
    brokers: 3,
    brokerCpus: 2,
    brokerMemoryGiB: 4,
    controllers: 3,
    brokerStorageGiB: 100,
    controllerStorageGiB: 10,
    defaultReplicationFactor: 3,
    minInSyncReplicas: 2,
    retentionHours: 72,
    topicPartitions: 3,
  },
  hdfs: { namenodes: 2, journalnodes: 3, datanodes: 3, dfsReplication: 3, namenodeStorageGiB: 10, datanodeStorageGiB: 100, datanodeCpus: 1, datanodeMemoryGiB: 4 },
  spark: { driverCores: 1, driverMemoryMiB: 2048, executorInstances: 2, executorCores: 2, executorMemoryMiB: 4096, executorCapacity: 'spot', shufflePartitions: 16 },
  monitoring: {
    retentionDays: 15,
    prometheusStorageGiB: 50,
    consumerLagThreshold: 50000,
    alertReceivers: { critical: { type: 'slack', channel: '#data-platform-staging' }, warning: { type: 'slack', channel: '#data-platform-staging' } },
  },
  retainData: false,
  gitops: { repoUrl: 'https://github.com/example-org/driftless.git', revision: 'main', argoCdHostname: 'argocd.staging.example.com' },
  tags: { owner: 'data-platform', costCentre: 'CC-1001' },
} satisfies EnvironmentInput;
