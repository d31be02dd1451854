import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installedScanner } from '../toolchain/toolchain';
import { scannerFails } from './checkov-report';
import { runScanner, SKIPS_FILE } from './checkov-run';
import type { SynthesizedOutput, TerraformJson } from './rule';

// The pinned checkov on a project of its own: a stack in the Terraform JSON that cdktf writes (with the
// `terraform.required_version` its parser stops at), one manifest and one workflow, each with a known failure. This
// is the matching of checkov-report.test.ts on the real tool's output, so a bump of checkov that changes how it
// names resources or reports shows here, not as a puzzling CI failure of the project's own output.
const root = mkdtempSync(join(tmpdir(), 'driftless-checkov-engines-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const write = (file: string, text: string) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
};

const STACK = 'cdktf.out/stacks/lab-data-lake/cdk.tf.json';
const stack = {
  terraform: { required_version: '>= 1.10.0', required_providers: { aws: { source: 'aws', version: '6.25.0' } }, backend: { local: { path: 'lab.tfstate' } } },
  provider: { aws: [{ region: 'eu-west-1' }] },
  resource: {
    aws_s3_bucket: { raw_bucket_1234ABCD: { bucket: 'lab-raw' } },
    aws_cloudwatch_log_group: { 'flow-logs': { name: '/lab/flow-logs', retention_in_days: 7 } },
  },
} as const;
const output: SynthesizedOutput = { stacks: [{ environment: 'lab', name: 'lab-data-lake', file: STACK, json: stack as unknown as TerraformJson }], manifests: [] };

write(
  'k8s/rendered/lab/web.yaml',
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: lab }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.29.1
`,
);
write('.github/workflows/ci.yml', 'name: ci\non: push\npermissions: { contents: read }\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo test\n');

const scan = async (skips: string) => {
  write(SKIPS_FILE, skips);
  const checkov = installedScanner();
  if (checkov === undefined) throw new Error("checkov is not installed in the toolchain cache: the engines' global setup installs it");
  return runScanner({ root, checkov, output, environments: ['lab'], everyEnvironment: true });
};

describe('the independent scanner on the pinned checkov', () => {
  it('reads Terraform JSON as cdktf writes it, manifests and workflows, and fails on what no entry explains', async () => {
    const { verdict, version } = await scan('skips: []\n');
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const framework of verdict.frameworks) expect(framework.passed, framework.framework).toBeGreaterThan(0);
    expect(scannerFails(verdict)).toBe(true);
    // A single-resource check (checkov says `resource.<name>`) and a graph check name the bucket the same way.
    expect(verdict.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CKV_AWS_18 {2}aws_s3_bucket\.raw_bucket_1234ABCD {2}cdktf\.out\/stacks\/lab-data-lake\/cdk\.tf\.json: /),
        expect.stringMatching(/^CKV2_AWS_62 {2}aws_s3_bucket\.raw_bucket_1234ABCD {2}/),
        expect.stringMatching(/^CKV_AWS_338 {2}aws_cloudwatch_log_group\.flow-logs {2}/),
        expect.stringMatching(/^CKV_K8S_43 {2}Deployment\.lab\.web {2}k8s\/rendered\/lab\/web\.yaml: /),
      ]),
    );
  });

  it('passes once every failure has an entry with a reason', async () => {
    const first = await scan('skips: []\n');
    const failures = first.verdict.errors.map((line) => /^(\S+) {2}(\S+) {2}/.exec(line)).filter((m) => m !== null);
    const entries = [...new Set(failures.map((m) => `${m[1]} ${m[2]}`))].map((key) => {
      const [check, resource] = key.split(' ');
      return `  - check: ${check}\n    resource: ${resource}\n    reason: This fixture fails the check on purpose, to test the matching.\n`;
    });
    const { verdict } = await scan(`skips:\n${entries.join('')}`);
    expect(verdict.errors).toEqual([]);
    expect(verdict.warnings).toEqual([]);
    expect(verdict.frameworks.reduce((sum, f) => sum + f.skipped, 0)).toBe(failures.length);
  });
});
