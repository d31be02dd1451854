/**
 * The edits a team makes in its first week with driftless, made by `.ci/run` in a scratch clone, where it then
 * runs `npm run synth`, `npm test` and `npm run validate`: if the suite depended on a shipped value or on a
 * reference pipeline, this is where it would show.
 *
 * Usage: node --import tsx .ci/first-week.ts <clone>
 *
 * In the clone: scaffolds an environment from the first one in deploy order and a pipeline from the first
 * pipeline (`npm run new`), changes several values of the production environment and of the first one, and
 * deletes another pipeline's folder. It chooses what to edit from what exists, by property (production, deploy
 * order), never by name, and fails loudly when an edit finds nothing to change.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const NEW_ENVIRONMENT = 'firstweek';
const NEW_PIPELINE = 'firstweek-copy';

interface Edit {
  readonly field: string;
  readonly change: (value: number) => number;
}

async function main(clone: string): Promise<void> {
  const say = (line: string) => process.stdout.write(`first-week: ${line}\n`);
  const run = (args: readonly string[]) => {
    say(`npm ${args.join(' ')}`);
    execFileSync('npm', [...args], { cwd: clone, stdio: 'inherit' });
  };

  type Loaded = { name: string; production: boolean };
  const { loadEnvironments } = (await import(pathToFileURL(join(clone, 'environments', 'load.ts')).href)) as {
    loadEnvironments: () => Promise<Loaded[]>;
  };
  const environments = await loadEnvironments();
  const first = environments[0];
  const production = environments.find((env) => env.production) ?? environments[environments.length - 1];
  if (first === undefined || production === undefined) throw new Error('the clone declares no environment');
  const { pipelineFolders } = (await import(pathToFileURL(join(clone, 'pipelines', 'load.ts')).href)) as {
    pipelineFolders: () => string[];
  };
  const pipelines = pipelineFolders();

  run(['run', '--silent', 'new', '--', 'environment', NEW_ENVIRONMENT, '--from', first.name]);
  if (pipelines[0] !== undefined) run(['run', '--silent', 'new', '--', 'pipeline', NEW_PIPELINE, '--from', pipelines[0]]);

  // Values every team tunes early: retention, sizing, thresholds, lifecycle, region.
  editEnvironment(clone, production.name, [
    { field: 'retentionHours', change: (hours) => Math.max(1, Math.floor(hours / 2)) },
    { field: 'executorInstances', change: (count) => count + 2 },
    { field: 'consumerLagThreshold', change: (records) => records * 2 },
    { field: 'noncurrentVersionDays', change: (days) => Math.min(3650, days + 30) },
  ], say);
  editEnvironment(clone, first.name, [
    { field: 'retentionHours', change: (hours) => hours + 24 },
    { field: 'maxSize', change: (nodes) => nodes + 2 },
    { field: 'prometheusStorageGiB', change: (size) => size + 10 },
  ], say);
  editRegion(clone, first.name, say);

  const deleted = pipelines.find((name) => name !== pipelines[0]);
  if (deleted !== undefined) {
    rmSync(join(clone, 'pipelines', deleted), { recursive: true });
    say(`deleted pipelines/${deleted}/`);
  }
}

/** Changes the first `<field>: <number>` of an environment file by each edit; fails when one is not there. */
function editEnvironment(clone: string, env: string, edits: readonly Edit[], say: (line: string) => void): void {
  const file = join(clone, 'environments', `${env}.ts`);
  let text = readFileSync(file, 'utf8');
  for (const { field, change } of edits) {
    const pattern = new RegExp(`\\b${field}: (\\d+)`);
    const match = pattern.exec(text);
    if (match === null) throw new Error(`environments/${env}.ts has no '${field}: <number>' to change`);
    const next = change(Number(match[1]));
    text = text.replace(pattern, `${field}: ${next}`);
    say(`environments/${env}.ts: ${field} ${match[1]} → ${next}`);
  }
  writeFileSync(file, text);
}

function editRegion(clone: string, env: string, say: (line: string) => void): void {
  const file = join(clone, 'environments', `${env}.ts`);
  const text = readFileSync(file, 'utf8');
  const match = /\bregion: '([a-z0-9-]+)'/.exec(text);
  if (match === null) throw new Error(`environments/${env}.ts has no region to change`);
  const next = match[1] === 'eu-west-1' ? 'eu-north-1' : 'eu-west-1';
  writeFileSync(file, text.replace(match[0], `region: '${next}'`));
  say(`environments/${env}.ts: region ${match[1]} → ${next}`);
}

const clone = process.argv[2];
if (clone === undefined) {
  process.stderr.write('usage: node --import tsx .ci/first-week.ts <clone>\n');
  process.exitCode = 1;
} else {
  main(clone).catch((error: unknown) => {
    process.stderr.write(`first-week: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
