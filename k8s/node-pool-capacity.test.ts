import { describe, expect, it } from 'vitest';
import { loadEnvironments, validateEnvironments } from '../environments/load';
import { formatProblem } from '../environments/problem';
import type { Environment } from '../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../pipelines/load';
import { FIXTURE_INPUTS, withValues } from '../scripts/fixtures/environments';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { nodePoolCapacityProblems, nodePoolViolations } from './node-pool-capacity';
import { nodePoolDemand } from './sizing';

const fixtures = await fixturePipelines();
/** A fixture environment with some fields changed, validated. */
const fixture = (name: keyof typeof FIXTURE_INPUTS, changes: Record<string, unknown> = {}): Environment =>
  validateEnvironments({ [name]: withValues(FIXTURE_INPUTS[name], changes) }, Object.keys(FIXTURE_INPUTS))[0]!;
const NAMES = Object.keys(FIXTURE_INPUTS) as Array<keyof typeof FIXTURE_INPUTS>;

describe('the NodePools of every environment', () => {
  it('hold what the pipelines and the platform place on them: the team’s environments and pipelines, and the fixtures', async () => {
    expect(nodePoolCapacityProblems(await loadEnvironments(), await loadPipelines()).map(formatProblem)).toEqual([]);
    expect(nodePoolCapacityProblems(NAMES.map((name) => fixture(name)), fixtures).map(formatProblem)).toEqual([]);
  });
});

describe.each(NAMES)('NodePool capacity in the fixture %s', (name) => {
  const env = fixture(name);
  const demand = nodePoolDemand(env, fixtures);
  const fieldsOf = (e: Environment, pipelines: readonly LoadedPipeline[] = fixtures) => nodePoolViolations(e, pipelines);

  // Each limit at exactly the demand passes, one below it is the one violation, at its own field.
  it.each([
    ['stable', 'cpuLimit', demand.stable.cpu],
    ['stable', 'memoryLimitGiB', demand.stable.memoryGiB],
    ['executors', 'cpuLimit', demand.executors.cpu],
    ['executors', 'memoryLimitGiB', demand.executors.memoryGiB],
  ] as const)('fails if the %s pool’s %s is below what runs there, and passes at exactly that', (pool, unit, needed) => {
    const field = `cluster.nodePools.${pool}.${unit}`;
    expect(needed).toBeGreaterThan(0);
    expect(fieldsOf(fixture(name, { [field]: needed }))).toEqual([]);
    const violations = fieldsOf(fixture(name, { [field]: needed - 1 }));
    expect(violations).toEqual([expect.objectContaining({ field, value: needed - 1 })]);
    expect(violations[0]!.rule).toContain(`must be at least ${needed} (`);
  });

  it('counts on-demand executors against the stable pool and spot ones against the executors pool', () => {
    const onDemand = fixture(name, { 'spark.executorCapacity': 'on-demand' });
    const moved = nodePoolDemand(onDemand, fixtures);
    expect(moved.executors).toMatchObject({ cpu: 0, memoryGiB: 0 });
    expect(moved.stable.cpu).toBeGreaterThan(demand.stable.cpu);
    expect(moved.stable.memoryGiB).toBeGreaterThan(demand.stable.memoryGiB);
    // The executors pool's limits then hold nothing back, however small.
    const tiny = fixture(name, { 'spark.executorCapacity': 'on-demand', 'cluster.nodePools.executors.cpuLimit': 1, 'cluster.nodePools.executors.memoryLimitGiB': 1, 'cluster.nodePools.stable.cpuLimit': moved.stable.cpu, 'cluster.nodePools.stable.memoryLimitGiB': moved.stable.memoryGiB });
    expect(fieldsOf(tiny)).toEqual([]);
    // A pipeline asking for spot where the environment says on-demand is counted on the executors pool again.
    const [first, ...rest] = fixtures;
    const spot = { ...first!, spark: { ...first!.spark, [name]: { ...first!.spark?.[name], executorCapacity: 'spot' as const } } };
    const back = fieldsOf(tiny, [spot, ...rest]).map((v) => v.field);
    expect(back.length).toBeGreaterThan(0);
    expect(back.every((field) => field.startsWith('cluster.nodePools.executors.'))).toBe(true);
  });

  it('accepts spot executors on an executors pool that buys on-demand capacity only', () => {
    expect(fieldsOf(fixture(name, { 'cluster.nodePools.executors.capacityTypes': ['on-demand'] }))).toEqual([]);
  });
});

it('names the file, the field, the value and what it must hold in one line', () => {
  const live = fixture('live');
  const needed = nodePoolDemand(live, fixtures).executors.cpu;
  const [problem, ...others] = nodePoolCapacityProblems([fixture('live', { 'cluster.nodePools.executors.cpuLimit': needed - 1 })], fixtures);
  expect(others).toEqual([]);
  expect(formatProblem(problem!)).toBe(
    `environments/live.ts: environment 'live': 'cluster.nodePools.executors.cpuLimit' must be at least ${needed} (vCPUs requested by the executors on spot capacity of ${fixtures.map((p) => p.name).join(', ')}, from k8s/sizing.ts), or pods stay Pending, got ${needed - 1}`,
  );
});
