/**
 * `npm run review -- --base <git-ref> [--json]`: what a change does, offline, per environment.
 *
 * Synthesizes the base revision (in a temporary `git worktree` of it, running that revision's own synth) and
 * the working tree (in a copy, so that the user's cdktf.out and k8s/rendered stay as they are), then compares
 * the two outputs: Terraform resources added, changed (which attributes), replaced and destroyed; Kubernetes
 * objects added, changed (a compact YAML diff) and removed; what destroys or shrinks data first.
 * Markdown on stdout (JSON with --json); exit 0 when the review ran, whatever it found, 1 on error.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironments } from '../environments/load';
import { parseCommandLine, requiredOption, UsageError, runScript, type OptionSpec, type ScriptOutput } from './command-line';
import { dataRisks, retentionInWords, type DataRisk } from './data-risk';
import {
  compareOutputs,
  objectLabel,
  readSynthOutput,
  type AttributeChange,
  type EnvironmentDiff,
  type KubernetesChange,
  type TerraformChange,
} from './output-diff';
import { copyProject, PROJECT_ROOT } from './project-copy';
import { runCommand, tail, type CommandResult } from './run-command';

const OPTIONS = {
  base: { type: 'string', meaning: 'the git ref to compare the working tree with, such as origin/main or HEAD~1' },
  json: { type: 'boolean', meaning: 'JSON instead of Markdown' },
} as const satisfies Record<string, OptionSpec>;

const USAGE = 'usage: npm run review -- --base <git-ref> [--json]';

/** What every report says about its limits. */
export const OFFLINE_NOTE =
  'Offline: compares the synthesized output of both revisions, without state or credentials. "Replaced" is ' +
  'predicted from a table of the arguments that force replacement (scripts/replacement-attributes.ts); ' +
  '`npm run plan -- --env <env>` gives Terraform\'s exact answer.';

/** The review of one environment, as printed. */
export interface EnvironmentReview extends EnvironmentDiff {
  readonly risks: readonly DataRisk[];
  readonly summary: Summary;
}

/** Counts of one environment's changes. */
export interface Summary {
  readonly terraform: { readonly added: number; readonly changed: number; readonly replaced: number; readonly destroyed: number };
  readonly kubernetes: { readonly added: number; readonly changed: number; readonly removed: number };
  readonly dataRisks: number;
}

/** Output channels, so that tests can run the command in-process. */
export type Io = ScriptOutput;

/** Runs the command; returns the exit code. */
export async function main(args: readonly string[], io: Io): Promise<number> {
  try {
    const values = parseCommandLine(args, OPTIONS);
    const base = requiredOption(values, 'base', OPTIONS);
    const commit = await resolveCommit(base);
    const environments = await reviewAgainst(commit);
    io.out(values.json === true ? renderJson(base, commit, environments) : renderMarkdown(base, commit, environments));
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`review: ${error.message}`);
    if (error.showUsage) io.err(USAGE);
    return 1;
  }
}

async function resolveCommit(ref: string): Promise<string> {
  const result = await runCommand('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd: PROJECT_ROOT });
  if (result.startError !== undefined) throw new UsageError(`git is needed to read the base revision: ${result.startError.message}`);
  if (/not a git repository/i.test(result.stderr)) throw new UsageError(`${PROJECT_ROOT} is not a Git repository: the review compares Git revisions`);
  if (result.code !== 0) {
    throw new UsageError(`option '--base' must name a commit of this repository (a branch, tag, SHA or HEAD~1), got '${ref}'`);
  }
  return result.stdout.trim();
}

/** Synthesizes `commit` and the working tree side by side and compares them. */
async function reviewAgainst(commit: string): Promise<EnvironmentReview[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-review-'));
  const baseDir = join(scratch, 'base');
  const headDir = join(scratch, 'head');
  try {
    const added = await runCommand('git', ['worktree', 'add', '--detach', baseDir, commit], { cwd: PROJECT_ROOT });
    if (added.code !== 0) throw new UsageError(`could not check out ${commit.slice(0, 12)} into a worktree:\n${tail(added.stderr)}`);
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(baseDir, 'node_modules'), 'dir');
    copyProject(headDir);
    // Side by side; when one fails, the other is stopped: the review cannot go on anyway.
    const stop = new AbortController();
    const synthesize = async (dir: string) => {
      const result = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/synth.ts'], { cwd: dir, signal: stop.signal });
      if (result.code !== 0 && !stopped(result)) stop.abort();
      return result;
    };
    const [baseSynth, headSynth] = await Promise.all([synthesize(baseDir), synthesize(headDir)]);
    for (const [side, result] of [[`the base revision (${commit.slice(0, 12)})`, baseSynth], ['the working tree', headSynth]] as const) {
      if (result.code !== 0 && !stopped(result)) throw new UsageError(`the synth of ${side} failed:\n${tail(result.stderr || result.stdout, 40)}`);
    }
    // The working tree synthesized, so its environments are valid: they give the order of the report.
    const deployOrder = (await loadEnvironments()).map((env) => env.name);
    const diffs = compareOutputs(readSynthOutput(baseDir), readSynthOutput(headDir), deployOrder);
    return diffs.map((diff) => {
      const risks = dataRisks(diff);
      return { ...diff, risks, summary: summarize(diff, risks.length) };
    });
  } finally {
    await runCommand('git', ['worktree', 'remove', '--force', baseDir], { cwd: PROJECT_ROOT });
    rmSync(scratch, { recursive: true, force: true });
    await runCommand('git', ['worktree', 'prune'], { cwd: PROJECT_ROOT });
  }
}

const stopped = (result: CommandResult): boolean => result.startError?.name === 'AbortError';

function summarize(diff: EnvironmentDiff, risks: number): Summary {
  const tf = (action: TerraformChange['action']) => diff.terraform.filter((change) => change.action === action).length;
  const k8s = (action: KubernetesChange['action']) => diff.kubernetes.filter((change) => change.action === action).length;
  return {
    terraform: { added: tf('create'), changed: tf('update'), replaced: tf('replace'), destroyed: tf('delete') },
    kubernetes: { added: k8s('add'), changed: k8s('change'), removed: k8s('remove') },
    dataRisks: risks,
  };
}

/** The report as JSON: the same content as the Markdown. */
export function renderJson(base: string, commit: string, environments: readonly EnvironmentReview[]): string {
  const report = {
    base,
    baseCommit: commit,
    note: OFFLINE_NOTE,
    environments: environments.map((review) => ({
      env: review.env,
      summary: review.summary,
      dataRisks: review.risks,
      terraform: review.terraform,
      kubernetes: review.kubernetes.map(({ before: _before, after: _after, steps: _steps, ...change }) => change),
    })),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

const MAX_PATHS = 12;
const MAX_DIFF_LINES = 40;

/**
 * Ends the change-list entry of a resource or object that is also a data risk. The entry stays in its list, so
 * that each list is complete and matches the summary's counts, but a reader of both lists sees it is one change.
 */
export const ALSO_A_DATA_RISK = ' (⚠️ also listed under data risks above)';

/** Whether a change is also a data risk: the same side, place (stack or file) and subject. */
type IsRisk = (side: DataRisk['side'], where: string, subject: string) => boolean;

/** The report as Markdown: per environment a summary line, what destroys data, then Terraform and Kubernetes. */
export function renderMarkdown(base: string, commit: string, environments: readonly EnvironmentReview[]): string {
  const lines = [`# Review: \`${base}\` (${commit.slice(0, 12)}) → working tree`, '', OFFLINE_NOTE, ''];
  for (const review of environments) {
    lines.push(`## ${review.env}`, '', summaryLine(review), '');
    if (review.risks.length > 0) {
      lines.push(`### ⚠️ Destroys or shrinks data in ${review.env}`, '');
      for (const risk of review.risks) lines.push(`- **${risk.action}** \`${risk.subject}\` (${risk.where}): ${risk.detail}`);
      lines.push('');
    }
    const risky = new Set(review.risks.map((risk) => JSON.stringify([risk.side, risk.where, risk.subject])));
    const isRisk: IsRisk = (side, where, subject) => risky.has(JSON.stringify([side, where, subject]));
    if (review.terraform.length > 0) lines.push(...terraformSection(review.terraform, isRisk));
    if (review.kubernetes.length > 0) lines.push(...kubernetesSection(review.kubernetes, isRisk));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function summaryLine(review: EnvironmentReview): string {
  const { terraform: tf, kubernetes: k8s, dataRisks: risks } = review.summary;
  if (review.terraform.length === 0 && review.kubernetes.length === 0) return `**${review.env}**: no changes.`;
  return (
    `**${review.env}**: Terraform ${tf.added} added, ${tf.changed} changed, ${tf.replaced} replaced, ${tf.destroyed} destroyed` +
    ` · Kubernetes ${k8s.added} added, ${k8s.changed} changed, ${k8s.removed} removed` +
    ` · ${risks} ${risks === 1 ? 'change destroys' : 'changes destroy'} or ${risks === 1 ? 'shrinks' : 'shrink'} data`
  );
}

const TERRAFORM_GROUPS = [
  ['delete', 'Destroyed'],
  ['replace', 'Replaced'],
  ['update', 'Changed'],
  ['create', 'Added'],
] as const;

function terraformSection(changes: readonly TerraformChange[], isRisk: IsRisk): string[] {
  const lines = ['### Terraform', ''];
  for (const stack of [...new Set(changes.map((change) => change.stack))]) {
    lines.push(`#### ${stack}`, '');
    for (const [action, title] of TERRAFORM_GROUPS) {
      const group = changes.filter((change) => change.stack === stack && change.action === action);
      if (group.length === 0) continue;
      lines.push(`${title}:`);
      for (const change of group) {
        const mark = isRisk('terraform', change.stack, change.address) ? ALSO_A_DATA_RISK : '';
        lines.push(`- \`${change.address}\`${terraformDetail(change)}${mark}`);
      }
      lines.push('');
    }
  }
  return lines;
}

function terraformDetail(change: TerraformChange): string {
  const attribute = (item: AttributeChange) => `\`${item.path}\`${item.via === undefined ? '' : ` (known after \`${item.via}\` is replaced)`}`;
  const guard = change.preventDestroy ? ' — lifecycle.prevent_destroy: terraform refuses this until it is lifted' : '';
  if (change.action === 'replace') {
    const forcing = change.changes.filter((item) => change.forcedBy.includes(item.path));
    const others = change.changes.filter((item) => !change.forcedBy.includes(item.path));
    const also = others.length === 0 ? '' : `; also ${limited(others.map(attribute))}`;
    return `: forced by ${forcing.map(attribute).join(', ')}${also}${guard}`;
  }
  if (change.action === 'update') return `: ${limited(change.changes.map(attribute))}`;
  return change.action === 'delete' ? guard : '';
}

function limited(items: readonly string[]): string {
  const shown = items.slice(0, MAX_PATHS).join(', ');
  return items.length > MAX_PATHS ? `${shown} and ${items.length - MAX_PATHS} more` : shown;
}

const KUBERNETES_GROUPS = [
  ['remove', 'Removed'],
  ['change', 'Changed'],
  ['add', 'Added'],
] as const;

function kubernetesSection(changes: readonly KubernetesChange[], isRisk: IsRisk): string[] {
  const lines = ['### Kubernetes', ''];
  for (const [action, title] of KUBERNETES_GROUPS) {
    const group = changes.filter((change) => change.action === action);
    if (group.length === 0) continue;
    lines.push(`${title}:`);
    for (const change of group) {
      const where = `\`${objectLabel(change)}\` (${change.apiVersion}, \`${change.file}\`)`;
      const mark = isRisk('kubernetes', change.file, objectLabel(change)) ? ALSO_A_DATA_RISK : '';
      if (change.action !== 'change') {
        lines.push(`- ${where}${mark}`);
        continue;
      }
      lines.push(`- ${where}: ${limited(change.paths.map((path) => `\`${path}\``))}${mark}`);
      const readable = readableDiff(change.diff).map(withRetentionInWords);
      const diff = readable.length > MAX_DIFF_LINES ? [...readable.slice(0, MAX_DIFF_LINES), `… ${readable.length - MAX_DIFF_LINES} more lines`] : readable;
      const fence = '`'.repeat(Math.max(3, ...diff.map((line) => (line.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length + 1), 0))));
      lines.push(`  ${fence}diff`, ...diff.map((line) => `  ${line}`), `  ${fence}`);
    }
    lines.push('');
  }
  return lines;
}

// `-      retention.ms: 604800000` in a YAML diff: the key and the value, which may be quoted.
const DIFF_SCALAR = /^[-+ ]\s*(["']?)([\w.-]+)\1:\s*(["']?)(-?\d+)\3$/;

/** A YAML diff line of a time retention with the value in words as a YAML comment: `retention.ms: 604800000 # 7 days`. */
function withRetentionInWords(line: string): string {
  const match = DIFF_SCALAR.exec(line);
  const words = match === null ? undefined : retentionInWords(match[2] ?? '', match[4]);
  return words === undefined ? line : `${line} # ${words}`;
}

const LONG_LINE = 160;
const AROUND = 50;

/**
 * Long lines (a job spec passed as one JSON argument) shortened to what changed: a removed line followed by an
 * added one shows the part between their common beginning and end, with a little around it.
 */
export function readableDiff(diff: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < diff.length; i++) {
    const line = diff[i] ?? '';
    const next = diff[i + 1] ?? '';
    if (line.startsWith('-') && next.startsWith('+') && (line.length > LONG_LINE || next.length > LONG_LINE)) {
      const [a, b] = [line.slice(1), next.slice(1)];
      let prefix = 0;
      while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
      let suffix = 0;
      while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
      const start = Math.max(0, prefix - AROUND);
      const clip = (text: string) => {
        const end = Math.min(text.length, text.length - suffix + AROUND);
        return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
      };
      out.push(`-${clip(a)}`, `+${clip(b)}`);
      i++;
    } else {
      out.push(line.length > LONG_LINE ? `${line.slice(0, LONG_LINE)}…` : line);
    }
  }
  return out;
}

if (typeof require !== 'undefined' && require.main === module) runScript('review', main);
