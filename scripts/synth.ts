/**
 * `npm run synth [-- --env <name>]`: validates every environment, then synthesizes the Terraform JSON
 * (cdktf.out/stacks/<env>-<stack>/cdk.tf.json) and the Kubernetes manifests (k8s/rendered/<env>/**)
 * of all environments or the chosen ones, in this process. It also renders the delivery workflows
 * (.github/workflows/, scripts/delivery-workflows.ts) from all environments, whichever were chosen.
 *
 * Everything is first written to a staging folder inside the repository; only when both apps have
 * succeeded are the old folders swapped out by renames, so a failed run leaves the previous output as it was.
 * A configuration problem is one line without a stack trace; DRIFTLESS_DEBUG=1 adds the stack of what a file threw.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
// The serializer cdktf itself writes manifest.json with, so a merged manifest is byte-identical to a full one.
import stableStringify from 'json-stable-stringify';
import { parseStackName, RENDERED_ROOT, STACKS, stackName } from '../environments/naming';
import { selectedEnvironments, UsageError } from './command-line';
import { ConfigError, syntaxProblems } from '../environments/problem';
import type { Environment } from '../environments/schema';
import type { LoadedPipeline } from '../pipelines/load';
import { deliveryWorkflows, WORKFLOWS_DIR, type WorkflowFile } from './delivery-workflows';

const ROOT = join(__dirname, '..');
const CDKTF_OUT = 'cdktf.out';
const USAGE = 'usage: npm run synth [-- --env <name>]... (an environment: a file in environments/)';

async function main(): Promise<void> {
  const selectedNames = selectedEnvironments(process.argv.slice(2), USAGE);
  // Output depends on Git contents only: ignore the variables through which cdktf and cdk8s can be steered.
  for (const name of ['CDKTF_OUTDIR', 'CDKTF_CONTEXT_JSON', 'CDKTF_TARGET_STACK_ID', 'SYNTH_HCL_OUTPUT', 'CDK8S_OUTDIR']) {
    delete process.env[name];
  }

  // tsx turns source maps on, and Node then decodes the inline map of every module it loads: for the
  // jsii-generated provider and CRD modules that is about a sixth of the synth. The apps are therefore
  // loaded after switching it off, unless source maps were asked for (NODE_OPTIONS=--enable-source-maps).
  if (!`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`.includes('--enable-source-maps')) {
    process.setSourceMapsEnabled(false);
  }
  // The inputs first: a configuration problem is then reported without loading the apps' far larger modules.
  const { loadEnvironments } = require('../environments/load') as typeof import('../environments/load');
  const { loadPipelines } = require('../pipelines/load') as typeof import('../pipelines/load');
  // Both are validated before either stops the run, so that one run reports every problem in every file.
  const [loaded, pipelines] = await bothOrEveryProblem(loadEnvironments(), loadPipelines());
  // What the pipelines need of each environment's NodePools: known only once both are loaded.
  const { nodePoolCapacityProblems } = require('../k8s/node-pool-capacity') as typeof import('../k8s/node-pool-capacity');
  const capacity = nodePoolCapacityProblems(loaded, pipelines);
  if (capacity.length > 0) throw new ConfigError(capacity);
  const environments = loaded.filter((env) => selectedNames.includes(env.name));
  // From every environment, also with --env: the deploy order and the plans span them all.
  const workflows = deliveryWorkflows(loaded);
  const apps = loadApps();
  const counts = await synthesizeAtomically(apps, environments, pipelines, workflows, environments.length === loaded.length);
  const seconds = process.uptime().toFixed(1);
  console.log(
    `synth: ${environments.map((env) => env.name).join(', ')}: ${counts.stacks} stacks in ${CDKTF_OUT}/stacks, ` +
      `${counts.manifests} manifests in ${RENDERED_ROOT}, ${workflows.length} workflows in ${WORKFLOWS_DIR} (${seconds} s)`,
  );
}

/** The results of both, or a ConfigError with the problems of both (anything else thrown is rethrown). */
async function bothOrEveryProblem<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'fulfilled' && second.status === 'fulfilled') return [first.value, second.value];
  const failures = [first, second].flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  const other = failures.find((reason) => !(reason instanceof ConfigError));
  if (other !== undefined) throw other;
  throw new ConfigError(failures.flatMap((reason) => (reason as ConfigError).problems));
}

/** The two apps, loaded by `require` at this point rather than by imports at the top (see main). */
function loadApps() {
  const { synthesizeInfra } = require('../infra/main') as typeof import('../infra/main');
  const { renderManifests } = require('../k8s/main') as typeof import('../k8s/main');
  return { synthesizeInfra, renderManifests };
}


async function synthesizeAtomically(
  apps: ReturnType<typeof loadApps>,
  environments: readonly Environment[],
  pipelines: readonly LoadedPipeline[],
  workflows: readonly WorkflowFile[],
  everyEnvironment: boolean,
): Promise<{ stacks: number; manifests: number }> {
  const staging = mkdtempSync(join(ROOT, '.synth-'));
  try {
    apps.synthesizeInfra(environments, pipelines, join(staging, CDKTF_OUT));
    const manifests = apps.renderManifests(environments, pipelines);
    for (const folder of new Set(manifests.map((file) => dirname(join(staging, file.path))))) mkdirSync(folder, { recursive: true });
    // Hundreds of small files: written concurrently, the file system overlaps the work.
    await Promise.all(manifests.map((file) => writeFile(join(staging, file.path), file.content)));
    // Only the generated workflows are replaced: other files a team keeps in .github/workflows/ stay.
    mkdirSync(join(staging, WORKFLOWS_DIR), { recursive: true });
    for (const file of workflows) writeFileSync(join(staging, file.path), file.content);
    const targets = environments.flatMap((env) => [
      ...STACKS.map((stack) => `${CDKTF_OUT}/stacks/${stackName(env.name, stack)}`),
      `${RENDERED_ROOT}/${env.name}`,
    ]);
    // A full synth also removes what environments that no longer exist left behind; --env touches only its own.
    const obsolete = staleOutput(environments.map((env) => env.name), everyEnvironment);
    const manifest = mergedCdktfManifest(staging, environments, obsolete);
    writeFileSync(join(staging, CDKTF_OUT, 'manifest.json'), manifest);
    replaceAll(staging, [...targets, `${CDKTF_OUT}/manifest.json`, ...workflows.map((file) => file.path)], obsolete);
    return { stacks: environments.length * STACKS.length, manifests: manifests.length };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Output the app no longer defines: stack folders of the synthesized environments that are not their stacks
 * (a removed stack must not linger) and, when `all` environments were synthesized, the stack and manifest
 * folders of environments that no longer exist.
 */
function staleOutput(synthesized: readonly string[], all: boolean): string[] {
  const stacksDir = join(ROOT, CDKTF_OUT, 'stacks');
  const renderedDir = join(ROOT, RENDERED_ROOT);
  const current = new Set(synthesized.flatMap((env) => STACKS.map((stack) => stackName(env, stack))));
  const staleStacks = existsSync(stacksDir)
    ? readdirSync(stacksDir).filter((folder) => {
        const env = parseStackName(folder)?.env;
        return !current.has(folder) && (all || (env !== undefined && synthesized.includes(env)));
      })
    : [];
  const staleRendered = all && existsSync(renderedDir) ? readdirSync(renderedDir).filter((env) => !synthesized.includes(env)) : [];
  return [...staleStacks.map((folder) => `${CDKTF_OUT}/stacks/${folder}`), ...staleRendered.map((env) => `${RENDERED_ROOT}/${env}`)];
}

/**
 * cdktf's manifest.json lists every stack, which `cdktf deploy --skip-synth` relies on. When only some
 * environments are synthesized, the entries of the others are kept; serialized exactly as cdktf does.
 */
function mergedCdktfManifest(staging: string, environments: readonly Environment[], obsolete: readonly string[]): string {
  type Manifest = { version: string; stacks: Record<string, unknown> };
  const fresh = JSON.parse(readFileSync(join(staging, CDKTF_OUT, 'manifest.json'), 'utf8')) as Manifest;
  const existingPath = join(ROOT, CDKTF_OUT, 'manifest.json');
  let kept: Record<string, unknown> = {};
  if (existsSync(existingPath)) {
    try {
      const existing = JSON.parse(readFileSync(existingPath, 'utf8')) as Manifest;
      const rebuilt = new Set(environments.map((env) => env.name));
      kept = Object.fromEntries(
        Object.entries(existing.stacks ?? {}).filter(
          ([name]) =>
            !rebuilt.has(parseStackName(name)?.env ?? '') &&
            existsSync(join(ROOT, CDKTF_OUT, 'stacks', name)) &&
            !obsolete.includes(`${CDKTF_OUT}/stacks/${name}`),
        ),
      );
    } catch {
      kept = {}; // an unreadable manifest is simply rebuilt from what this run synthesized
    }
  }
  return stableStringify({ ...fresh, stacks: { ...kept, ...fresh.stacks } }, { space: 2 }) ?? '';
}

/**
 * Moves each target from the staging folder into place and the old one aside; removes `obsolete`.
 * Every step is a rename within one file system; if one fails, the steps already taken are undone.
 */
function replaceAll(staging: string, targets: readonly string[], obsolete: readonly string[]): void {
  const aside = join(staging, '.previous');
  const undo: Array<() => void> = [];
  try {
    for (const target of [...targets, ...obsolete]) {
      const live = join(ROOT, target);
      if (!existsSync(live)) continue;
      const old = join(aside, target);
      mkdirSync(dirname(old), { recursive: true });
      renameSync(live, old);
      undo.push(() => renameSync(old, live));
    }
    for (const target of targets) {
      const live = join(ROOT, target);
      mkdirSync(dirname(live), { recursive: true });
      renameSync(join(staging, target), live);
      undo.push(() => renameSync(live, join(staging, target)));
    }
  } catch (error) {
    for (const step of undo.reverse()) step();
    throw error;
  }
}

main().catch((caught: unknown) => {
  // A syntax error in an environment or pipeline file is a configuration problem too, not a crash.
  const syntax = syntaxProblems(caught, ROOT, (file, line) => {
    try {
      return readFileSync(join(ROOT, file), 'utf8').split('\n')[line - 1];
    } catch {
      return undefined;
    }
  });
  const error = syntax === undefined || syntax.length === 0 ? caught : new ConfigError(syntax);
  // Configuration and usage errors are the user's to fix and say how; anything else is a bug: show where.
  const known = error instanceof ConfigError || error instanceof UsageError;
  // DRIFTLESS_DEBUG=1 adds what a configuration file threw while loading, with its stack.
  const causes =
    process.env.DRIFTLESS_DEBUG === '1' && error instanceof ConfigError
      ? error.problems.flatMap((problem) => (problem.cause === undefined ? [] : [`\n${problem.file}: ${(problem.cause as Error).stack ?? String(problem.cause)}`]))
      : [];
  console.error(`synth: ${known ? error.message : (error as Error).stack ?? String(error)}${causes.join('')}\nNothing was written.`);
  process.exitCode = 1;
});
