/**
 * `npm run local -- <command> [--env <name>]`: the data plane of one environment (default dev) on this machine, on
 * 127.0.0.1 and without Docker, running the pipelines as deployed.
 *
 *   up                        start Kafka, HDFS and the S3 emulator; topics, users, ACLs and buckets as in the environment
 *   down                      stop them (Kafka's and HDFS's data stay in .local/<env>/)
 *   status [--json]           each engine's health; --json: one object with endpoints, health and the local credentials
 *   run <pipeline> [--date YYYY-MM-DD] [--for <seconds>]
 *                             the pipeline's runtime with spark-submit, as its manifest describes it (LOCAL_OVERRIDES)
 *   query <pipeline> [--rejects] [--json]
 *                             what the pipeline wrote (its sink, or with --rejects its dead letters), as a table or JSON lines
 *   deploy                    the environment's stacks applied with OpenTofu to an AWS API emulator (scripts/local/aws.ts),
 *                             then planned again: exit 0 when nothing is left to change
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvironments } from '../environments/load';
import { ConfigError } from '../environments/problem';
import type { Environment } from '../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../pipelines/load';
import { environmentOption, ENV_OPTION, parseCommandLineWithArguments, runScript, UsageError, type ScriptOutput } from './command-line';
import { ADMIN_USER } from './local/kafka';
import { jobOf, sparkApplication } from './local/manifests';
import { down, health, planeDir, portsFrom, readConnection, up, type Connection } from './local/plane';
import { localS3Client } from './local/s3';
import { localSubmission, type LocalEndpoints } from './local/submit';
import { publishJobs } from './publish-jobs';
import { runCommand, tail } from './run-command';
import { installIac } from './toolchain/iac';
import { cacheDir, installedToolchain, installToolchain, type Toolchain } from './toolchain/toolchain';
import { STACKS, stackName } from '../environments/naming';
import { awsDir, deployStacks, EmulatorDeployError, startAwsEmulator, stopAwsEmulator } from './local/aws';
import { EMULATOR_UNKEPT } from './local/emulator-stacks';
import { PROJECT_ROOT } from './project-copy';

const USAGE =
  'usage: npm run local -- up|down|status [--json]|run <pipeline> [--date YYYY-MM-DD] [--for <seconds>]|query <pipeline> [--rejects] [--json]|deploy [--env <name>]';

const OPTIONS = {
  env: ENV_OPTION,
  json: { type: 'boolean', meaning: 'print JSON' },
  date: { type: 'string', meaning: 'the logical date YYYY-MM-DD of a batch run' },
  for: { type: 'string', meaning: 'seconds to run a stream before stopping it' },
  rejects: { type: 'boolean', meaning: 'query the dead letters instead of the sink' },
} as const;

/** Spark in local mode: the cores and driver memory a laptop can spare (the "sizing" override). */
export const LOCAL_SPARK = { cores: 2, driverMemoryMiB: 2048 } as const;

export async function main(args: readonly string[], io: ScriptOutput): Promise<number> {
  try {
    const { values, positionals } = parseCommandLineWithArguments(args, OPTIONS);
    const [command, name, ...extra] = positionals;
    const needsPipeline = command === 'run' || command === 'query';
    if (!COMMANDS.includes(command ?? '')) throw new UsageError(`the command must be one of ${COMMANDS.join(', ')}, got '${command ?? ''}'`, true);
    if (needsPipeline ? name === undefined || extra.length > 0 : name !== undefined) {
      throw new UsageError(needsPipeline ? `'${command}' takes one pipeline name, got '${positionals.slice(1).join(' ')}'` : `'${command}' takes no argument, got '${name}'`, true);
    }
    const envName = values['env'] === undefined ? DEFAULT_ENVIRONMENT : environmentOption(values);
    const { env, pipelines } = await project(envName);
    const dir = planeDir(env.name);
    switch (command) {
      case 'up': {
        const toolchain = await installToolchain(io.err);
        const connection = await up({ env, pipelines, toolchain, dir, ports: portsFrom(portBase()), log: io.err });
        io.out(`${describe(connection, { kafka: true, hdfs: true, s3: true })}\nconnection details: ${join(dir, 'connection.json')}\n`);
        return 0;
      }
      case 'down': {
        const plane = await down(dir, await installedToolchain().catch(() => undefined), io.err);
        const emulator = await stopAwsEmulator(awsDir(dir));
        if (emulator) io.err(`stopped the AWS API emulator of ${env.name}`);
        if (!plane && !emulator) io.err(`local: the local plane of '${env.name}' is not running`);
        return 0;
      }
      case 'deploy':
        return await deploy(env, dir, io);
      case 'status': {
        const connection = readConnection(dir);
        if (connection === undefined) {
          if (values['json']) io.out(`${JSON.stringify({ environment: env.name, running: false })}\n`);
          else io.out(`the local plane of '${env.name}' is not running (npm run local -- up --env ${env.name})\n`);
          return 3;
        }
        const engines = await health(connection);
        if (values['json']) {
          io.out(`${JSON.stringify({ ...connection, running: true, health: engines })}\n`);
        } else {
          io.out(`${describe(connection, engines)}\n`);
        }
        return Object.values(engines).every(Boolean) ? 0 : 3;
      }
      case 'run': {
        const pipeline = pipelineNamed(pipelines, name!);
        const seconds = values['for'] === undefined ? undefined : Number(values['for']);
        if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) throw new UsageError(`option '--for' must be a whole number of seconds above 0, got '${values['for']}'`);
        const date = values['date'] as string | undefined;
        if (date !== undefined && !validDate(date)) throw new UsageError(`option '--date' must be a day YYYY-MM-DD, got '${date}'`);
        if (date !== undefined && pipeline.kind !== 'batch') throw new UsageError(`option '--date' is for batch pipelines; '${pipeline.name}' is ${pipeline.kind}`);
        const connection = running(env, dir);
        const child = await startPipeline({ env, pipelines, pipeline, connection, toolchain: await installedToolchain(), dir, ...(date ? { date } : {}), output: 'inherit' });
        const timer = seconds === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
        const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        if (timer) clearTimeout(timer);
        // A stream stopped by --for ends with a signal; that is the asked-for end, not a failure.
        return seconds !== undefined && code === null ? 0 : (code ?? 1);
      }
      case 'query': {
        const pipeline = pipelineNamed(pipelines, name!);
        const rows = await query({ env, pipelines, pipeline, connection: running(env, dir), toolchain: await installedToolchain(), dir, rejects: values['rejects'] === true });
        io.out(values['json'] ? rows.map((row) => `${JSON.stringify(row)}\n`).join('') : table(rows));
        return 0;
      }
    }
    return 1;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`local: ${error.message}`);
      if (error.showUsage) io.err(USAGE);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof EmulatorDeployError) {
      io.err(`local: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

const COMMANDS = ['up', 'down', 'status', 'run', 'query', 'deploy'];

/** The environment when --env is not given, as the issue and the README promise. */
const DEFAULT_ENVIRONMENT = 'dev';

const portBase = (): number => {
  const text = process.env['DRIFTLESS_LOCAL_PORT_BASE'] ?? '19400';
  const base = Number(text);
  if (!Number.isInteger(base) || base < 1024 || base > 65530) throw new UsageError(`DRIFTLESS_LOCAL_PORT_BASE must be a port from 1024 to 65530 (it and the next five are used), got '${text}'`);
  return base;
};

const validDate = (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);

async function project(envName: string): Promise<{ env: Environment; pipelines: LoadedPipeline[] }> {
  const environments = await loadEnvironments();
  const env = environments.find((e) => e.name === envName);
  if (env === undefined) {
    throw new UsageError(`option '--env' must name a file in environments/ (${environments.map((e) => e.name).join(', ')}), got '${envName}'${envName === DEFAULT_ENVIRONMENT ? ' (the default)' : ''}`);
  }
  return { env, pipelines: await loadPipelines(undefined, environments.map((e) => e.name)) };
}

function pipelineNamed(pipelines: readonly LoadedPipeline[], name: string): LoadedPipeline {
  const pipeline = pipelines.find((p) => p.name === name);
  if (pipeline === undefined) throw new UsageError(`the pipeline must be a folder of pipelines/ (${pipelines.map((p) => p.name).join(', ')}), got '${name}'`);
  return pipeline;
}

function running(env: Environment, dir: string): Connection {
  const connection = readConnection(dir);
  if (connection === undefined) throw new UsageError(`the local plane of '${env.name}' is not running: start it with 'npm run local -- up --env ${env.name}'`);
  return connection;
}

function describe(connection: Connection, engines: { kafka: boolean; hdfs: boolean; s3: boolean }): string {
  const state = (up: boolean) => (up ? 'up  ' : 'DOWN');
  return [
    `local plane of ${connection.environment}:`,
    `  kafka  ${state(engines.kafka)}  ${connection.kafka.endpoint}  ${connection.kafka.protocol} ${connection.kafka.mechanism}, CA ${connection.kafka.caFile}`,
    `  hdfs   ${state(engines.hdfs)}  ${connection.hdfs.endpoint} (hdfs://${connection.hdfs.nameservice}/ in jobs), ${connection.hdfs.datanodes} datanodes, replication ${connection.hdfs.replication}, UI ${connection.hdfs.http}`,
    `  s3     ${state(engines.s3)}  ${connection.s3.endpoint}  buckets ${connection.s3.buckets.join(', ')}`,
    `  users  kafka: ${Object.keys(connection.users.kafka).join(', ')} (passwords in connection.json); AWS: access key '${connection.users.aws.accessKeyId}'`,
  ].join('\n');
}

/** Where a job finds the local engines. */
const endpointsOf = (connection: Connection): LocalEndpoints => ({
  kafkaBootstrap: connection.kafka.endpoint,
  kafkaCaFile: connection.kafka.caFile,
  s3Endpoint: connection.s3.endpoint,
  namenode: connection.hdfs.endpoint.replace('hdfs://', ''),
});

/** Publishes the pipeline's job code to the local artifacts bucket (as the delivery workflow does) and starts spark-submit. */
export async function startPipeline(options: {
  readonly env: Environment;
  readonly pipelines: readonly LoadedPipeline[];
  readonly pipeline: LoadedPipeline;
  readonly connection: Connection;
  readonly toolchain: Toolchain;
  readonly dir: string;
  readonly date?: string;
  /** The terminal's output; or, for tests and benchmarks, a log file and a process group of its own (killed as one). */
  readonly output: 'inherit' | { readonly logFile: string };
  readonly cores?: number;
}): Promise<ChildProcess> {
  const { env, pipeline, connection, toolchain } = options;
  const s3Port = Number(new URL(connection.s3.endpoint).port);
  const client = localS3Client(env, s3Port);
  try {
    await publishJobs({ env, pipelines: [pipeline], client, log: () => undefined });
  } finally {
    client.destroy();
  }
  const scratch = join(options.dir, 'spark', pipeline.name);
  mkdirSync(scratch, { recursive: true });
  const password = connection.users.kafka[pipeline.name];
  const submission = localSubmission(sparkApplication(env, options.pipelines, pipeline), {
    endpoints: endpointsOf(connection),
    ...(password === undefined ? {} : { kafkaUser: { username: pipeline.name, password } }),
    jars: toolchain.jars('spark'),
    python: toolchain.python,
    cores: options.cores ?? LOCAL_SPARK.cores,
    driverMemoryMiB: LOCAL_SPARK.driverMemoryMiB,
    scratchDir: scratch,
    ...(options.date ? { date: options.date } : {}),
  });
  const processEnv = { ...process.env, ...submission.env, TMPDIR: scratch };
  if (options.output === 'inherit') return spawn(toolchain.sparkSubmit, submission.args, { cwd: scratch, env: processEnv, stdio: 'inherit' });
  const log = openSync(options.output.logFile, 'a');
  try {
    return spawn(toolchain.sparkSubmit, submission.args, { cwd: scratch, env: processEnv, stdio: ['ignore', log, log], detached: true });
  } finally {
    closeSync(log);
  }
}

/** The rows a pipeline wrote to its sink (or its dead letters), read with Spark from HDFS, S3 or Kafka. */
export async function query(options: {
  readonly env: Environment;
  readonly pipelines: readonly LoadedPipeline[];
  readonly pipeline: LoadedPipeline;
  readonly connection: Connection;
  readonly toolchain: Toolchain;
  /** The plane's folder, where Spark's scratch space goes. */
  readonly dir: string;
  readonly rejects: boolean;
  /** A text file or folder to read instead of what the pipeline wrote, with the same Spark settings. */
  readonly text?: string;
}): Promise<Array<Record<string, unknown>>> {
  const { connection, toolchain } = options;
  const application = sparkApplication(options.env, options.pipelines, options.pipeline);
  const job = jobOf(application);
  const location = options.rejects ? job.rejects : job.sink;
  const submission = localSubmission(application, {
    endpoints: endpointsOf(connection),
    jars: toolchain.jars('spark'),
    python: toolchain.python,
    cores: 1,
    driverMemoryMiB: 1024,
    scratchDir: join(options.dir, 'spark', 'query'),
  });
  const conf: Record<string, string> = { ...submission.conf };
  conf['spark.jars'] = toolchain.jars('spark').join(',');
  const request = options.text !== undefined
    ? { kind: 'text', uri: options.text, conf }
    : location.type === 'kafka'
      ? { kind: 'kafka', topic: location.topic, conf, kafka: { bootstrap: connection.kafka.endpoint, caFile: connection.kafka.caFile, username: ADMIN_USER, password: connection.users.kafka[ADMIN_USER] } }
      : { kind: options.rejects ? 'text' : 'parquet', uri: options.rejects ? `${location.uri.replace(/\/$/, '')}/*` : location.uri, conf };
  mkdirSync(conf['spark.local.dir']!, { recursive: true });
  const result = await runCommand(toolchain.python, [join(__dirname, 'local', 'query.py'), JSON.stringify(request)], {
    cwd: conf['spark.local.dir']!,
    env: { ...process.env, ...submission.env, TMPDIR: conf['spark.local.dir']! },
  });
  if (result.code !== 0) throw new UsageError(`reading ${options.text ?? (location.type === 'kafka' ? `topic ${location.topic}` : location.uri)} failed: ${tail(result.stderr, 5).replace(/\n/g, ' | ')}`);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function table(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => cell(row[c]).length)));
  const line = (cells: string[]) => cells.map((text, i) => text.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join('\n')}\n(${rows.length} rows)\n`;
}

if (typeof require !== 'undefined' && require.main === module) runScript('local', main);

/**
 * Synthesizes the environment, applies its stacks to the AWS API emulator and plans them again. Prints per stack what
 * was created and left out; exits 1 when a plan right after the apply still has changes (a perpetual diff).
 */
async function deploy(env: Environment, dir: string, io: ScriptOutput): Promise<number> {
  const synth = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', '--env', env.name], { cwd: PROJECT_ROOT });
  if (synth.code !== 0) throw new UsageError(`the synth of ${env.name} failed:\n${tail(synth.stderr || synth.stdout, 40)}`);
  const toolchain = await installToolchain(io.err);
  const iac = await installIac(cacheDir(), io.err);
  const emulator = await startAwsEmulator({ env, python: toolchain.python, dir: awsDir(dir), port: portsFrom(portBase()).aws, log: io.err });
  const results = await deployStacks({
    stacks: STACKS.map((stack) => stackName(env.name, stack)),
    synthesized: join(PROJECT_ROOT, 'cdktf.out', 'stacks'),
    dir: awsDir(dir),
    iac,
    emulator,
    log: io.err,
  });
  const lines = [`${env.name} applied to the AWS API emulator at ${emulator.endpoint} (account ${emulator.accountId}, ${emulator.region})`];
  for (const result of results) {
    lines.push(`  ${result.stack}: ${result.created.length} resources; plan after apply: ${result.replan.changes ? 'CHANGES' : 'no changes'}`);
    const byType = new Map<string, number>();
    for (const { address } of result.leftOut) byType.set(address.split('.')[0]!, (byType.get(address.split('.')[0]!) ?? 0) + 1);
    if (byType.size > 0) lines.push(`    left out: ${[...byType].map(([type, count]) => `${type} ×${count}`).join(', ')}`);
    if (result.replan.changes) lines.push(...result.replan.summary.map((line) => `    ${line}`));
  }
  lines.push(
    `not compared on the emulator, which does not keep them: ${Object.entries(EMULATOR_UNKEPT)
      .map(([type, { attributes }]) => `${type} ${attributes.join(', ')}`)
      .join('; ')}`,
    `state and working folders: ${join(awsDir(dir), 'stacks')}; stop with 'npm run local -- down --env ${env.name}'`,
    `plan or check drift against it: npm run plan -- --env ${env.name} --local; npm run drift -- --env ${env.name} --local`,
  );
  io.out(`${lines.join('\n')}\n`);
  const perpetual = results.filter((result) => result.replan.changes).map((result) => result.stack);
  if (perpetual.length > 0) {
    io.err(`local: a plan right after the apply still changes ${perpetual.join(', ')}: a perpetual diff, which would report drift every night`);
    return 1;
  }
  return 0;
}
