import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { fixtureEnvironment, fixtureEnvironments } from '../fixtures/environments';
import { evaluate } from './engine';
import type { KubeObject, ManifestRule, SynthesizedOutput, TerraformJson, TerraformRule } from './rule';
import { manifestSuppressions, suppressionProblem, terraformSuppressions } from './suppressions';

// Suppressions do not depend on the environment's values: one fixture environment is the context.
const env = fixtureEnvironment('live');
/** The fixture environments and the project's own, however many and however named. */
const every = [...fixtureEnvironments(), ...(await loadEnvironments())];

// Two toy rules, so that these tests are about suppressions and not about any real rule.
const noDanger: TerraformRule = {
  id: 'DL-TEST-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_thing'],
  description: 'Things are not dangerous.',
  hint: 'Make it safe.',
  check: (resource) => (resource.block.dangerous === true ? ['the thing is dangerous'] : []),
};
const noDangerousObjects: ManifestRule = {
  id: 'DL-TEST-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['Thing'],
  description: 'Things are not dangerous.',
  hint: 'Make it safe.',
  check: (object) => (object.spec?.dangerous === true ? ['the object is dangerous'] : []),
};
const RULES = [noDanger, noDangerousObjects];

const REASON = 'It is dangerous on purpose, for this test only.';
const run = (output: Partial<SynthesizedOutput>) => evaluate(RULES, { stacks: [], manifests: [], ...output }, [env]);
const stackWith = (things: Record<string, object>): SynthesizedOutput['stacks'] => [
  { environment: env.name, name: `${env.name}-fixture`, file: 'fixture', json: { resource: { aws_thing: things } } as TerraformJson },
];
const thing = (annotations: Record<string, string> | undefined, dangerous = true): KubeObject => ({
  kind: 'Thing',
  metadata: { name: 't', namespace: 'n', ...(annotations ? { annotations } : {}) },
  spec: { dangerous },
});
const manifestsWith = (...objects: KubeObject[]): SynthesizedOutput['manifests'] =>
  objects.map((object, index) => ({ environment: env.name, file: `k8s/rendered/${env.name}/x/thing-${index}.yaml`, object }));

describe('suppressions in Terraform metadata', () => {
  it('excuses the finding of the named rule on that resource, written as a map of IDs to reasons', () => {
    const result = run({ stacks: stackWith({ a: { dangerous: true, '//': { metadata: {}, suppressions: { 'DL-TEST-001': REASON } } } }) });
    expect(result.findings).toEqual([]);
    expect(result.suppressed).toEqual([expect.objectContaining({ ruleId: 'DL-TEST-001', subject: 'aws_thing.a', reason: REASON, message: 'the thing is dangerous' })]);
  });

  it('reads the list form [{ id, reason }] too', () => {
    const result = run({ stacks: stackWith({ a: { dangerous: true, '//': { suppressions: [{ id: 'DL-TEST-001', reason: REASON }] } } }) });
    expect(result.findings).toEqual([]);
    expect(result.suppressed).toHaveLength(1);
  });

  it('excuses nothing on another resource', () => {
    const result = run({ stacks: stackWith({ a: { dangerous: false, '//': { suppressions: { 'DL-TEST-001': REASON } } }, b: { dangerous: true } }) });
    expect(result.findings.map((f) => [f.ruleId, f.subject])).toEqual([
      ['DL-TEST-001', 'aws_thing.b'],
      ['DL-POLICY-002', 'aws_thing.a'],
    ]);
  });

  it.each([
    ['too short', 'Because.', 'must give a reason of at least a sentence'],
    ['without a period', 'It is dangerous on purpose for this test', 'must give a reason of at least a sentence'],
    ['empty', '', 'must give a reason of at least a sentence'],
  ])('rejects a reason that is %s, and keeps the finding', (_, reason, message) => {
    const result = run({ stacks: stackWith({ a: { dangerous: true, '//': { suppressions: { 'DL-TEST-001': reason } } } }) });
    expect(result.suppressed).toEqual([]);
    expect(result.findings.map((f) => f.ruleId).sort()).toEqual(['DL-POLICY-001', 'DL-TEST-001']);
    expect(result.findings.find((f) => f.ruleId === 'DL-POLICY-001')).toMatchObject({ severity: 'error', subject: 'aws_thing.a' });
    expect(result.findings.find((f) => f.ruleId === 'DL-POLICY-001')!.message).toContain(message);
  });

  it('rejects a suppression of a rule that does not exist', () => {
    const result = run({ stacks: stackWith({ a: { '//': { suppressions: { 'DL-S3-999': REASON } } } }) });
    expect(result.findings).toEqual([expect.objectContaining({ ruleId: 'DL-POLICY-001', message: "suppression 'DL-S3-999' names no known rule" })]);
  });

  it('rejects malformed entries', () => {
    expect(terraformSuppressions({ '//': { suppressions: [{ id: 'DL-TEST-001' }] } }).problems[0]).toContain('must be { id, reason } with two strings');
    expect(terraformSuppressions({ '//': { suppressions: 'DL-TEST-001' } }).problems[0]).toContain("'//.suppressions' must map rule IDs to reasons");
    expect(terraformSuppressions({ '//': { suppressions: { 'DL-TEST-001': 3 } } }).problems[0]).toContain('must have a reason as a string');
  });

  it('warns about a suppression that excuses nothing, so that a stale excuse cannot hide the next problem', () => {
    const result = run({ stacks: stackWith({ a: { dangerous: false, '//': { suppressions: { 'DL-TEST-001': REASON } } } }) });
    expect(result.findings).toEqual([
      expect.objectContaining({ ruleId: 'DL-POLICY-002', severity: 'warning', message: "suppression 'DL-TEST-001' excuses nothing: DL-TEST-001 finds no problem here" }),
    ]);
  });
});

describe('suppressions in manifest annotations', () => {
  it('excuses the named rule with the reason, and reads several entries whose reasons contain semicolons', () => {
    const annotation = `DL-TEST-002: ${REASON.replace(',', ';')}; DL-TEST-001: Another reason; with a semicolon too.`;
    expect(manifestSuppressions(thing({ 'driftless.io/suppress': annotation })).suppressions).toEqual([
      { id: 'DL-TEST-002', reason: REASON.replace(',', ';') },
      { id: 'DL-TEST-001', reason: 'Another reason; with a semicolon too.' },
    ]);
    const result = run({ manifests: manifestsWith(thing({ 'driftless.io/suppress': `DL-TEST-002: ${REASON}` })) });
    expect(result.findings).toEqual([]);
    expect(result.suppressed).toEqual([expect.objectContaining({ ruleId: 'DL-TEST-002', subject: 'Thing/n/t', location: `k8s/rendered/${env.name}/x/thing-0.yaml`, reason: REASON })]);
  });

  it('rejects an entry without a rule ID', () => {
    const result = run({ manifests: manifestsWith(thing({ 'driftless.io/suppress': 'because it is fine.' })) });
    expect(result.findings.map((f) => f.ruleId).sort()).toEqual(['DL-POLICY-001', 'DL-TEST-002']);
  });

  it('rejects a suppression without a real reason', () => {
    const result = run({ manifests: manifestsWith(thing({ 'driftless.io/suppress': 'DL-TEST-002: ok' })) });
    expect(result.suppressed).toEqual([]);
    expect(result.findings.map((f) => f.ruleId).sort()).toEqual(['DL-POLICY-001', 'DL-TEST-002']);
  });
});

describe('suppressions in every environment', () => {

  it.each(every.map((each) => [each.name, each] as const))('excuse and reject alike in %s', (name, each) => {
    const output: SynthesizedOutput = {
      stacks: [{ environment: name, name: `${name}-fixture`, file: 'fixture', json: { resource: { aws_thing: { a: { dangerous: true, '//': { suppressions: { 'DL-TEST-001': REASON } } }, b: { dangerous: true, '//': { suppressions: { 'DL-TEST-001': 'Short.' } } } } } } }],
      manifests: [{ environment: name, file: `k8s/rendered/${name}/x/thing.yaml`, object: thing({ 'driftless.io/suppress': `DL-TEST-002: ${REASON}` }) }],
    };
    const result = evaluate(RULES, output, [each]);
    expect(result.suppressed.map((f) => [f.environment, f.ruleId, f.subject])).toEqual([
      [name, 'DL-TEST-001', 'aws_thing.a'],
      [name, 'DL-TEST-002', 'Thing/n/t'],
    ]);
    expect(result.findings.map((f) => [f.environment, f.ruleId, f.subject])).toEqual([
      [name, 'DL-POLICY-001', 'aws_thing.b'],
      [name, 'DL-TEST-001', 'aws_thing.b'],
    ]);
  });
});

describe('suppressionProblem', () => {
  const known = new Set(['DL-TEST-001']);
  it.each([
    [{ id: 'DL-TEST-001', reason: REASON }, undefined],
    [{ id: 'dl-test-001', reason: REASON }, 'must name a rule ID'],
    [{ id: 'DL-TEST-003', reason: REASON }, 'names no known rule'],
    [{ id: 'DL-TEST-001', reason: '   A sentence but padded.   ' }, undefined],
    [{ id: 'DL-TEST-001', reason: 'Short.' }, 'at least a sentence'],
  ])('judges %j', (suppression, problem) => {
    const found = suppressionProblem(suppression, known);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
