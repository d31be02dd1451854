import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../project-copy';
import {
  formatScannerReport,
  judge,
  parseCheckovOutput,
  parseSkips,
  ScannerError,
  scannerCountLine,
  scannerFails,
  terraformResourceResolver,
  type ScannerSkip,
} from './checkov-report';
import { scannable, SKIPS_FILE } from './checkov-run';

// checkov's `-o json --quiet` report in the shape 3.3 prints: a list with one object per framework, failed checks
// only. Single-resource checks of Terraform JSON name `resource.<name>`, graph checks `<type>.<name>`.
const failed = (check_id: string, resource: string, repo_file_path: string) => ({ check_id, check_name: `${check_id} holds`, resource, repo_file_path, file_path: '/ignored' });
const report = (failures: { terraform?: object[]; kubernetes?: object[]; workflows?: object[] } = {}) =>
  JSON.stringify([
    { check_type: 'terraform_json', results: { failed_checks: failures.terraform ?? [] }, summary: { passed: 40, failed: (failures.terraform ?? []).length, parsing_errors: 0 } },
    { check_type: 'kubernetes', results: { failed_checks: failures.kubernetes ?? [] }, summary: { passed: 30, failed: (failures.kubernetes ?? []).length, parsing_errors: 0 } },
    { check_type: 'github_actions', results: { failed_checks: failures.workflows ?? [] }, summary: { passed: 20, failed: (failures.workflows ?? []).length, parsing_errors: 0 } },
  ]);

const STACK = 'cdktf.out/stacks/fixture-network/cdk.tf.json';
const stack = { resource: { aws_cloudwatch_log_group: { 'flow-logs': {} }, aws_s3_bucket: { raw_bucket_1234ABCD: {} } }, data: { aws_availability_zones: { zones: {} } } };
const resolve = terraformResourceResolver((file) => (file === STACK ? stack : undefined));

const REASON = 'Not applicable here, for a reason a reviewer can check.';
const skipsYaml = (skips: readonly ScannerSkip[]) => `skips:\n${skips.map((s) => `  - check: ${s.check}\n    resource: ${s.resource}\n    reason: ${JSON.stringify(s.reason)}\n`).join('')}`;
const verdictOf = (output: string, skips: readonly ScannerSkip[], everyEnvironment = true) =>
  judge(parseCheckovOutput(output, resolve), parseSkips(skipsYaml(skips), 'skips.yaml'), everyEnvironment);

const logFailure = failed('CKV_AWS_158', 'resource.flow-logs', `/${STACK}`);
const logSkip = { check: 'CKV_AWS_158', resource: 'aws_cloudwatch_log_group.flow-logs', reason: REASON };

describe('the independent scanner', () => {
  it('fails on a failed check that no entry explains, naming check, resource and file', () => {
    const verdict = verdictOf(report({ terraform: [logFailure] }), []);
    expect(scannerFails(verdict)).toBe(true);
    expect(verdict.errors).toEqual([expect.stringMatching(/^CKV_AWS_158 {2}aws_cloudwatch_log_group\.flow-logs {2}cdktf\.out\/stacks\/fixture-network\/cdk\.tf\.json: /)]);
    expect(verdict.frameworks.find((f) => f.framework === 'terraform_json')).toEqual({ framework: 'terraform_json', passed: 40, failed: 1, skipped: 0 });
  });

  it('passes when every failed check is explained, and counts it as skipped with its reason', () => {
    const k8s = failed('CKV_K8S_43', 'Deployment.spark.history', '/k8s/rendered/fixture/spark/history.yaml');
    const verdict = verdictOf(report({ terraform: [logFailure], kubernetes: [k8s] }), [logSkip, { check: 'CKV_K8S_43', resource: 'Deployment.spark.history', reason: REASON }]);
    expect(scannerFails(verdict)).toBe(false);
    expect(verdict.frameworks.map((f) => [f.framework, f.passed, f.failed, f.skipped])).toEqual([
      ['terraform_json', 40, 0, 1],
      ['kubernetes', 30, 0, 1],
      ['github_actions', 20, 0, 0],
    ]);
    expect(scannerCountLine(verdict)).toBe('scanner: 90 passed, 0 failed, 2 skipped, 0 errors, 0 warnings');
    expect(formatScannerReport(verdict, '3.3.30')).toContain(`because: ${REASON}`);
  });

  it('matches an entry by check and resource: another check on the same resource is still a failure', () => {
    const verdict = verdictOf(report({ terraform: [logFailure, failed('CKV_AWS_338', 'resource.flow-logs', `/${STACK}`)] }), [logSkip]);
    expect(verdict.errors).toEqual([expect.stringContaining('CKV_AWS_338  aws_cloudwatch_log_group.flow-logs')]);
  });

  it('names a resource the same way whichever kind of check found it', () => {
    const graph = failed('CKV2_AWS_62', 'aws_s3_bucket.raw_bucket_1234ABCD', `/${STACK}`);
    const single = failed('CKV_AWS_18', 'resource.raw_bucket_1234ABCD', `/${STACK}`);
    const data = failed('CKV_AWS_394', 'data.zones', `/${STACK}`);
    const resources = parseCheckovOutput(report({ terraform: [graph, single, data] }), resolve)[0]!.failures.map((f) => f.resource);
    expect(resources).toEqual(['aws_s3_bucket.raw_bucket_1234ABCD', 'aws_s3_bucket.raw_bucket_1234ABCD', 'data.aws_availability_zones.zones']);
  });

  it('reports a stale entry as a warning, and under --env says another environment may need it', () => {
    const stale = { check: 'CKV_AWS_39', resource: 'aws_eks_cluster.cluster', reason: REASON };
    const all = verdictOf(report(), [stale]);
    expect(all.errors).toEqual([]);
    expect(all.warnings).toEqual([expect.stringMatching(/^skip CKV_AWS_39 aws_eks_cluster\.cluster excuses no failure: remove it/)]);
    expect(scannerCountLine(all)).toMatch(/, 0 errors, 1 warnings$/);
    const some = verdictOf(report(), [stale], false);
    expect(some.errors).toEqual([]);
    expect(some.warnings).toEqual([expect.stringContaining('excuses no failure in the environments scanned')]);
  });

  it.each([
    ['a short reason', { ...logSkip, reason: 'Not needed.' }, 'must give a reason of at least a sentence'],
    ['a reason without a period', { ...logSkip, reason: 'Not needed here for a good reason' }, 'must give a reason of at least a sentence'],
    ['no check ID', { ...logSkip, check: 'encrypt-logs' }, 'must name a checkov check'],
    ['a wildcard resource', { ...logSkip, resource: 'aws_cloudwatch_log_group.*' }, 'must name one resource'],
  ])('rejects an entry with %s, and does not let it excuse the failure', (_, skip, problem) => {
    const verdict = verdictOf(report({ terraform: [logFailure] }), [skip]);
    expect(verdict.errors).toEqual(expect.arrayContaining([expect.stringContaining(problem), expect.stringContaining('CKV_AWS_158  aws_cloudwatch_log_group.flow-logs')]));
  });

  it('rejects a repeated entry and one with fields it does not know', () => {
    expect(parseSkips(skipsYaml([logSkip, logSkip]), 'skips.yaml').problems).toEqual([expect.stringContaining('is skipped twice')]);
    const extra = parseSkips(`skips:\n  - { check: CKV_AWS_18, resource: aws_s3_bucket.logs, reason: "${REASON}", environment: prod }\n`, 'skips.yaml');
    expect(extra.problems).toEqual([expect.stringContaining('must be { check, resource, reason }')]);
    expect(parseSkips('- a list\n', 'skips.yaml').problems).toEqual([expect.stringContaining("must hold 'skips:'")]);
  });

  it('fails a scan in which a framework checked nothing or could not parse a file', () => {
    const empty = JSON.stringify([
      { check_type: 'terraform_json', results: { failed_checks: [] }, summary: { passed: 0, failed: 0, parsing_errors: 4 } },
      { check_type: 'kubernetes', results: { failed_checks: [] }, summary: { passed: 3, failed: 0, parsing_errors: 0 } },
    ]);
    const verdict = verdictOf(empty, []);
    expect(verdict.errors).toEqual([
      expect.stringContaining("terraform_json framework passed no check"),
      expect.stringContaining('terraform_json framework could not parse 4 files'),
      expect.stringContaining("github_actions framework passed no check"),
    ]);
  });

  it('reads a single report object as well as a list, and refuses output that is not a report', () => {
    const single = JSON.stringify({ check_type: 'github_actions', results: { failed_checks: [] }, summary: { passed: 5, failed: 0 } });
    expect(parseCheckovOutput(single).map((r) => [r.framework, r.passed])).toEqual([['github_actions', 5]]);
    expect(() => parseCheckovOutput('Traceback (most recent call last):')).toThrow(ScannerError);
    expect(() => parseCheckovOutput('{"passed": 0}')).toThrow(ScannerError);
  });

  it("keeps the terraform block's nested blocks for checkov and drops the plain settings its parser refuses", () => {
    const json = { terraform: { required_version: '>= 1.10.0', backend: { s3: { bucket: 'b' } }, required_providers: { aws: { version: '6.25.0' } } }, resource: { a: { b: {} } } };
    expect(scannable(json)).toEqual({ terraform: { backend: { s3: { bucket: 'b' } }, required_providers: { aws: { version: '6.25.0' } } }, resource: { a: { b: {} } } });
  });

  it('has a reviewed skip file in which every entry is well formed', () => {
    const parsed = parseSkips(readFileSync(join(PROJECT_ROOT, SKIPS_FILE), 'utf8'), SKIPS_FILE);
    expect(parsed.problems).toEqual([]);
    expect(parsed.skips.length).toBeGreaterThan(0);
  });
});
