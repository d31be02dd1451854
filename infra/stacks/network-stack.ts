import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn } from 'cdktf';
import type { Construct } from 'constructs';
import { parseIpv4Cidr, planSubnets } from '../../environments/cidr';
import { clusterName, KARPENTER_DISCOVERY_TAG, PROJECT, SUBNET_TIER_TAG, vpcName } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';
import { policyDocument } from '../constructs/policy-document';

/** Interface endpoints that let private nodes pull images, get credentials and ship logs without NAT. */
const INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'sts', 'logs'] as const;

/**
 * `<env>-network`: a VPC over the environment's AZs with a public and a private subnet in each, NAT
 * gateways, an S3 gateway endpoint (and interface endpoints where the environment asks), flow logs, and a
 * default security group that allows nothing.
 */
export class NetworkStack extends EnvironmentStack {
  /** The environment's VPC. */
  readonly vpc: Vpc;

  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'network' });
    const name = vpcName(env.name);
    const vpcRange = parseIpv4Cidr(env.network.vpcCidr);
    // Environment validation has already rejected a VPC that cannot hold the layout.
    const layout = 'error' in vpcRange ? vpcRange : planSubnets(vpcRange, env.network.azCount);
    if ('error' in layout) throw new Error(`network.vpcCidr ${env.network.vpcCidr}: ${layout.error}`);

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: env.network.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: name },
    });
    const vpcId = this.vpc.id;

    new DefaultSecurityGroup(this, 'default-security-group', { vpcId, ingress: [], egress: [], tags: { Name: `${name}-default-closed` } });

    const zones = new DataAwsAvailabilityZones(this, 'zones', { state: 'available', filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] });
    const internetGateway = new InternetGateway(this, 'internet-gateway', { vpcId, tags: { Name: name } });
    const publicRoutes = new RouteTable(this, 'public-routes', { vpcId, tags: { Name: `${name}-public` } });
    new Route(this, 'public-default-route', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: internetGateway.id });

    const natGateways: NatGateway[] = [];
    const privateRouteTables: RouteTable[] = [];
    const privateSubnets: Subnet[] = [];
    layout.forEach((ranges, index) => {
      const availabilityZone = Fn.element(zones.names, index);
      const publicSubnet = new Subnet(this, `public-${index}`, {
        vpcId,
        cidrBlock: ranges.public,
        availabilityZone,
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${index}`, [SUBNET_TIER_TAG]: 'public', 'kubernetes.io/role/elb': '1' },
      });
      new RouteTableAssociation(this, `public-${index}-routes`, { subnetId: publicSubnet.id, routeTableId: publicRoutes.id });
      if (index < env.network.natGateways) {
        const address = new Eip(this, `nat-${index}-address`, { domain: 'vpc', tags: { Name: `${name}-nat-${index}` } });
        natGateways.push(
          new NatGateway(this, `nat-${index}`, {
            subnetId: publicSubnet.id,
            allocationId: address.allocationId,
            tags: { Name: `${name}-nat-${index}` },
            dependsOn: [internetGateway],
          }),
        );
      }
    });
    layout.forEach((ranges, index) => {
      const privateSubnet = new Subnet(this, `private-${index}`, {
        vpcId,
        cidrBlock: ranges.private,
        availabilityZone: Fn.element(zones.names, index),
        // Karpenter launches its nodes in the subnets tagged for its cluster: the private ones, like the node groups.
        tags: {
          Name: `${name}-private-${index}`,
          [SUBNET_TIER_TAG]: 'private',
          'kubernetes.io/role/internal-elb': '1',
          [KARPENTER_DISCOVERY_TAG]: clusterName(env.name),
        },
      });
      const routes = new RouteTable(this, `private-${index}-routes`, { vpcId, tags: { Name: `${name}-private-${index}` } });
      // With fewer NAT gateways than AZs (to save cost outside prod), AZs share them round-robin.
      new Route(this, `private-${index}-default-route`, {
        routeTableId: routes.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: natGateways[index % natGateways.length]!.id,
      });
      new RouteTableAssociation(this, `private-${index}-routes-association`, { subnetId: privateSubnet.id, routeTableId: routes.id });
      privateRouteTables.push(routes);
      privateSubnets.push(privateSubnet);
    });

    // S3 traffic (the data lake, checkpoints, job code) stays inside AWS and costs no NAT processing.
    new VpcEndpoint(this, 's3-endpoint', {
      vpcId,
      serviceName: `com.amazonaws.${env.aws.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRouteTables.map((table) => table.id),
      tags: { Name: `${name}-s3` },
    });

    if (env.network.interfaceEndpoints) {
      const endpointsGroup = new SecurityGroup(this, 'endpoints-security-group', {
        name: `${name}-endpoints`,
        description: 'HTTPS from inside the VPC to the interface endpoints',
        vpcId,
        tags: { Name: `${name}-endpoints` },
      });
      new VpcSecurityGroupIngressRule(this, 'endpoints-https-from-vpc', {
        securityGroupId: endpointsGroup.id,
        cidrIpv4: env.network.vpcCidr,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        description: 'HTTPS from the VPC',
      });
      new VpcSecurityGroupEgressRule(this, 'endpoints-https-to-vpc', {
        securityGroupId: endpointsGroup.id,
        cidrIpv4: env.network.vpcCidr,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        description: 'Replies stay inside the VPC',
      });
      for (const service of INTERFACE_ENDPOINTS) {
        new VpcEndpoint(this, `${service.replace('.', '-')}-endpoint`, {
          vpcId,
          serviceName: `com.amazonaws.${env.aws.region}.${service}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: privateSubnets.map((subnet) => subnet.id),
          securityGroupIds: [endpointsGroup.id],
          tags: { Name: `${name}-${service}` },
        });
      }
    }

    this.addFlowLogs(env, vpcId, name);
  }

  private addFlowLogs(env: Environment, vpcId: string, name: string): void {
    const logGroup = new CloudwatchLogGroup(this, 'flow-logs', {
      name: `/${PROJECT}/${env.name}/vpc-flow-logs`,
      retentionInDays: env.network.flowLogRetentionDays,
    });
    const role = new IamRole(this, 'flow-logs-role', {
      name: `${name}-flow-logs`,
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': env.aws.accountId } },
        },
      ]),
    });
    new IamRolePolicy(this, 'flow-logs-policy', {
      role: role.id,
      name: 'write-flow-logs',
      policy: policyDocument([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Resource: [logGroup.arn, `${logGroup.arn}:*`],
        },
      ]),
    });
    new FlowLog(this, 'flow-log', {
      vpcId,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    });
  }
}
