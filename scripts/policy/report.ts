/**
 * The text report of `npm run validate`: findings per environment with errors first, then every suppressed
 * finding with the reason written next to its construct, then one count line that tools can read.
 */
import type { Evaluation } from './engine';
import type { Finding } from './rule';

/** The last line: `N errors, N warnings, N suppressed` (fixed words, so that tools can parse it). */
export function countLine(evaluation: Evaluation): string {
  const errors = evaluation.findings.filter((f) => f.severity === 'error').length;
  const warnings = evaluation.findings.length - errors;
  return `${errors} errors, ${warnings} warnings, ${evaluation.suppressed.length} suppressed`;
}

/** Whether the gate fails: any error that no suppression excuses. */
export function fails(evaluation: Evaluation): boolean {
  return evaluation.findings.some((f) => f.severity === 'error');
}

const where = (f: Finding) => `${f.ruleId}  ${f.location}  ${f.subject}`;

/** The whole report, ending with the count line and a newline. */
export function formatReport(evaluation: Evaluation): string {
  const { checked } = evaluation;
  const lines: string[] = [
    `validate: ${evaluation.environments.join(', ')}: ${checked.stacks} stacks (${checked.resources} resources and providers), ${checked.manifests} manifests, ${checked.rules} rules`,
  ];
  for (const env of evaluation.environments) {
    const findings = evaluation.findings.filter((f) => f.environment === env);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const suppressed = evaluation.suppressed.filter((f) => f.environment === env).length;
    lines.push('', `${env}: ${errors} errors, ${findings.length - errors} warnings, ${suppressed} suppressed`);
    for (const f of findings) {
      lines.push(`  ${f.severity.padEnd(7)}  ${where(f)}`, `           ${f.message}`, `           fix: ${f.hint}`);
    }
  }
  if (evaluation.suppressed.length > 0) {
    lines.push('', `suppressed (${evaluation.suppressed.length}), each with the reason written next to its construct:`);
    for (const f of evaluation.suppressed) {
      lines.push(`  ${f.environment.padEnd(7)}  ${where(f)}`, `           suppressed: ${f.message}`, `           because: ${f.reason}`);
    }
  }
  lines.push('', countLine(evaluation));
  return `${lines.join('\n')}\n`;
}
