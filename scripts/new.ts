/**
 * `npm run new -- environment|pipeline <name> --from <existing>`: scaffolds an environment file or a pipeline folder
 * from an existing one, with every name that must be unique already changed, and prints what is left to decide.
 * Nothing is written unless the result loads and validates with the real loaders, beside everything that exists;
 * then it is written atomically (a hidden file or folder, renamed into place). Any refusal is one line, exit 1.
 *
 * An environment copy changes `name`; `network.vpcCidr` to the first free range of the same size (upward from the
 * source's within 10.0.0.0/8, then 172.16.0.0/12 and 192.168.0.0/16); and every other string that holds the source's
 * name as a word ('#data-platform-<from>'), except the account's: `aws.*`, `cluster.adminRoleArns`, the CIDR lists
 * and `follows` (the copy deploys beside its source, after the same environment).
 *
 * A pipeline copy changes `name`, `description` ('Copy of <from>: …') and what no two pipelines may share: its
 * Kafka topics (source '<name>', sink '<name>-out', dead letters '<name>.dlq') and the places it writes (the last
 * segment of an S3 sink or dead-letter prefix, or of an HDFS sink path, becomes <name>: '<from>/' → '<name>/',
 * 'errors/<from>/' → 'errors/<name>/', '/data/<from>' → '/data/<name>'). An S3 source and the reference
 * tables are read, not written, and are kept. pipeline.ts is edited in place, value by value, so that its comments
 * and layout stay; the other files are copied as they are.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { cidrsOverlap, formatIpv4, parseIpv4Cidr, type Ipv4Cidr } from '../environments/cidr';
import { ENVIRONMENTS_DIR, environmentFile, environmentNames, importDeclaration, loadEnvironments, PLATFORM_MODULES, validateEnvironments } from '../environments/load';
import { deadLetterTopic, stateKey, STACKS } from '../environments/naming';
import { ConfigError, formatProblem } from '../environments/problem';
import { ENVIRONMENT_NAME, type Environment, type EnvironmentInput } from '../environments/schema';
import { RUNTIME_FOLDER } from '../pipelines/job-code';
import { loadPipelines, pipelineFolders, PIPELINES_DIR, type LoadedPipeline } from '../pipelines/load';
import { Pipeline } from '../pipelines/schema';
import { parseCommandLineWithArguments, requiredOption, runScript, UsageError, type OptionSpec, type ScriptOutput } from './command-line';

const USAGE = 'npm run new -- environment|pipeline <name> --from <existing>';
const KINDS = ['environment', 'pipeline'] as const;
type Kind = (typeof KINDS)[number];
const OPTIONS: Readonly<Record<string, OptionSpec>> = { from: { type: 'string', meaning: 'the environment or pipeline to copy' } };

/** The private IPv4 ranges (RFC 1918) a new VPC range is chosen from, in this order. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

/** What the command line asks for. */
export interface NewCommand {
  readonly kind: Kind;
  readonly name: string;
  readonly from: string;
}

/** One value the scaffold changed, with the value of the source. */
export interface Change {
  readonly field: string;
  readonly value: string;
  readonly was: string;
}

export async function main(args: readonly string[], io: ScriptOutput): Promise<number> {
  try {
    const command = parseNewCommand(args);
    io.out(command.kind === 'environment' ? await newEnvironment(command.name, command.from) : await newPipeline(command.name, command.from));
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`new: ${oneLine(error.message)}`);
    return 1;
  }
}

/** The kind, name and `--from` of the command line; a UsageError naming the argument, the value and the rule. */
export function parseNewCommand(args: readonly string[]): NewCommand {
  const { values, positionals } = parseCommandLineWithArguments(args, OPTIONS);
  const [kind, name, ...extra] = positionals;
  if (kind === undefined) throw new UsageError(`argument <kind> is required: environment or pipeline (${USAGE}), got nothing`);
  if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`argument <kind> must be environment or pipeline (${USAGE}), got ${quoted(kind)}`);
  if (name === undefined) throw new UsageError(`argument <name> is required: the name of the new ${kind} (${USAGE}), got nothing`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quoted(extra[0]!)}: the command takes a kind and a name (${USAGE})`);
  return { kind: kind as Kind, name, from: requiredOption(values, 'from', OPTIONS) };
}

// ---------------------------------------------------------------------------------------------------------------
// Environments

async function newEnvironment(name: string, from: string): Promise<string> {
  if (!ENVIRONMENT_NAME.pattern.test(name)) throw new UsageError(`argument <name> ${ENVIRONMENT_NAME.rule}, got ${quoted(name)}`);
  if ((PLATFORM_MODULES as readonly string[]).includes(name)) {
    throw new UsageError(`argument <name> must not be the name of a platform module in environments/ (${PLATFORM_MODULES.join(', ')}), got ${quoted(name)}`);
  }
  if (existsSync(join(ENVIRONMENTS_DIR, `${name}.ts`))) throw new UsageError(`argument <name> must not name an existing environment (${environmentFile(name)} exists), got ${quoted(name)}`);
  const known = environmentNames();
  if (!known.includes(from)) {
    const rule = known.length === 0 ? 'must name an environment, and environments/ declares none' : `must name an environment, one of ${known.join(', ')} (the files in environments/)`;
    throw new UsageError(`option '--from' ${rule}, got ${quoted(from)}`);
  }
  const { environments, pipelines } = await loadProject();
  const loaded = await importDeclaration(join(ENVIRONMENTS_DIR, `${from}.ts`), environmentFile(from), `environment '${from}'`, 'environment', 'must export the environment');
  if ('problems' in loaded) throw new UsageError(invalidSource('environments/', loaded.problems));
  const source = loaded.value as EnvironmentInput;
  const { input, changes } = deriveEnvironment(source, name, environments.map((env) => env.network.vpcCidr));

  const text = environmentSource(input, from);
  const stage = join(ENVIRONMENTS_DIR, `.new-${name}-${process.pid}.ts`);
  try {
    writeFileSync(stage, text, { flag: 'wx' });
    const written = await importDeclaration(stage, environmentFile(name), `environment '${name}'`, 'environment', 'must export the environment');
    if ('problems' in written || !isDeepStrictEqual(written.value, input)) throw new Error(`the text written for ${environmentFile(name)} does not declare the environment derived from ${from}`);
    try {
      validateEnvironments({ ...Object.fromEntries(environments.map((env) => [env.name, env])), [name]: input });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`environment '${name}' would not validate, so nothing was written: ${problemsText(error, environmentFile(name))}`);
    }
    renameSync(stage, join(ENVIRONMENTS_DIR, `${name}.ts`));
  } finally {
    rmSync(stage, { force: true });
  }
  return environmentReport(source, input, changes, from, pipelines);
}

/**
 * The new environment's input: the source's, with `name`, a free `network.vpcCidr`, and the source's name
 * replaced by the new one wherever it is a word of a string outside the account's fields.
 * @param taken the VPC ranges of every environment.
 * @throws UsageError when no range of the source's size is free.
 */
export function deriveEnvironment(source: EnvironmentInput, name: string, taken: readonly string[]): { input: EnvironmentInput; changes: Change[] } {
  const from = source.name;
  const input = structuredClone(source) as EnvironmentInput & Record<string, unknown>;
  const changes: Change[] = [{ field: 'name', value: name, was: from }];
  input.name = name;
  const cidr = freeVpcCidr(source.network.vpcCidr, taken);
  if (cidr === undefined) {
    const size = (parseIpv4Cidr(source.network.vpcCidr) as Ipv4Cidr).prefixLength;
    throw new UsageError(`cannot choose 'network.vpcCidr': every /${size} in ${PRIVATE_RANGES.join(', ')} overlaps an environment's VPC; free one, or copy ${environmentFile(from)} by hand and set network.vpcCidr`);
  }
  changes.push({ field: 'network.vpcCidr', value: cidr, was: source.network.vpcCidr });
  input.network.vpcCidr = cidr;
  const word = `(?<![a-z0-9])${from}(?![a-z0-9])`;
  const visit = (node: Record<string, unknown> | unknown[], path: string) => {
    for (const [key, value] of Object.entries(node)) {
      const field = path === '' ? key : `${path}.${key}`;
      if (KEPT_FIELDS.some((kept) => field === kept || field.startsWith(`${kept}.`))) continue;
      if (typeof value === 'string' && new RegExp(word).test(value)) {
        const renamed = value.replace(new RegExp(word, 'g'), name);
        changes.push({ field, value: renamed, was: value });
        (node as Record<string, unknown>)[key] = renamed;
      } else if (typeof value === 'object' && value !== null) {
        visit(value as Record<string, unknown>, field);
      }
    }
  };
  visit(input, '');
  return { input, changes };
}

// Fields whose strings keep the source's name: set above, the account's own, or chosen by the user.
const KEPT_FIELDS = ['name', 'follows', 'aws', 'network.vpcCidr', 'cluster.adminRoleArns', 'cluster.publicAccessCidrs'];

/**
 * The first range with the prefix length of `source` that overlaps none of `taken`: upward from `source` within the
 * private range that holds it, then each private range from its start. Undefined when there is none.
 */
export function freeVpcCidr(source: string, taken: readonly string[]): string | undefined {
  const from = parseIpv4Cidr(source);
  if ('error' in from) return undefined;
  const used = taken.map(parseIpv4Cidr).filter((cidr): cidr is Ipv4Cidr => !('error' in cidr));
  const size = 2 ** (32 - from.prefixLength);
  const ranges = PRIVATE_RANGES.map((range) => parseIpv4Cidr(range) as Ipv4Cidr).filter((range) => range.prefixLength <= from.prefixLength);
  const end = (range: Ipv4Cidr) => range.network + 2 ** (32 - range.prefixLength);
  const home = ranges.find((range) => cidrsOverlap(range, from));
  const searches = [...(home === undefined ? [] : [{ start: from.network + size, end: end(home) }]), ...ranges.map((range) => ({ start: range.network, end: end(range) }))];
  for (const search of searches) {
    for (let network = search.start; network + size <= search.end; network += size) {
      const candidate = { network, prefixLength: from.prefixLength };
      if (!used.some((cidr) => cidrsOverlap(cidr, candidate))) return `${formatIpv4(network)}/${from.prefixLength}`;
    }
  }
  return undefined;
}

/** The text of `environments/<name>.ts` declaring `input`, laid out like the shipped environment files. */
export function environmentSource(input: EnvironmentInput, from: string): string {
  return [
    "import type { EnvironmentInput } from './schema';",
    '',
    `/** Scaffolded from ${from} by \`npm run new\`: say here what this environment is for. */`,
    `export const environment = ${block(input, '')} satisfies EnvironmentInput;`,
    '',
  ].join('\n');
}

// The shipped files' layout: an object or array on one line when it fits, arrays of objects one element a line.
const WIDTH = 170;

function block(value: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((item) => `${inner}${layout(item, inner, inner.length)},\n`).join('')}${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
  return `{\n${entries.map(([key, item]) => `${inner}${propertyKey(key)}: ${layout(item, inner, inner.length + propertyKey(key).length + 2)},\n`).join('')}${indent}}`;
}

function layout(value: unknown, indent: string, column: number): string {
  if (typeof value !== 'object' || value === null) return scalar(value);
  const oneLine = inline(value);
  const arrayOfObjects = (node: unknown): boolean =>
    typeof node === 'object' && node !== null && (Array.isArray(node) ? node.some((item) => typeof item === 'object' && item !== null) || node.some(arrayOfObjects) : Object.values(node).some(arrayOfObjects));
  return !arrayOfObjects(value) && column + oneLine.length + 1 <= WIDTH ? oneLine : block(value, indent);
}

function inline(value: unknown): string {
  if (typeof value !== 'object' || value === null) return scalar(value);
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([key, item]) => `${propertyKey(key)}: ${inline(item)}`).join(', ')} }`;
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return stringLiteral(value, "'");
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`environmentSource: cannot write ${String(value)} as a literal`);
}

const propertyKey = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : stringLiteral(key, "'"));

/** A JavaScript string literal of `value` in quote `quote`. */
function stringLiteral(value: string, quote: "'" | '"'): string {
  if (quote === '"') return JSON.stringify(value);
  const escaped = JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`;
}

function environmentReport(source: EnvironmentInput, input: EnvironmentInput, changes: readonly Change[], from: string, pipelines: readonly LoadedPipeline[]): string {
  const name = input.name;
  const sized = pipelines.flatMap((pipeline) => {
    const fields = [...(pipeline.spark?.[from] ? [`spark.${from}`] : []), ...(pipeline.topics?.partitions[from] !== undefined ? [`topics.partitions.${from}`] : [])];
    return fields.length === 0 ? [] : [`pipelines/${pipeline.name}/pipeline.ts (${fields.join(', ')})`];
  });
  const receivers = input.monitoring.alertReceivers;
  const receiver = (r: (typeof receivers)['critical']) => (r.type === 'slack' ? `Slack ${r.channel}` : 'PagerDuty');
  const secret = `AWS_PLAN_ROLE_${name.toUpperCase().replace(/-/g, '_')}`;
  const lines = [
    `Created ${environmentFile(name)} from ${environmentFile(from)}, with:`,
    ...table([
      ...changes.map((c): [string, string] => [c.field, `${quoted(c.value)} (was ${quoted(c.was)}${c.field === 'network.vpcCidr' ? '; the first free range of that size' : ''})`]),
      ['follows', source.follows === undefined ? `absent, as in ${from}: ${name} is deployed first, beside ${from}` : `${quoted(source.follows)}, as in ${from}: ${name} is deployed after ${source.follows}, beside ${from}`],
    ]),
    '',
    `Still to decide (copied from ${from}):`,
    `  - aws.accountId ${input.aws.accountId} and aws.region ${input.aws.region}: an environment in an account of its own keeps its mistakes there; the AWS provider refuses any other account.`,
    `  - cluster.adminRoleArns (${input.cluster.adminRoleArns.join(', ')}): must be roles in the environment's own account.`,
    `  - aws.deployRoleArn ${input.aws.deployRoleArn}: the role the deploy workflow assumes, one of cluster.adminRoleArns, and the only principal that may push the pipeline image to ${name}'s registry.`,
    input.aws.stateBucket === undefined
      ? '  - aws.stateBucket: none, so Terraform state stays in local files; name a bucket before a team deploys.'
      : `  - aws.stateBucket ${input.aws.stateBucket}: shared with ${from} (the state keys differ: ${stateKey(name, STACKS[0])} …); it must be in the environment's account.`,
    `  - production: ${input.production}, retainData: ${input.retainData}: whether ${name} holds real data that no apply may delete.`,
    `  - follows: the deploy order; set follows: '${from}' to deploy ${name} after ${from}, or make another environment follow ${name}.`,
    `  - monitoring.alertReceivers: critical to ${receiver(receivers.critical)}, warning to ${receiver(receivers.warning)}; the credentials are read from Secrets Manager under driftless/${name}/.`,
    input.gitops.argoCdHostname === source.gitops.argoCdHostname
      ? `  - gitops.argoCdHostname ${input.gitops.argoCdHostname}: the same as ${from}'s; give ${name}'s Argo CD an address of its own.`
      : `  - gitops.argoCdHostname ${input.gitops.argoCdHostname}: the address of ${name}'s Argo CD; its DNS record (and any certificate) are yours to make.`,
    `  - cluster.publicAccessCidrs: ${input.cluster.publicAccessCidrs.length === 0 ? 'none' : input.cluster.publicAccessCidrs.join(', ')} (the networks that reach a public API endpoint; privateEndpoint: ${input.cluster.privateEndpoint}).`,
    `  - sizes (nodes, Kafka, HDFS, Spark) and retention periods, as in ${from}.`,
    `  - GitHub: the environment '${name}' with the secret AWS_DEPLOY_ROLE (aws.deployRoleArn) and the repository secret ${secret} (a read-only role) for the plan, deploy and drift workflows.`,
    sized.length === 0
      ? `  - pipelines: none sizes itself for ${from}; every pipeline runs on ${name}'s defaults.`
      : `  - pipelines sized for ${from} but not for ${name}, which runs them on its defaults: ${sized.join(', ')}.`,
    '',
    `Next: npm run synth, then npm test; commit ${environmentFile(name)} and k8s/rendered/${name}/.`,
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Pipelines

async function newPipeline(name: string, from: string): Promise<string> {
  const nameCheck = Pipeline.shape.name.safeParse(name);
  if (!nameCheck.success) throw new UsageError(`argument <name> ${nameCheck.error.issues[0]?.message ?? 'is not a pipeline name'}, got ${quoted(name)}`);
  if (name === RUNTIME_FOLDER) throw new UsageError(`argument <name> must not be '${RUNTIME_FOLDER}' (pipelines/${RUNTIME_FOLDER}/ holds the runtime every pipeline shares), got ${quoted(name)}`);
  if (existsSync(join(PIPELINES_DIR, name))) throw new UsageError(`argument <name> must not name an existing pipeline (pipelines/${name}/ exists), got ${quoted(name)}`);
  const folders = pipelineFolders();
  if (!folders.includes(from)) {
    const rule = folders.length === 0 ? 'must name a pipeline, and pipelines/ holds none' : `must name a pipeline, one of ${folders.join(', ')} (the folders in pipelines/)`;
    throw new UsageError(`option '--from' ${rule}, got ${quoted(from)}`);
  }
  const { environments, pipelines } = await loadProject();
  const { code: _code, ...source } = pipelines.find((pipeline) => pipeline.name === from)!;
  const changes = pipelineChanges(source, name);
  const file = `pipelines/${from}/pipeline.ts`;
  const text = editSpec(readFileSync(join(PIPELINES_DIR, from, 'pipeline.ts'), 'utf8'), changes, file);
  const expected = changes.reduce<Record<string, unknown>>((spec, change) => withValue(spec, change.field, change.value), structuredClone(source));

  const stage = mkdtempSync(join(PIPELINES_DIR, `.new-${name}-`));
  try {
    cpSync(join(PIPELINES_DIR, from), stage, { recursive: true });
    writeFileSync(join(stage, 'pipeline.ts'), text);
    const { code: _newCode, ...copy } = await loadBeside(stage, name, folders, environments.map((env) => env.name));
    if (!isDeepStrictEqual(copy, expected)) throw new Error(`pipelines/${name}/pipeline.ts as edited does not declare the pipeline derived from ${from}`);
    const files = filesUnder(stage);
    renameSync(stage, join(PIPELINES_DIR, name));
    return pipelineReport(source, changes, name, files);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * What a copy of `source` named `name` must change: its name and description, its Kafka topics (source '<name>',
 * sink '<name>-out', dead letters '<name>.dlq') and the places it writes (last segment → `name`).
 */
export function pipelineChanges(source: Pipeline, name: string): Change[] {
  const changes: Change[] = [
    { field: 'name', value: name, was: source.name },
    { field: 'description', value: `Copy of ${source.name}: ${source.description}`, was: source.description },
  ];
  if (source.source.type === 'kafka') changes.push({ field: 'source.topic', value: name, was: source.source.topic });
  const { sink, rejects } = source;
  if (sink.type === 'kafka') changes.push({ field: 'sink.topic', value: `${name}-out`, was: sink.topic });
  if (sink.type === 's3') changes.push({ field: 'sink.prefix', value: lastSegment(sink.prefix, name), was: sink.prefix });
  if (sink.type === 'hdfs') changes.push({ field: 'sink.path', value: lastSegment(sink.path, name), was: sink.path });
  if (rejects.type === 'kafka') changes.push({ field: 'rejects.topic', value: deadLetterTopic(name), was: rejects.topic });
  if (rejects.type === 's3') changes.push({ field: 'rejects.prefix', value: lastSegment(rejects.prefix, name), was: rejects.prefix });
  return changes;
}

/** `path` ('errors/<from>/', '/data/<from>') with its last segment replaced by `name`. */
const lastSegment = (path: string, name: string): string => path.replace(/[^/]+(\/?)$/, `${name}$1`);

function withValue(spec: Record<string, unknown>, field: string, value: string): Record<string, unknown> {
  const keys = field.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, spec);
  parent[last] = value;
  return spec;
}

/**
 * Loads the staged copy with the real loader as pipelines/<name>, beside every existing pipeline, so that clashes
 * with them (topics, written places) are found before anything is written: in a scratch folder of links.
 */
async function loadBeside(stage: string, name: string, folders: readonly string[], environments: readonly string[]): Promise<LoadedPipeline> {
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-new-'));
  try {
    for (const folder of [...folders, name]) {
      const real = folder === name ? stage : join(PIPELINES_DIR, folder);
      mkdirSync(join(scratch, folder));
      // The loader lists folders; links to the files keep their imports resolving from where they really are.
      for (const entry of readdirSync(real)) symlinkSync(join(real, entry), join(scratch, folder, entry));
    }
    try {
      return (await loadPipelines(scratch, environments, join(PIPELINES_DIR, RUNTIME_FOLDER))).find((pipeline) => pipeline.name === name)!;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`pipeline '${name}' would not validate, so nothing was written (choose another name, or copy the folder by hand): ${problemsText(error, `pipelines/${name}/pipeline.ts`)}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(join(dir, entry)).isFile())
    .map((entry) => entry.split('\\').join('/'))
    .sort();
}

/**
 * `text` (a pipeline.ts) with the value of each changed field of `export const pipeline = { ... }` replaced by a
 * string literal of the new value, in the quotes it was written in; nothing else changes.
 * @throws UsageError naming the field when it is not written out in the spec's object literal.
 */
export function editSpec(text: string, changes: readonly Change[], file: string): string {
  const spans = changes.map((change) => {
    const span = propertySpan(text, change.field.split('.'));
    if (span === undefined) {
      throw new UsageError(`cannot change '${change.field}' in ${file}: it is not written out in 'export const pipeline = { ... }'; copy the folder by hand and set it`);
    }
    const quote = text[span.start] === '"' ? '"' : "'";
    return { ...span, literal: stringLiteral(change.value, quote) };
  });
  return spans
    .sort((a, b) => b.start - a.start)
    .reduce((edited, span) => `${edited.slice(0, span.start)}${span.literal}${edited.slice(span.end)}`, text);
}

/** Where the value of the property at `path` of the object literal exported as `pipeline` is written, if it is. */
export function propertySpan(text: string, path: readonly string[]): { start: number; end: number } | undefined {
  const anchor = /export\s+const\s+pipeline\b[^=]*=\s*/.exec(text);
  if (anchor === null) return undefined;
  let open = anchor.index + anchor[0].length;
  for (const [index, key] of path.entries()) {
    if (text[open] !== '{') return undefined;
    const span = properties(text, open).get(key);
    if (span === undefined || index === path.length - 1) return span;
    open = span.start;
  }
  return undefined;
}

// A scanner for object literals: enough of JavaScript's lexical grammar (strings, templates, comments, brackets)
// to find where each property's value starts and ends.
function properties(text: string, open: number): Map<string, { start: number; end: number }> {
  const found = new Map<string, { start: number; end: number }>();
  let i = open + 1;
  while (i < text.length) {
    i = skipTrivia(text, i);
    const c = text[i];
    if (c === '}' || c === undefined) return found;
    if (c === ',') {
      i++;
      continue;
    }
    let key: string | undefined;
    if (c === "'" || c === '"') {
      const end = skipString(text, i);
      key = text.slice(i + 1, end - 1);
      i = end;
    } else {
      const identifier = /^[A-Za-z_$][\w$]*/.exec(text.slice(i, i + 256));
      if (identifier !== null) {
        key = identifier[0];
        i += key.length;
      }
    }
    i = skipTrivia(text, i);
    if (key !== undefined && text[i] === ':') {
      const value = skipExpression(text, skipTrivia(text, i + 1));
      found.set(key, { start: skipTrivia(text, i + 1), end: value.lastToken });
      i = value.end;
    } else {
      // A spread, a shorthand property or a method: not a value this scaffold changes.
      const next = skipExpression(text, i).end;
      if (next === i && text[i] !== ',' && text[i] !== '}') return found;
      i = next;
    }
  }
  return found;
}

/** Skips to the `,` or closing bracket that ends the expression starting at `start`; `lastToken` ends its last token. */
function skipExpression(text: string, start: number): { end: number; lastToken: number } {
  let depth = 0;
  let i = start;
  let lastToken = start;
  while (i < text.length) {
    const trivia = skipTrivia(text, i);
    if (trivia !== i) {
      i = trivia;
      continue;
    }
    const c = text[i]!;
    if (depth === 0 && (c === ',' || c === '}' || c === ']' || c === ')')) return { end: i, lastToken };
    if (c === "'" || c === '"' || c === '`') i = skipString(text, i);
    else {
      if (c === '{' || c === '[' || c === '(') depth++;
      if (c === '}' || c === ']' || c === ')') depth--;
      i++;
    }
    lastToken = i;
  }
  return { end: i, lastToken };
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === '\\') i += 2;
    else if (quote === '`' && text.startsWith('${', i)) i = skipExpression(text, i + 2).end + 1;
    else i++;
  }
  return i + 1;
}

function skipTrivia(text: string, start: number): number {
  let i = start;
  for (;;) {
    if (/\s/.test(text[i] ?? '')) i++;
    else if (text.startsWith('//', i)) i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i + 2) === -1 ? text.length : text.indexOf('*/', i + 2) + 2;
    else return i;
  }
}

function pipelineReport(source: Pipeline, changes: readonly Change[], name: string, files: readonly string[]): string {
  const from = source.name;
  const changeOf = (field: string) => changes.find((change) => change.field === field);
  const tests = files.filter((file) => file.endsWith('.test.ts'));
  const fixtures = files.filter((file) => file.startsWith('fixtures/'));
  const sizing = [...Object.keys(source.spark ?? {}).map((env) => `spark.${env}`), ...Object.keys(source.topics?.partitions ?? {}).map((env) => `topics.partitions.${env}`)];
  const input = source.source;
  const lines = [
    `Created pipelines/${name}/ from pipelines/${from}/ (${files.join(', ')}), with, in pipeline.ts:`,
    ...table(changes.map((c) => [c.field, c.field === 'description' ? quoted(c.value) : `${quoted(c.value)} (was ${quoted(c.was)})`])),
    '',
    `Still to decide (copied from ${from}):`,
    input.type === 'kafka'
      ? `  - source: the topic ${quoted(changeOf('source.topic')!.value)} is new and nothing produces to it yet (${from} reads ${quoted(changeOf('source.topic')!.was)}, and each topic belongs to one pipeline).`
      : `  - source: reads the same files as ${from} (${input.bucket} ${input.prefix}${input.file ?? ''}): a batch copy processes the same files again; point source.prefix and source.file at its own files unless that is the point.`,
    ...(source.references === undefined || source.references.length === 0
      ? []
      : [`  - references: reads the same tables as ${from} (${source.references.map((r) => `${r.bucket} ${r.prefix} as ${r.as}`).join(', ')}).`]),
    source.kind === 'batch'
      ? `  - schedule: ${quoted(source.schedule ?? '')} (UTC), as ${from}.`
      : `  - trigger: every ${source.triggerSeconds} s${source.window === undefined ? '' : `, ${source.window.unit} windows on ${source.window.column} (watermark ${source.window.watermarkMinutes} min)`}, as ${from}.`,
    `  - sink: the copy writes to ${quoted((changeOf('sink.topic') ?? changeOf('sink.prefix') ?? changeOf('sink.path'))!.value)}; whatever reads the output of ${from} does not read it.`,
    `  - steps (${source.steps.join(', ')}), schema and quality rules: the same as in ${from}.`,
    `  - sizing: ${sizing.length === 0 ? "none of its own: every environment's defaults" : `${sizing.join(', ')}, as ${from}; other environments use their defaults`}.`,
    `  - alerts: stale after ${source.alerts.staleAfterMinutes} min, lag ${source.alerts.maxLag === undefined ? "at the environment's threshold" : `above ${source.alerts.maxLag} records`}.`,
    tests.length === 0
      ? `  - tests: ${from} has none; add pipelines/${name}/logic.test.ts (pipelines/README.md).`
      : `  - tests: ${tests.join(', ')}${fixtures.length === 0 ? '' : ` and ${fixtures.join(', ')}`} test the copied logic; change them with the SQL.`,
    `  - description and comments: the description says it is a copy; the comments in pipeline.ts still describe ${from}.`,
    '',
    `Next: npm run synth, then npx vitest run pipelines/${name} and npm test; commit pipelines/${name}/ and k8s/rendered/.`,
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared

/** Every environment and pipeline, validated: a scaffold is made only from a project that synthesizes. */
async function loadProject(): Promise<{ environments: Environment[]; pipelines: LoadedPipeline[] }> {
  let environments: Environment[];
  try {
    environments = await loadEnvironments();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(invalidSource('environments/', error.problems));
  }
  try {
    return { environments, pipelines: await loadPipelines(PIPELINES_DIR, environments.map((env) => env.name)) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(invalidSource('pipelines/', error.problems));
  }
}

const invalidSource = (folder: string, problems: ConfigError['problems']) =>
  `${folder} does not validate, so npm run synth fails too; fix that first: ${problemsText(new ConfigError(problems))}`;

/** The first problem, of `file` if it has one, in one line, and how many more there are. */
function problemsText(error: ConfigError, file?: string): string {
  const [first] = [...error.problems.filter((problem) => problem.file === file), ...error.problems.filter((problem) => problem.file !== file)];
  const more = error.problems.length - 1;
  return `${first === undefined ? 'no problem given' : formatProblem(first)}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''}`;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

/** A value from the command line or a file, quoted on one line. */
const quoted = (value: string) => stringLiteral(value, "'");

function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(0, ...rows.map(([field]) => field.length));
  return rows.map(([field, text]) => `  ${field.padEnd(width)}  ${text}`);
}

if (typeof require !== 'undefined' && require.main === module) runScript('new', main);
