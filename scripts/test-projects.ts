/**
 * Throwaway copies of the project for the tests of the scripts: a Git repository made from the working tree,
 * a stand-in `terraform` that records its calls, a way to run a script there, and the synth output it left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { environmentNames } from '../environments/load';
import { pipelineFolders } from '../pipelines/load';
import { GENERATED_WORKFLOWS, WORKFLOWS_DIR } from './delivery-workflows';
import { environmentFileText, FIXTURE_INPUTS } from './fixtures/environments';
import { FIXTURE_PIPELINES_DIR } from './fixtures/pipelines';
import { copyProject } from './project-copy';

const GIT_IDENTITY = ['-c', 'user.name=driftless tests', '-c', 'user.email=tests@driftless.invalid', '-c', 'commit.gpgsign=false'];

/** Runs git in `dir` and returns its output. */
export const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', [...GIT_IDENTITY, ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Copies the project to `dir` (node_modules linked) and commits it there as the first commit of a new
 * repository, after `prepare` (e.g. a synth, so that the committed output is fresh whatever state the
 * working tree of the project is in).
 */
export function throwawayRepository(dir: string, prepare: (dir: string) => void = () => undefined): void {
  copyProject(dir);
  prepare(dir);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  // The node_modules link is not a folder to Git, so the `node_modules/` rule of .gitignore misses it.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), '/node_modules\n');
  commitAll(dir, 'base');
}

/**
 * Copies the project to `dir` (node_modules linked) with the fixture environments (lab, trial, live) and the fixture
 * pipelines (clicks, ledger, readings) in place of the project's own (see useFixtures). The rendered output of the
 * project's environments stays until a synth.
 */
export function fixtureProject(dir: string): void {
  copyProject(dir);
  useFixtures(dir);
}

/**
 * Makes the project copy in `dir` a project of the fixtures: its environments/ declares the fixture environments
 * (scripts/fixtures/environments.ts) instead of the project's, and its pipelines/ holds the fixture pipelines
 * (scripts/fixtures/pipeline-specs/) instead of the project's, so that a script run there gives the fixtures'
 * exact output whatever a team has made of its environments and pipelines.
 */
export function useFixtures(dir: string): void {
  const environments = join(dir, 'environments');
  for (const name of environmentNames(environments)) rmSync(join(environments, `${name}.ts`));
  for (const [name, input] of Object.entries(FIXTURE_INPUTS)) writeFileSync(join(environments, `${name}.ts`), environmentFileText(input));
  const pipelines = join(dir, 'pipelines');
  for (const folder of pipelineFolders(pipelines)) rmSync(join(pipelines, folder), { recursive: true });
  for (const name of readdirSync(FIXTURE_PIPELINES_DIR)) {
    cpSync(join(FIXTURE_PIPELINES_DIR, name), join(pipelines, name), { recursive: true });
    // The fixture specs import the schema from their own place; in pipelines/ it sits beside their folder.
    const spec = join(pipelines, name, 'pipeline.ts');
    const text = readFileSync(spec, 'utf8');
    const moved = text.replace(/from '(\.\.\/)+pipelines\/schema'/, "from '../schema'");
    if (moved === text) throw new Error(`scripts/fixtures/pipeline-specs/${name}/pipeline.ts does not import the pipeline schema as expected`);
    writeFileSync(spec, moved);
  }
}

/** Commits everything in the working tree of `dir`. */
export function commitAll(dir: string, message: string): void {
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
}

/**
 * Writes a stand-in `terraform` into `dir` and returns the folder. It appends each call's arguments to
 * $STUB_LOG and answers from variables: STUB_FAIL_ALL (every call fails), STUB_DRIFT_STACK (plan exits 2 in
 * that stack), STUB_FAIL_STACK (plan fails there), STUB_PLANS (folder of `show -json` answers: <stack>.json,
 * else default.json).
 */
export function stubTerraform(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh
chdir=""
for arg in "$@"; do case "$arg" in -chdir=*) chdir="\${arg#-chdir=}" ;; esac; done
stack=\${chdir##*/}
printf '%s\\n' "$*" >> "$STUB_LOG"
if [ -n "$STUB_FAIL_ALL" ]; then
  echo "Error: No valid credential sources found" >&2
  exit 1
fi
case "$2" in
  init) echo "Terraform has been successfully initialized!" ;;
  plan)
    if [ "$stack" = "$STUB_DRIFT_STACK" ]; then
      echo "  # aws_s3_bucket.raw_bucket_B8DCEC09 has changed"
      echo "  ~ resource \\"aws_s3_bucket\\" \\"raw_bucket_B8DCEC09\\" {"
      echo "Plan: 0 to add, 1 to change, 0 to destroy."
      exit 2
    fi
    if [ "$stack" = "$STUB_FAIL_STACK" ]; then
      echo "Error: reading EKS Cluster (driftless-\${stack%-cluster}): AccessDeniedException: not authorized" >&2
      exit 1
    fi
    echo "No changes. Your infrastructure matches the configuration." ;;
  show)
    answer="$STUB_PLANS/$stack.json"
    [ -f "$answer" ] || answer="$STUB_PLANS/default.json"
    cat "$answer" ;;
esac
exit 0
`;
  const path = join(dir, 'terraform');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return dir;
}

/** The environment of a child process: this one's, without TERRAFORM_BINARY and DRIFTLESS_CACHE, with `extra` over it. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.TERRAFORM_BINARY;
  // The copy's own (empty) toolchain cache: validate's independent scanner stays out of the fast tests (.ci/run runs it).
  delete env.DRIFTLESS_CACHE;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs the project's synth in `dir`, throwing with its output if it fails. */
export function synthesize(dir: string, ...args: string[]): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `node --import tsx scripts/<script>.ts <args>` in `project`, as `npm run <script>` does. */
export function runScript(
  project: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], { cwd: project, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Every file the synth writes in `project` (under cdktf.out/ and k8s/rendered/, and the generated workflows in
 * .github/workflows/), as relative path → contents.
 */
export function outputTree(project: string): Map<string, Buffer> {
  const tree = new Map<string, Buffer>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else tree.set(relative(project, path), readFileSync(path));
    }
  };
  walk(join(project, 'cdktf.out'));
  walk(join(project, 'k8s', 'rendered'));
  for (const file of GENERATED_WORKFLOWS) {
    const path = join(project, WORKFLOWS_DIR, file);
    if (existsSync(path)) tree.set(relative(project, path), readFileSync(path));
  }
  return tree;
}

/** One digest of the synth outputs of `project`: paths and contents, so that any change to either shows. */
export function outputDigest(project: string): string {
  const files = [...outputTree(project)].map(([path, bytes]) => `${path}\0${createHash('sha256').update(bytes).digest('hex')}`);
  return createHash('sha256').update(files.join('\n')).digest('hex');
}
