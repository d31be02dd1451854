import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_INPUTS } from './fixtures/environments';
import { childEnv, runScript, stubTerraform, synthesize, throwawayRepository, useFixtures } from './test-projects';

// One throwaway repository with the fixture environments and pipelines (the script copies the project with Git's
// file list) and a stand-in terraform first on PATH. Each run synthesizes lab once, in the script's own copy.
// lab keeps its Terraform state locally, which the script must then read from the project, not from its copy.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-drift-test-'));
const repo = join(scratch, 'repo');
const stubs = stubTerraform(join(scratch, 'bin'));
const log = join(scratch, 'terraform.log');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Synthesized before the commit: the committed k8s/rendered/lab is then fresh, whatever the project's state.
beforeAll(
  () =>
    throwawayRepository(repo, (dir) => {
      useFixtures(dir);
      synthesize(dir, '--env', 'lab');
    }),
  60_000,
);

const STACKS = ['lab-network', 'lab-data-lake', 'lab-cluster', 'lab-bootstrap'];

/** Runs drift for lab with the stand-in terraform; its calls go to `<scratch>/<logName>`. */
function drift(stub: Record<string, string> = {}, logName = 'terraform.log') {
  const logFile = join(scratch, logName);
  rmSync(logFile, { force: true });
  return runScript(repo, 'drift', ['--env', 'lab'], childEnv({ PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: logFile, ...stub }));
}

type Run = Awaited<ReturnType<typeof drift>>;
let inSync: Run;
let stackDrifted: Run;
let allFail: Run;
let oneFails: Run;

describe('npm run drift -- --env <env>', () => {
  // The runs that leave the repository as it is go side by side.
  beforeAll(async () => {
    [inSync, stackDrifted, allFail, oneFails] = await Promise.all([
      drift({}, 'terraform.log'),
      drift({ STUB_DRIFT_STACK: 'lab-data-lake' }, 'drifted.log'),
      drift({ STUB_FAIL_ALL: '1' }, 'all-fail.log'),
      drift({ STUB_FAIL_STACK: 'lab-cluster', STUB_DRIFT_STACK: 'lab-network' }, 'one-fails.log'),
    ]);
  }, 120_000);

  it('exits 0 when every stack plans no changes and k8s/rendered matches a fresh synth', () => {
    const run = inSync;
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('**lab**: in sync · Terraform: no stack drifted · Kubernetes: k8s/rendered matches a fresh synth');
    for (const stack of STACKS) expect(run.stdout).toContain(`- ${stack}: in sync`);
    // init, then plan with the detailed exit code, per stack in the order they are applied.
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.map((call) => `${/-chdir=\S*\/([^/\s]+) /.exec(call)?.[1]} ${call.split(' ')[1]}`)).toEqual(STACKS.flatMap((stack) => [`${stack} init`, `${stack} plan`]));
    expect(calls[1]).toMatch(/ plan -detailed-exitcode -refresh=true -input=false -lock-timeout=5m -no-color$/);
    // lab keeps its state locally in the repository root: the plan in the copy must read the project's file.
    expect(calls[0]).toContain(`init -input=false -no-color -backend-config=path=${join(repo, 'terraform.lab-network.tfstate')}`);
  });

  it('exits 2 and names the object when a committed manifest differs from a fresh synth', SLOW, async () => {
    const edited = join(repo, 'k8s', 'rendered', 'lab', 'kafka', 'kafka-kafka-events.yaml');
    const deleted = join(repo, 'k8s', 'rendered', 'lab', 'pipelines', 'clicks', 'kafkatopic-kafka-clicks.dlq.yaml');
    const [editedOriginal, deletedOriginal] = [readFileSync(edited, 'utf8'), readFileSync(deleted, 'utf8')];
    const retention = `log.retention.hours: ${FIXTURE_INPUTS.lab.kafka.retentionHours}\n`;
    expect(editedOriginal).toContain(retention);
    writeFileSync(edited, editedOriginal.replace(retention, 'log.retention.hours: 1\n'));
    unlinkSync(deleted);
    try {
      const run = await drift({}, 'manifests.log');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(2);
      expect(run.stdout).toContain('**lab**: drifted · Terraform: no stack drifted · Kubernetes: 2 differences');
      expect(run.stdout).toContain('Differs from a fresh synth:\n- `Kafka kafka/events` (`kafka/kafka-kafka-events.yaml`): `spec.kafka.config["log.retention.hours"]`');
      expect(run.stdout).toContain('  -      log.retention.hours: 1\n');
      expect(run.stdout).toContain(`  +      ${retention}`);
      expect(run.stdout).toContain('Missing from Git (the code produces it):\n- `KafkaTopic kafka/clicks.dlq` (`pipelines/clicks/kafkatopic-kafka-clicks.dlq.yaml`)');
      expect(run.stdout).toContain('Run `npm run synth -- --env lab` and commit k8s/rendered/lab');
    } finally {
      writeFileSync(edited, editedOriginal);
      writeFileSync(deleted, deletedOriginal);
    }
  });

  it('exits 2 and names the stack when terraform plans changes, with its summary lines', () => {
    const run = stackDrifted;
    expect(run.stderr).toBe('');
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('**lab**: drifted · Terraform: lab-data-lake drifted · Kubernetes: k8s/rendered matches a fresh synth');
    expect(run.stdout).toContain('- lab-data-lake: **drifted**\n  ```\n  # aws_s3_bucket.raw_bucket_B8DCEC09 has changed\n  Plan: 0 to add, 1 to change, 0 to destroy.\n  ```');
    expect(run.stdout).toContain('- lab-cluster: in sync');
  });

  it('exits 1 and names every stack when terraform fails', () => {
    const run = allFail;
    expect(run.status).toBe(1);
    for (const stack of STACKS) {
      expect(run.stderr).toContain(`drift: ${stack}: terraform init failed (exit 1):\nError: No valid credential sources found\n`);
      expect(run.stdout).toContain(`- ${stack}: **error**`);
    }
    expect(run.stdout).toContain('**lab**: error in lab-network, lab-data-lake, lab-cluster, lab-bootstrap');
  });

  it('exits 1 naming the one stack whose plan fails, and still checks the others', () => {
    const run = oneFails;
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('drift: lab-cluster: terraform plan failed (exit 1):\nError: reading EKS Cluster (driftless-lab): AccessDeniedException: not authorized\n');
    expect(run.stdout).toContain('- lab-network: **drifted**');
    expect(run.stdout).toContain('- lab-bootstrap: in sync');
  });

  it('rejects a missing or unknown environment in one line', SLOW, async () => {
    rmSync(log, { force: true });
    const env = childEnv({ PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: log });
    const [missing, unknown] = await Promise.all([runScript(repo, 'drift', [], env), runScript(repo, 'drift', ['--env', 'qa'], env)]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe("drift: option '--env' is required: the environment, the name of a file in environments/, got nothing");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.split('\n')[0]).toBe("drift: option '--env' must be one of lab, live, trial (the files in environments/), got 'qa'");
    expect(existsSync(log)).toBe(false); // terraform was never called
  });
});
