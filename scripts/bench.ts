/**
 * `npm run bench [-- --runs N]`: times the full synth (both apps, every environment, in-process) against
 * `cdktf synth` through the CLI on the same cdktf app, in one run on this machine, and reports the median
 * wall time and peak memory of each. Both run in a scratch copy of the project, so this checkout is untouched.
 *
 * Then the pipelines' figures on the local engines (scripts/local/pipeline-bench.ts); `--synth-only` leaves them out.
 *
 * Peak memory is the largest sum of resident memory over the whole process tree (the CLI starts the app
 * as a child process), sampled from /proc every 10 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchPipelines } from './local/pipeline-bench';
import { copyProject, PROJECT_ROOT } from './project-copy';

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
}

const PAGE_BYTES = 4096;

/** Resident memory of `root` and all its descendants, in bytes; 0 where /proc is not available. */
function treeRssBytes(root: number): number {
  if (!existsSync('/proc/self/stat')) return 0;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: the parent pid is the 2nd field after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    try {
      total += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
    } catch {
      // ended
    }
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

function measure(command: string, args: string[], cwd: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1', FORCE_COLOR: '0' },
    });
    let peak = 0;
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const sampler = setInterval(() => (peak = Math.max(peak, treeRssBytes(child.pid!))), 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ seconds, peakMiB: peak / 2 ** 20 });
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'synth-only': { type: 'boolean' } }, strict: true });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`option '--runs' must be a whole number of at least 1, got '${values.runs}'`);

  // Inside the project (git-ignored), where `npm run synth` itself runs: the same file system paths and caches.
  const scratch = mkdtempSync(join(PROJECT_ROOT, '.bench-'));
  try {
    copyProject(scratch);
    const candidates = {
      'npm run synth (both apps, all environments, in-process)': [process.execPath, ['--import', 'tsx', 'scripts/synth.ts']],
      'cdktf synth (CLI, Terraform side only)': [process.execPath, [join('node_modules', 'cdktf-cli', 'bundle', 'bin', 'cdktf'), 'synth']],
    } as const;
    const results = new Map<string, Measurement[]>(Object.keys(candidates).map((name) => [name, []]));
    // One unmeasured run each warms the file cache and tsx's compile cache; then the two alternate.
    for (let round = 0; round <= runs; round++) {
      for (const [name, [command, args]] of Object.entries(candidates)) {
        const result = await measure(command, [...args], scratch);
        if (round > 0) results.get(name)!.push(result);
      }
    }

    const summary = [...results].map(([name, measurements]) => ({
      name,
      seconds: median(measurements.map((m) => m.seconds)),
      peakMiB: median(measurements.map((m) => m.peakMiB)),
    }));
    const [ours, cli] = summary as [(typeof summary)[0], (typeof summary)[0]];
    console.log(`bench: ${runs} runs each after one warm-up, medians, in ${process.platform} on Node ${process.version}\n`);
    console.log('| command | wall time | peak memory (process tree) |');
    console.log('|---|---:|---:|');
    for (const row of summary) console.log(`| ${row.name} | ${row.seconds.toFixed(2)} s | ${row.peakMiB.toFixed(0)} MiB |`);
    const ratio = ours.seconds / cli.seconds;
    console.log(`\nratio (npm run synth / cdktf synth): wall time ${ratio.toFixed(2)}, peak memory ${(ours.peakMiB / cli.peakMiB).toFixed(2)}`);
    console.log(`goal: wall-time ratio <= 0.50 ${ratio <= 0.5 ? 'met' : 'NOT met'}; peak memory < 400 MiB ${ours.peakMiB < 400 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (values['synth-only']) return;
  // The pipelines on the local engines (Java 17+ and Python 3.10+ needed, like npm run test:engines).
  const pipelineLines = await benchPipelines((line) => console.error(`bench: ${line}`));
  console.log('\n| pipeline figure | wall time | rate |\n|---|---:|---:|');
  for (const line of pipelineLines) console.log(line);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
