/**
 * The policy gate (scripts/policy) over rendered upstream charts: the same manifest rules as over the platform's own
 * output, with the findings the platform accepts listed in `upstream-findings.yaml` with their reasons (upstream
 * charts carry no `driftless.io/suppress` annotations, and the platform does not edit them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Environment } from '../../environments/schema';
import { evaluate } from '../policy/engine';
import type { Finding } from '../policy/rule';
import { RULES } from '../policy/rules';
import { MIN_REASON_LENGTH } from '../policy/suppressions';
import type { RenderedChart } from './render';

/** One accepted finding: a rule, on objects of a chart, for a reason. */
export interface AcceptedFinding {
  readonly chart: string;
  readonly rule: string;
  readonly objects: readonly string[];
  readonly reason: string;
}

export const ACCEPTED_FINDINGS_FILE = join(__dirname, 'upstream-findings.yaml');

/** The accepted findings, or a one-line error naming the entry and what is wrong with it. */
export function acceptedFindings(file = ACCEPTED_FINDINGS_FILE): AcceptedFinding[] {
  const entries = parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(entries)) throw new Error(`${file}: must be a list of { chart, rule, objects, reason }`);
  const known = new Set(RULES.map((rule) => rule.id));
  return entries.map((entry, index) => {
    const where = `${file} entry ${index + 1}`;
    const { chart, rule, objects, reason, ...rest } = (entry ?? {}) as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new Error(`${where}: unknown field '${Object.keys(rest)[0]}' (fields: chart, rule, objects, reason)`);
    if (typeof chart !== 'string' || chart === '') throw new Error(`${where}: 'chart' must name a chart`);
    if (typeof rule !== 'string' || !known.has(rule)) throw new Error(`${where}: 'rule' ${JSON.stringify(rule)} must be a rule of the policy gate`);
    if (!Array.isArray(objects) || objects.length === 0 || objects.some((o) => typeof o !== 'string' || !/^[A-Za-z]+\/\S+$/.test(o))) {
      throw new Error(`${where}: 'objects' must list objects as Kind/name`);
    }
    if (typeof reason !== 'string' || reason.trim().length < MIN_REASON_LENGTH) throw new Error(`${where}: 'reason' must say why, in at least ${MIN_REASON_LENGTH} characters`);
    return { chart, rule, objects, reason };
  });
}

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** A finding on a rendered chart, and the accepted entry that excuses it, if any. */
export interface ChartFinding {
  readonly chart: string;
  readonly release: string;
  readonly finding: Finding;
  readonly acceptedBy?: AcceptedFinding;
}

/** The manifest rules over each rendered chart, each finding matched against the accepted ones. */
export function chartFindings(env: Environment, charts: readonly RenderedChart[], accepted: readonly AcceptedFinding[]): ChartFinding[] {
  const rules = RULES.filter((rule) => rule.target === 'manifest');
  return charts.flatMap((chart) => {
    const manifests = chart.objects.map((object) => ({ environment: env.name, file: `chart ${chart.release.chart} (release ${chart.release.release})`, object }));
    const evaluation = evaluate(rules, { stacks: [], manifests }, [env]);
    return evaluation.findings.map((finding) => {
      const parts = finding.subject.split('/');
      const object = `${parts[0]}/${parts.at(-1)}`;
      const acceptedBy = accepted.find((entry) => entry.chart === chart.release.chart && entry.rule === finding.ruleId && entry.objects.some((pattern) => glob(pattern).test(object)));
      return { chart: chart.release.chart, release: chart.release.release, finding, ...(acceptedBy === undefined ? {} : { acceptedBy }) };
    });
  });
}
