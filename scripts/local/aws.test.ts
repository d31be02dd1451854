import { describe, expect, it } from 'vitest';
import { driftLines, emulatorEnv, planChangeLines } from './aws';

describe('what drift against the emulator names', () => {
  it('each resource changed outside Terraform with the attributes that changed, and what the plan would do', () => {
    const plan = {
      resource_drift: [
        {
          address: 'aws_s3_bucket_versioning.raw',
          change: { actions: ['update'], before: { bucket: 'raw', versioning_configuration: [{ status: 'Enabled' }] }, after: { bucket: 'raw', versioning_configuration: [{ status: 'Suspended' }] } },
        },
        {
          address: 'aws_iam_role.node',
          change: { actions: ['update'], before: { assume_role_policy: '{"Statement":[{"Effect":"Allow"}]}' }, after: { assume_role_policy: '{"Statement":[{"Effect":"Deny"}]}' } },
        },
        { address: 'aws_vpc.main', change: { actions: ['no-op'], before: { id: 'v' }, after: { id: 'v' } } },
      ],
      resource_changes: [
        { address: 'aws_s3_bucket_versioning.raw', change: { actions: ['update'], before: { versioning_configuration: [{ status: 'Suspended' }] }, after: { versioning_configuration: [{ status: 'Enabled' }] } } },
        { address: 'aws_kms_key.data', change: { actions: ['delete', 'create'], before: {}, after: {} } },
        { address: 'data.aws_vpc.main', change: { actions: ['read'], before: null, after: {} } },
      ],
    };
    expect(driftLines(plan)).toEqual([
      'aws_s3_bucket_versioning.raw: changed outside Terraform: versioning_configuration[0].status',
      'aws_iam_role.node: changed outside Terraform: assume_role_policy › Statement[0].Effect',
      'aws_s3_bucket_versioning.raw: the plan would update it: versioning_configuration[0].status',
      'aws_kms_key.data: the plan would delete and create it',
    ]);
  });

  it('keeps the resource headers and changed attributes of a human-readable plan', () => {
    const output = [
      'aws_vpc.main: Refreshing state... [id=vpc-1]',
      '',
      '  # aws_launch_template.general will be updated in-place',
      '  ~ resource "aws_launch_template" "general" {',
      '      ~ default_version = 1 -> (known after apply)',
      '        # (3 unchanged attributes hidden)',
      '    }',
      'Plan: 0 to add, 1 to change, 0 to destroy.',
    ].join('\n');
    expect(planChangeLines(output)).toEqual([
      '  # aws_launch_template.general will be updated in-place',
      '  ~ resource "aws_launch_template" "general" {',
      '      ~ default_version = 1 -> (known after apply)',
      'Plan: 0 to add, 1 to change, 0 to destroy.',
    ]);
  });
});

describe("the emulator's variables", () => {
  it('point at the emulator with test credentials and drop whatever could reach a real account', () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_PROFILE: 'prod-admin', AWS_SESSION_TOKEN: 'secret', TF_CLI_CONFIG_FILE: '/home/me/.terraformrc', https_proxy: 'http://corp:3128', TF_VAR_x: '1' });
    try {
      const env = emulatorEnv({ endpoint: 'http://127.0.0.1:19405', pid: 1, accountId: '111111111111', region: 'eu-central-1' }, { tofu: 'tofu', cliConfig: '/c/tofu.rc', env: { TF_CLI_CONFIG_FILE: '/c/tofu.rc' }, versionOverride: '/c/o.json', lockFile: '/c/l' });
      expect(env['AWS_ENDPOINT_URL']).toBe('http://127.0.0.1:19405');
      expect(env['HTTP_PROXY']).toBe('http://127.0.0.1:19405');
      expect([env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']]).toEqual(['test', 'test']);
      expect(env['TF_CLI_CONFIG_FILE']).toBe('/c/tofu.rc');
      for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'https_proxy', 'TF_VAR_x']) expect(env[name], name).toBeUndefined();
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
