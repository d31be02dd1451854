import { parseIpv4Cidr, planSubnets } from './cidr';
import type { Environment } from './schema';

/** A broken cross-field rule, located at the field that should change. */
export interface Violation {
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

/**
 * A rule that relates several fields. It runs only when every field it `reads` passed its
 * own field-level check, so one bad value yields one precise message instead of a cascade.
 */
export interface CrossFieldRule<T = Environment> {
  readonly reads: readonly string[];
  readonly check: (subject: T) => Violation[];
}

/** The violation when `broken`, else none. */
export const when = (broken: boolean, violation: Violation): Violation[] => (broken ? [violation] : []);

/** Every rule an environment must satisfy beyond the shape of its fields. */
export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  {
    // With a single broker, minInSyncReplicas <= defaultReplicationFactor <= brokers already forces 1.
    reads: ['kafka.brokers', 'kafka.minInSyncReplicas'],
    check: ({ kafka }) =>
      when(kafka.brokers > 1 && kafka.minInSyncReplicas >= kafka.brokers, {
        field: 'kafka.minInSyncReplicas',
        value: kafka.minInSyncReplicas,
        rule: `must be below kafka.brokers (${kafka.brokers}) so that writes go on while one broker is down`,
      }),
  },
  {
    reads: ['kafka.brokers', 'kafka.defaultReplicationFactor'],
    check: ({ kafka }) =>
      when(kafka.defaultReplicationFactor > kafka.brokers, {
        field: 'kafka.defaultReplicationFactor',
        value: kafka.defaultReplicationFactor,
        rule: `must not exceed kafka.brokers (${kafka.brokers}): each replica needs its own broker`,
      }),
  },
  {
    reads: ['kafka.defaultReplicationFactor', 'kafka.minInSyncReplicas'],
    check: ({ kafka }) =>
      when(kafka.minInSyncReplicas > kafka.defaultReplicationFactor, {
        field: 'kafka.minInSyncReplicas',
        value: kafka.minInSyncReplicas,
        rule: `must not exceed kafka.defaultReplicationFactor (${kafka.defaultReplicationFactor}), or producers with acks=all can never write`,
      }),
  },
  {
    reads: ['kafka.controllers'],
    check: ({ kafka }) =>
      when(kafka.controllers !== 0 && kafka.controllers % 2 === 0, {
        field: 'kafka.controllers',
        value: kafka.controllers,
        rule: 'must be 0 (brokers also act as KRaft controllers) or odd, so that the quorum has a majority',
      }),
  },
  {
    reads: ['kafka.controllers', 'kafka.brokers'],
    check: ({ kafka }) =>
      when(kafka.controllers === 0 && kafka.brokers % 2 === 0, {
        field: 'kafka.brokers',
        value: kafka.brokers,
        rule: 'must be odd when kafka.controllers is 0, because the brokers then form the KRaft quorum',
      }),
  },
  {
    reads: ['hdfs.dfsReplication', 'hdfs.datanodes'],
    check: ({ hdfs }) =>
      when(hdfs.dfsReplication > hdfs.datanodes, {
        field: 'hdfs.dfsReplication',
        value: hdfs.dfsReplication,
        rule: `must not exceed hdfs.datanodes (${hdfs.datanodes}), or every block stays under-replicated`,
      }),
  },
  {
    reads: ['hdfs.journalnodes'],
    check: ({ hdfs }) =>
      when(hdfs.journalnodes % 2 === 0, {
        field: 'hdfs.journalnodes',
        value: hdfs.journalnodes,
        rule: 'must be odd, so that the journal quorum has a majority',
      }),
  },
  {
    reads: ['hdfs.namenodes', 'hdfs.journalnodes'],
    check: ({ hdfs }) =>
      when(hdfs.namenodes > 1 && hdfs.journalnodes < 3, {
        field: 'hdfs.journalnodes',
        value: hdfs.journalnodes,
        rule: 'must be at least 3 when hdfs.namenodes is 2 (HA needs a journal quorum that survives one loss)',
      }),
  },
  {
    reads: ['network.vpcCidr', 'network.azCount'],
    check: ({ network }) => {
      const vpc = parseIpv4Cidr(network.vpcCidr);
      const layout = 'error' in vpc ? vpc : planSubnets(vpc, network.azCount);
      return when('error' in layout, {
        field: 'network.vpcCidr',
        value: network.vpcCidr,
        rule: 'error' in layout ? layout.error : '',
      });
    },
  },
  {
    reads: ['cluster.adminRoleArns', 'aws.accountId'],
    check: ({ cluster, aws }) =>
      cluster.adminRoleArns.flatMap((arn, index) =>
        when(arn.split(':')[4] !== aws.accountId, {
          field: `cluster.adminRoleArns.${index}`,
          value: arn,
          rule: `must be a role in the environment's account ${aws.accountId}`,
        }),
      ),
  },
  {
    reads: ['aws.deployRoleArn', 'aws.accountId'],
    check: ({ aws }) =>
      when(aws.deployRoleArn.split(':')[4] !== aws.accountId, {
        field: 'aws.deployRoleArn',
        value: aws.deployRoleArn,
        rule: `must be a role in the environment's account ${aws.accountId}`,
      }),
  },
  {
    // The deploy role applies the bootstrap stack's Helm releases, and the cluster grants access only through the
    // access entries of cluster.adminRoleArns. A role of another account is reported by the rule above alone.
    reads: ['aws.deployRoleArn', 'aws.accountId', 'cluster.adminRoleArns'],
    check: ({ aws, cluster }) =>
      when(aws.deployRoleArn.split(':')[4] === aws.accountId && !cluster.adminRoleArns.includes(aws.deployRoleArn), {
        field: 'aws.deployRoleArn',
        value: aws.deployRoleArn,
        rule: `must be one of cluster.adminRoleArns (${cluster.adminRoleArns.join(', ')}): the deploy role applies the bootstrap stack inside the cluster, which only those roles may enter`,
      }),
  },
  {
    reads: ['network.natGateways', 'network.azCount'],
    check: ({ network }) =>
      when(network.natGateways > network.azCount, {
        field: 'network.natGateways',
        value: network.natGateways,
        rule: `must not exceed network.azCount (${network.azCount}): at most one NAT gateway per AZ`,
      }),
  },
  {
    reads: ['cluster.privateEndpoint', 'cluster.publicAccessCidrs'],
    check: ({ cluster }) => {
      if (cluster.privateEndpoint) {
        return when(cluster.publicAccessCidrs.length > 0, {
          field: 'cluster.publicAccessCidrs',
          value: cluster.publicAccessCidrs,
          rule: 'must be empty when cluster.privateEndpoint is true (a private endpoint has no public access)',
        });
      }
      if (cluster.publicAccessCidrs.length === 0) {
        return [{
          field: 'cluster.publicAccessCidrs',
          value: cluster.publicAccessCidrs,
          rule: 'must list the networks allowed to reach a public API endpoint (cluster.privateEndpoint is false)',
        }];
      }
      return cluster.publicAccessCidrs.flatMap((cidr, index) => {
        const parsed = parseIpv4Cidr(cidr);
        return when('prefixLength' in parsed && parsed.prefixLength < 8, {
          field: `cluster.publicAccessCidrs.${index}`,
          value: cidr,
          rule: 'must be /8 or narrower: a public API endpoint open to the whole internet is not allowed',
        });
      });
    },
  },
  {
    reads: ['cluster.nodeGroups'],
    check: ({ cluster }) =>
      cluster.nodeGroups.flatMap((group, index) => [
        ...when(group.minSize > group.desiredSize || group.desiredSize > group.maxSize, {
          field: `cluster.nodeGroups.${index}.desiredSize`,
          value: group.desiredSize,
          rule: `must lie between minSize (${group.minSize}) and maxSize (${group.maxSize})`,
        }),
        ...when(cluster.nodeGroups.findIndex((other) => other.name === group.name) !== index, {
          field: `cluster.nodeGroups.${index}.name`,
          value: group.name,
          rule: 'must be unique among the node groups',
        }),
      ]),
  },
  // Production guarantees are rules about the data of an environment marked production, not code paths:
  // nothing branches on an environment's name.
  {
    reads: ['production', 'retainData'],
    check: (env) =>
      when(env.production && !env.retainData, {
        field: 'retainData',
        value: env.retainData,
        rule: 'must be true when production is true, so that no apply or sync can delete data',
      }),
  },
  {
    reads: ['production', 'kafka.brokers'],
    check: (env) =>
      when(env.production && env.kafka.brokers < 3, {
        field: 'kafka.brokers',
        value: env.kafka.brokers,
        rule: 'must be at least 3 when production is true, so that replicated topics survive a broker loss',
      }),
  },
  {
    reads: ['production', 'network.azCount'],
    check: (env) =>
      when(env.production && env.network.azCount < 3, {
        field: 'network.azCount',
        value: env.network.azCount,
        rule: 'must be at least 3 when production is true, so that the platform survives the loss of an availability zone',
      }),
  },
];
