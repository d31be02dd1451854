import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { fixtureEnvironments } from '../fixtures/environments';
import { evaluate } from './engine';
import { countLine, fails, formatReport } from './report';
import type { EnvironmentRule, ManifestRule, SynthesizedOutput, TerraformRule } from './rule';
import { RULES } from './rules';
import { INVALID_SUPPRESSION, UNUSED_SUPPRESSION } from './suppressions';

// Exact expectations use the fixture environments (lab, trial, live, deployed in that order); the engine's
// handling of whatever environments the project has is checked as a property at the end.
const environments = fixtureEnvironments();
const [lab, trial, live] = environments.map((env) => env.name) as [string, string, string];
/** The project's own environments, however many and however named. */
const own = await loadEnvironments();

const flagged: TerraformRule = {
  id: 'DL-TEST-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_thing'],
  description: 'Things are not flagged.',
  hint: 'Unflag it.',
  check: (r) => (r.block.flag === true ? ['the thing is flagged'] : []),
};
const noted: ManifestRule = {
  id: 'DL-TEST-002',
  severity: 'warning',
  target: 'manifest',
  kinds: ['*'],
  description: 'Objects are not noted.',
  hint: 'Remove the note.',
  check: (o) => (o.metadata.labels?.note === 'yes' ? ['the object is noted'] : []),
};
const broken: ManifestRule = {
  id: 'DL-TEST-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['Thing'],
  description: 'A rule that throws on odd input.',
  hint: 'Fix the rule.',
  check: (o) => [String((o.spec as { a: { b: unknown } }).a.b)],
};
const perEnvironment: EnvironmentRule = {
  id: 'DL-TEST-004',
  severity: 'error',
  target: 'environment',
  description: 'Every environment renders something.',
  hint: 'Render something.',
  check: ({ env, manifests }) => (manifests.length === 0 ? [`environment '${env.name}' renders nothing`] : []),
};

const output: SynthesizedOutput = {
  stacks: [
    { environment: live, name: `${live}-a`, file: 'x', json: { resource: { aws_thing: { t: { flag: true } } } } },
    { environment: lab, name: `${lab}-a`, file: 'x', json: { resource: { aws_thing: { t: { flag: true } } } } },
  ],
  manifests: [
    { environment: live, file: `k8s/rendered/${live}/a/thing.yaml`, object: { kind: 'Thing', metadata: { name: 'x', labels: { note: 'yes' } }, spec: {} } },
    { environment: lab, file: `k8s/rendered/${lab}/a/other.yaml`, object: { kind: 'Other', metadata: { name: 'y', namespace: 'n' } } },
  ],
};
const only = (name: string) => environments.filter((env) => env.name === name);

describe('evaluate', () => {
  const result = evaluate([flagged, noted, broken, perEnvironment], output, environments);

  it('groups findings by environment in the order given, errors first, Terraform before manifests', () => {
    expect(result.findings.map((f) => `${f.environment} ${f.severity} ${f.ruleId} ${f.location}`)).toEqual([
      'lab error DL-TEST-001 lab-a',
      'trial error DL-TEST-004 k8s/rendered/trial',
      'live error DL-TEST-001 live-a',
      'live error DL-TEST-003 k8s/rendered/live/a/thing.yaml',
      'live warning DL-TEST-002 k8s/rendered/live/a/thing.yaml',
    ]);
  });

  it('turns a rule that throws on odd input into a finding of that rule instead of stopping', () => {
    expect(result.findings.find((f) => f.ruleId === 'DL-TEST-003')!.message).toContain('the rule could not check this');
  });

  it('ignores output of environments it was not asked about', () => {
    const onlyLive = evaluate([flagged], output, only(live));
    expect(onlyLive.findings.map((f) => f.environment)).toEqual([live]);
    expect(onlyLive.checked).toEqual({ stacks: 1, resources: 1, manifests: 1, rules: 1 });
  });
});

describe('the report', () => {
  const result = evaluate([flagged, noted, perEnvironment], output, environments);
  const report = formatReport(result);

  it('ends with the count line and fails on errors', () => {
    expect(report.trimEnd().split('\n').at(-1)).toBe('3 errors, 1 warnings, 0 suppressed');
    expect(countLine(result)).toBe('3 errors, 1 warnings, 0 suppressed');
    expect(fails(result)).toBe(true);
  });

  it('prints each finding with rule, location, subject, message and the fix', () => {
    expect(report).toContain('live: 1 errors, 1 warnings, 0 suppressed');
    expect(report).toContain('  error    DL-TEST-001  live-a  aws_thing.t\n           the thing is flagged\n           fix: Unflag it.');
    expect(report.indexOf('\nlab: ')).toBeGreaterThan(-1);
    expect(report.indexOf('\nlab: ')).toBeLessThan(report.indexOf('\ntrial: '));
    expect(report.indexOf('\ntrial: ')).toBeLessThan(report.indexOf('\nlive: '));
  });

  it('lists suppressed findings with their reasons and passes when only warnings remain', () => {
    const suppressedOutput: SynthesizedOutput = {
      stacks: [{ environment: live, name: `${live}-a`, file: 'x', json: { resource: { aws_thing: { t: { flag: true, '//': { suppressions: { 'DL-TEST-001': 'The flag is wanted here, for the test.' } } } } } } }],
      manifests: output.manifests.filter((m) => m.environment === live),
    };
    const quiet = evaluate([flagged, noted], suppressedOutput, only(live));
    const text = formatReport(quiet);
    expect(text).toContain('suppressed: the thing is flagged\n           because: The flag is wanted here, for the test.');
    expect(text.trimEnd().split('\n').at(-1)).toBe('0 errors, 1 warnings, 1 suppressed');
    expect(fails(quiet)).toBe(false);
  });
});

describe('the rule catalogue', () => {
  it('gives every rule a unique ID of the form DL-<AREA>-<nnn>, a description and a hint', () => {
    const ids = RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of [...RULES, INVALID_SUPPRESSION, UNUSED_SUPPRESSION]) {
      expect(rule.id).toMatch(/^DL-[A-Z0-9]+-\d{3}$/);
      expect(rule.description.length, rule.id).toBeGreaterThan(20);
      expect(rule.hint.length, rule.id).toBeGreaterThan(10);
    }
    expect(ids).not.toContain(INVALID_SUPPRESSION.id);
    expect(ids).not.toContain(UNUSED_SUPPRESSION.id);
  });

  it('targets resource types and kinds that exist, each rule at least one', () => {
    for (const rule of RULES) {
      if (rule.target === 'terraform') expect(rule.types.length, rule.id).toBeGreaterThan(0);
      if (rule.target === 'manifest') expect(rule.kinds.length, rule.id).toBeGreaterThan(0);
    }
  });
});

describe("the project's environments", () => {
  it('are each evaluated once, in deploy order, and the report has a line for each', () => {
    const result = evaluate([perEnvironment], { stacks: [], manifests: [] }, own);
    expect(result.environments).toEqual(own.map((env) => env.name));
    expect(result.findings.map((f) => f.environment)).toEqual(own.map((env) => env.name));
    const report = formatReport(result);
    const positions = own.map((env) => report.indexOf(`\n${env.name}: 1 errors, 0 warnings, 0 suppressed`));
    expect(positions.every((at) => at >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
