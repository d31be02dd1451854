import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { clusterName, KARPENTER_DISCOVERY_TAG } from '../../environments/naming';
import { FIXTURE_INPUTS, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { stackOf, synthesizeStacks } from '../synthesized-stacks';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

describe.each(environments)('the $name network', (env) => {
  const network = stackOf(synthesizeStacks(env, []), env.name, 'network');
  const subnets = Object.values(network.resources('aws_subnet'));
  const tier = (name: string) => subnets.filter((s) => s.tags['driftless.io/subnet-tier'] === name);

  it('spans the environment AZs with one private and one public subnet in each, inside the VPC range', () => {
    expect(Object.values(network.resources('aws_vpc'))).toEqual([expect.objectContaining({ cidr_block: env.network.vpcCidr })]);
    expect(tier('private')).toHaveLength(env.network.azCount);
    expect(tier('public')).toHaveLength(env.network.azCount);
    const azs = subnets.map((s) => s.availability_zone);
    expect(new Set(azs).size).toBe(env.network.azCount);
    const cidrs = subnets.map((s) => s.cidr_block as string);
    expect(new Set(cidrs).size).toBe(cidrs.length);
  });

  it('tags subnets for EKS load balancers and never gives public addresses on launch', () => {
    for (const s of tier('public')) expect(s.tags['kubernetes.io/role/elb']).toBe('1');
    for (const s of tier('private')) expect(s.tags['kubernetes.io/role/internal-elb']).toBe('1');
    for (const s of subnets) expect(s.map_public_ip_on_launch ?? false).toBe(false);
  });

  it("tags exactly the private subnets, where the cluster's nodes run, for Karpenter's discovery with the cluster name", () => {
    const discovered = subnets.filter((s) => s.tags[KARPENTER_DISCOVERY_TAG] !== undefined);
    expect(discovered).toEqual(tier('private'));
    for (const s of discovered) expect(s.tags[KARPENTER_DISCOVERY_TAG]).toBe(clusterName(env.name));
  });

  it('creates the environment number of NAT gateways and routes every private subnet through one', () => {
    expect(Object.keys(network.resources('aws_nat_gateway'))).toHaveLength(env.network.natGateways);
    const privateDefaults = Object.values(network.resources('aws_route')).filter((r) => r.nat_gateway_id !== undefined);
    expect(privateDefaults).toHaveLength(env.network.azCount);
    for (const route of privateDefaults) expect(route.destination_cidr_block).toBe('0.0.0.0/0');
  });

  it('keeps S3 traffic on a gateway endpoint, and adds interface endpoints exactly when asked', () => {
    const endpoints = Object.values(network.resources('aws_vpc_endpoint'));
    expect(endpoints.filter((e) => e.vpc_endpoint_type === 'Gateway').map((e) => e.service_name)).toEqual([`com.amazonaws.${env.aws.region}.s3`]);
    const interfaces = endpoints.filter((e) => e.vpc_endpoint_type === 'Interface').map((e) => e.service_name).sort();
    expect(interfaces).toEqual(env.network.interfaceEndpoints ? ['ecr.api', 'ecr.dkr', 'logs', 'sts'].map((s) => `com.amazonaws.${env.aws.region}.${s}`) : []);
    for (const endpoint of endpoints.filter((e) => e.vpc_endpoint_type === 'Interface')) expect(endpoint.private_dns_enabled).toBe(true);
  });

  it('records all traffic in flow logs kept for the environment retention', () => {
    expect(Object.values(network.resources('aws_flow_log'))).toEqual([expect.objectContaining({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs' })]);
    expect(Object.values(network.resources('aws_cloudwatch_log_group'))).toEqual([
      expect.objectContaining({ retention_in_days: env.network.flowLogRetentionDays }),
    ]);
  });

  it('closes the default security group', () => {
    expect(Object.values(network.resources('aws_default_security_group'))).toEqual([expect.objectContaining({ ingress: [], egress: [] })]);
  });
});

describe('NAT gateways and interface endpoints by environment', () => {
  const networks = new Map(fixtureEnvironments().map((env) => [env.name, stackOf(synthesizeStacks(env, []), env.name, 'network')]));
  const network = (name: keyof typeof FIXTURE_INPUTS) => networks.get(name)!;
  const natOfEachRoute = (name: keyof typeof FIXTURE_INPUTS) =>
    Object.values(network(name).resources('aws_route')).flatMap((r) => (r.nat_gateway_id === undefined ? [] : [r.nat_gateway_id as string]));
  const natGateways = (name: keyof typeof FIXTURE_INPUTS) => Object.keys(network(name).resources('aws_nat_gateway')).map((ref) => `\${aws_nat_gateway.${ref}.id}`);

  it('routes every AZ through the one NAT gateway of an environment that has one for three AZs', () => {
    expect([FIXTURE_INPUTS.trial.network.natGateways, FIXTURE_INPUTS.trial.network.azCount]).toEqual([1, 3]);
    const [nat] = natGateways('trial');
    expect(natOfEachRoute('trial')).toEqual([nat, nat, nat]);
  });

  it('routes each AZ through a NAT gateway of its own where there is one per AZ', () => {
    expect([FIXTURE_INPUTS.live.network.natGateways, FIXTURE_INPUTS.live.network.azCount]).toEqual([3, 3]);
    expect(natGateways('live')).toHaveLength(3);
    expect(natOfEachRoute('live').sort()).toEqual(natGateways('live').sort());
  });

  it('adds the ECR, STS and logs interface endpoints with private DNS where asked, and none where not', () => {
    const interfaces = (name: keyof typeof FIXTURE_INPUTS) =>
      Object.values(network(name).resources('aws_vpc_endpoint')).filter((e) => e.vpc_endpoint_type === 'Interface');
    expect(FIXTURE_INPUTS.lab.network.interfaceEndpoints).toBe(false);
    expect(interfaces('lab')).toEqual([]);
    expect(FIXTURE_INPUTS.trial.network.interfaceEndpoints).toBe(true);
    const region = FIXTURE_INPUTS.trial.aws.region;
    expect(interfaces('trial').map((e) => [e.service_name, e.private_dns_enabled]).sort()).toEqual([
      [`com.amazonaws.${region}.ecr.api`, true],
      [`com.amazonaws.${region}.ecr.dkr`, true],
      [`com.amazonaws.${region}.logs`, true],
      [`com.amazonaws.${region}.sts`, true],
    ]);
  });
});
