/**
 * `npm run produce -- --pipeline <name> --file <csv> [--max-batch-bytes <n>] [--dry-run] [--bootstrap host:port] [--ca <pem>]`:
 * turns a CSV file into Kafka records for a pipeline's source topic, for local and staging trials.
 *
 * One record per data row. The key is the row's value of the pipeline's first schema field (the station for
 * `temperature`), so all records of one key land in one partition, in file order. The value is, for
 * `format: 'json'`, an object of the schema fields as the strings found in the CSV (the pipeline runtime parses
 * and validates them, so bad values deliberately pass through and exercise the dead-letter path), and for
 * `format: 'csv'` the raw line.
 *
 * The file is streamed, never read whole: a produce request holds one batch of at most `--max-batch-bytes`,
 * counted the way Kafka sizes a record batch (see BATCH_OVERHEAD_BYTES and RECORD_OVERHEAD_BYTES), and the next
 * batch is sent only when all in-sync replicas have the previous one.
 *
 * Credentials come only from KAFKA_USERNAME / KAFKA_PASSWORD: a command-line argument would land in shell history.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { kafkaBootstrap } from '../environments/naming';
import { ConfigError } from '../environments/problem';
import { loadPipelines } from '../pipelines/load';
import type { Pipeline } from '../pipelines/schema';
import { ADMIN_USER } from './local/kafka';
import { planeDir, readConnection } from './local/plane';

/** Kafka's broker default for `message.max.bytes` rounded down to 1 MiB: the largest batch a topic accepts unless raised. */
export const DEFAULT_MAX_BATCH_BYTES = 1_048_576;

/**
 * Header of a Kafka record batch (format v2, `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`): base offset 8, length 4,
 * leader epoch 4, magic 1, CRC 4, attributes 2, last offset delta 4, two timestamps 16, producer id 8,
 * producer epoch 2, base sequence 4, record count 4. Counted once per batch.
 */
export const BATCH_OVERHEAD_BYTES = 61;

/**
 * What Kafka adds to each record besides the key and value bytes, as an upper bound (`DefaultRecord.recordSizeUpperBound`):
 * `MAX_RECORD_OVERHEAD` 21 (length varint 5, attributes 1, timestamp delta varlong 10, offset delta varint 5),
 * the key and value length varints (5 each) and the header count varint (1: these records have no headers).
 */
export const RECORD_OVERHEAD_BYTES = 21 + 5 + 5 + 1;

/** One Kafka record: the key and value are sent as UTF-8 strings. */
export interface KafkaRecord {
  readonly key: string;
  readonly value: string;
}

/** A record with the data row it came from (1 = the first row after the header; blank lines are no rows). */
export interface SourceRecord extends KafkaRecord {
  readonly row: number;
}

/** The records of one produce request. */
export interface Batch {
  /** 1-based, in the order of the file. */
  readonly index: number;
  readonly records: readonly SourceRecord[];
  /** Batch header plus, per record, key + value + RECORD_OVERHEAD_BYTES: never more than the limit. */
  readonly bytes: number;
}

/** What the producer needs from a Kafka client: small enough that tests can pass a fake. */
export interface KafkaProducer {
  /** Sends the records as one request; resolves once every in-sync replica has them (acks=all). */
  send(topic: string, records: readonly KafkaRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** How to reach the cluster. */
export interface ConnectOptions {
  /** `host:port` of the TLS listener. */
  readonly bootstrap: string;
  /** PEM of the cluster CA; the system's trusted CAs when undefined. */
  readonly ca: string | undefined;
  readonly username: string;
  readonly password: string;
}

/** Opens a producer: the real client, or a fake in tests. */
export type Connect = (options: ConnectOptions) => Promise<KafkaProducer>;

/** Where the script reads its environment and writes its output; tests pass their own. */
export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly connect: Connect;
}

/** What the CSV must look like for a pipeline and where its records go. */
export interface RecordSpec {
  readonly pipeline: string;
  readonly topic: string;
  readonly format: 'json' | 'csv';
  /** The schema field names, in order; the first is the key. */
  readonly fields: readonly string[];
  /** The file as named on the command line, for messages. */
  readonly file: string;
}

/** A mistake of the user's (option, file, credentials): reported as one line per problem, exit code 1. */
export class UsageError extends Error {
  constructor(
    readonly lines: readonly string[],
    /** Print the usage after the problems: the command line itself is wrong. */
    readonly showUsage = false,
  ) {
    super(lines.join('\n'));
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  pipeline: { type: 'string' },
  file: { type: 'string' },
  'max-batch-bytes': { type: 'string' },
  'dry-run': { type: 'boolean' },
  bootstrap: { type: 'string' },
  ca: { type: 'string' },
  local: { type: 'boolean' },
  env: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE =
  'usage: npm run produce -- --pipeline <name> --file <csv> [--max-batch-bytes <n>] [--dry-run] [--bootstrap <host:port>] [--ca <pem file>] [--local [--env <name>]]\n' +
  '  credentials (real mode only): environment variables KAFKA_USERNAME and KAFKA_PASSWORD (SCRAM-SHA-512)\n' +
  "  --local: the local plane of the environment (default dev) started by 'npm run local -- up': its broker, CA and admin user";

const CREDENTIALS = ['KAFKA_USERNAME', 'KAFKA_PASSWORD'] as const;

/** Runs the command; returns the exit code. Never throws for the user's mistakes. */
export async function main(args: readonly string[], io: Io): Promise<number> {
  try {
    const options = parseOptions(args);
    if (options === 'help') {
      io.out(USAGE);
      return 0;
    }
    const spec = await recordSpec(options.pipeline, options.file);
    const connection = options.dryRun ? undefined : options.local === undefined ? connectOptions(options.bootstrap, options.ca, io.env) : localConnectOptions(options.local);
    // Every row is read and sized before anything is sent: a missing column or a record too large for a batch
    // stops the run before a first record reaches the topic, not halfway through the file.
    const plan = await summarize(spec, options.maxBatchBytes, io, connection === undefined);
    if (connection === undefined) {
      io.out(`dry run: ${count(plan.records, 'record')} in ${count(plan.batches, 'batch')} ${planSuffix(spec, options.maxBatchBytes)}; nothing was sent`);
      return 0;
    }
    await send(spec, options.maxBatchBytes, connection, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      for (const line of error.lines) io.err(`produce: ${line}`);
      if (error.showUsage) io.err(USAGE);
      return 1;
    }
    if (error instanceof ConfigError) {
      io.err(`produce: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

interface Options {
  readonly pipeline: string;
  readonly file: string;
  readonly maxBatchBytes: number;
  readonly dryRun: boolean;
  readonly bootstrap: string;
  readonly ca: string | undefined;
  /** The environment whose local plane to send to (--local). */
  readonly local: string | undefined;
}

function parseOptions(args: readonly string[]): Options | 'help' {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError([argumentProblem(error as Error & { code?: string })], true);
  }
  if (values.help === true) return 'help';
  const problems: string[] = [];
  const required = (name: 'pipeline' | 'file'): string => {
    const value = values[name];
    if (value === undefined || value === '') problems.push(`option '--${name}' is required, got nothing`);
    return value ?? '';
  };
  const pipeline = required('pipeline');
  const file = required('file');
  const maxBatchBytes = values['max-batch-bytes'] === undefined ? DEFAULT_MAX_BATCH_BYTES : Number(values['max-batch-bytes']);
  if (!/^[1-9][0-9]*$/.test(values['max-batch-bytes'] ?? '1') || !Number.isSafeInteger(maxBatchBytes)) {
    problems.push(`option '--max-batch-bytes' must be a whole number of bytes above 0, got '${values['max-batch-bytes']}'`);
  }
  if (values.env !== undefined && values.local !== true) problems.push(`option '--env' needs --local (it names the environment whose local plane to send to), got '--env ${values.env}'`);
  if (values.local === true && (values.bootstrap !== undefined || values.ca !== undefined)) problems.push("option '--local' takes the broker and CA of the local plane, so '--bootstrap' and '--ca' must not be given with it");
  if (problems.length > 0) throw new UsageError(problems, true);
  return {
    pipeline,
    file,
    maxBatchBytes,
    dryRun: values['dry-run'] === true,
    bootstrap: values.bootstrap ?? kafkaBootstrap(),
    ca: values.ca,
    local: values.local === true ? (values.env ?? 'dev') : undefined,
  };
}

function argumentProblem(error: Error & { code?: string }): string {
  const known = Object.keys(OPTIONS).map((name) => `--${name}`).join(', ');
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(error.message)?.[1] ?? error.message;
    if (/user|pass|secret|cred/i.test(option)) {
      return `option '${option}' is not accepted: credentials come only from the environment variables ${CREDENTIALS.join(' and ')}, never from arguments (they would land in shell history)`;
    }
    return `option '${option}' is not known: the options are ${known}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']+)'/.exec(error.message)?.[1] ?? error.message;
    return `argument '${argument}' is not expected: every value follows its option, such as --file ${argument}`;
  }
  return `${error.message.split('\n')[0]} (the options are ${known})`;
}

/** Finds the pipeline and checks that it reads a Kafka topic and that the file exists. */
async function recordSpec(name: string, file: string): Promise<RecordSpec> {
  const pipelines: Pipeline[] = await loadPipelines();
  const problems: string[] = [];
  const pipeline = pipelines.find((p) => p.name === name);
  const fromKafka = pipelines.filter((p) => p.source.type === 'kafka').map((p) => p.name);
  if (pipeline === undefined) {
    problems.push(`pipeline '${name}' is not known: '--pipeline' must be one of ${pipelines.map((p) => p.name).join(', ')}`);
  } else if (pipeline.source.type !== 'kafka') {
    problems.push(
      `pipeline '${name}' reads from ${pipeline.source.type} (bucket '${pipeline.source.bucket}', prefix '${pipeline.source.prefix}'), not from a Kafka topic: ` +
        `'--pipeline' must name a pipeline whose source is Kafka (${fromKafka.join(', ')})`,
    );
  }
  if (!existsSync(file)) problems.push(`file '${file}' does not exist: '--file' must be a CSV file with a header row`);
  else if (!statSync(file).isFile()) problems.push(`file '${file}' is not a regular file: '--file' must be a CSV file with a header row`);
  if (problems.length > 0 || pipeline === undefined || pipeline.source.type !== 'kafka') throw new UsageError(problems);
  return { pipeline: pipeline.name, topic: pipeline.source.topic, format: pipeline.source.format, fields: pipeline.schema.map((f) => f.name), file };
}

function connectOptions(bootstrap: string, caFile: string | undefined, env: Io['env']): ConnectOptions {
  const problems: string[] = [];
  const match = /^([^\s:]+|\[[0-9a-fA-F:.]+\]):([0-9]{1,5})$/.exec(bootstrap);
  if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    problems.push(`option '--bootstrap' must be host:port with a port from 1 to 65535, got '${bootstrap}'`);
  }
  let ca: string | undefined;
  if (caFile !== undefined) {
    if (!existsSync(caFile) || !statSync(caFile).isFile()) {
      problems.push(`file '${caFile}' does not exist: '--ca' must be a PEM file with the cluster CA certificate`);
    } else {
      ca = readFileSync(caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        problems.push(`file '${caFile}' holds no PEM certificate: '--ca' must be a PEM file with the cluster CA certificate (-----BEGIN CERTIFICATE-----)`);
      }
    }
  }
  const missing = CREDENTIALS.filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    problems.push(
      `environment variable${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} must be set to the SCRAM-SHA-512 credentials of a Kafka user ` +
        'that may write the topic (only the environment is read, never arguments); or pass --dry-run to connect to nothing',
    );
  }
  if (problems.length > 0) throw new UsageError(problems);
  return { bootstrap, ca, username: env.KAFKA_USERNAME ?? '', password: env.KAFKA_PASSWORD ?? '' };
}

/** The local plane's broker, CA and admin user, from its connection.json (see scripts/local/plane.ts). */
function localConnectOptions(env: string): ConnectOptions {
  const connection = readConnection(planeDir(env));
  if (connection === undefined) throw new UsageError([`the local plane of '${env}' is not running: start it with 'npm run local -- up --env ${env}'`]);
  return { bootstrap: connection.kafka.endpoint, ca: readFileSync(connection.kafka.caFile, 'utf8'), username: ADMIN_USER, password: connection.users.kafka[ADMIN_USER] ?? '' };
}

const planSuffix = (spec: RecordSpec, maxBatchBytes: number) =>
  `for topic '${spec.topic}' of pipeline '${spec.pipeline}' from ${spec.file} (at most ${maxBatchBytes} bytes each, ` +
  `counting ${BATCH_OVERHEAD_BYTES} per batch and key + value + ${RECORD_OVERHEAD_BYTES} per record)`;

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : noun.endsWith('h') ? 'es' : 's'}`;

const batchLine = (batch: Batch) => {
  const first = batch.records[0]?.row ?? 0;
  const last = batch.records[batch.records.length - 1]?.row ?? 0;
  return `batch ${batch.index}: ${batch.records.length} records, ${batch.bytes} bytes, rows ${first}-${last}`;
};

/** Reads the whole file once, batch by batch; prints every batch when asked. */
async function summarize(spec: RecordSpec, maxBatchBytes: number, io: Io, print: boolean): Promise<{ records: number; batches: number }> {
  let records = 0;
  let batches = 0;
  for await (const batch of readBatches(createReadStream(spec.file), spec, maxBatchBytes, io.err)) {
    records += batch.records.length;
    batches += 1;
    if (print) io.out(batchLine(batch));
  }
  return { records, batches };
}

async function send(spec: RecordSpec, maxBatchBytes: number, connection: ConnectOptions, io: Io): Promise<void> {
  const producer = await io.connect(connection);
  let sent: Batch | undefined;
  let records = 0;
  try {
    // Warnings were printed by the check before; the file is read a second time only to send it.
    for await (const batch of readBatches(createReadStream(spec.file), spec, maxBatchBytes, () => {})) {
      try {
        await producer.send(spec.topic, batch.records);
      } catch (error) {
        const done =
          sent === undefined
            ? 'no batch was acknowledged'
            : `batches 1-${sent.index} (rows 1-${sent.records[sent.records.length - 1]?.row}) were acknowledged, and running again sends them again`;
        throw new UsageError([`batch ${batch.index} to topic '${spec.topic}' at ${connection.bootstrap} failed: ${errorText(error)}; ${done}`]);
      }
      sent = batch;
      records += batch.records.length;
      io.out(`${batchLine(batch)}, sent`);
    }
  } finally {
    await producer.close().catch(() => undefined);
  }
  io.out(`sent ${count(records, 'record')} in ${count(sent?.index ?? 0, 'batch')} ${planSuffix(spec, maxBatchBytes)} to ${connection.bootstrap}`);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The client wraps network errors (often an AggregateError of them): name the innermost causes.
  const causes: string[] = [];
  const walk = (e: unknown, depth: number) => {
    if (depth > 5 || !(e instanceof Error)) return;
    const inner = [...(e instanceof AggregateError ? e.errors : []), ...(e.cause === undefined ? [] : [e.cause])];
    if (inner.length === 0) causes.push(e.message);
    for (const i of inner) walk(i, depth + 1);
  };
  walk(error, 0);
  const unique = [...new Set(causes)].filter((c) => c !== error.message);
  return unique.length === 0 ? error.message : `${error.message} (${unique.join('; ')})`;
}

/**
 * The records of a CSV stream in batches of at most `maxBatchBytes`, read as they are needed: only one batch
 * is held in memory. Throws UsageError for a missing header or column, or a record that fits no batch.
 */
export async function* readBatches(input: Readable, spec: RecordSpec, maxBatchBytes: number, warn: (line: string) => void): AsyncGenerator<Batch> {
  let records: SourceRecord[] = [];
  let bytes = BATCH_OVERHEAD_BYTES;
  let index = 0;
  for await (const record of readRecords(input, spec, warn)) {
    const size = Buffer.byteLength(record.key) + Buffer.byteLength(record.value) + RECORD_OVERHEAD_BYTES;
    if (BATCH_OVERHEAD_BYTES + size > maxBatchBytes) {
      throw new UsageError([
        `${spec.file}: row ${record.row} takes ${BATCH_OVERHEAD_BYTES + size} bytes as a batch of its own (key + value + ${RECORD_OVERHEAD_BYTES} per record ` +
          `+ ${BATCH_OVERHEAD_BYTES} per batch): every record must fit into '--max-batch-bytes' ${maxBatchBytes}`,
      ]);
    }
    if (bytes + size > maxBatchBytes) {
      index += 1;
      yield { index, records, bytes };
      records = [];
      bytes = BATCH_OVERHEAD_BYTES;
    }
    records.push(record);
    bytes += size;
  }
  if (records.length > 0) yield { index: index + 1, records, bytes };
}

/** One record per non-blank line after the header. */
export async function* readRecords(input: Readable, spec: RecordSpec, warn: (line: string) => void): AsyncGenerator<SourceRecord> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let columns: { readonly width: number; readonly positions: ReadonlyMap<string, number> } | undefined;
  let row = 0;
  const odd = { short: 0, long: 0, firstShort: 0, firstLong: 0 };
  try {
    for await (const raw of lines) {
      const line = columns === undefined ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      if (columns === undefined) {
        columns = headerColumns(splitCsvLine(line), spec, warn);
        continue;
      }
      row += 1;
      const values = splitCsvLine(line);
      if (values.length < columns.width) {
        if (odd.short++ === 0) odd.firstShort = row;
      } else if (values.length > columns.width) {
        if (odd.long++ === 0) odd.firstLong = row;
      }
      const field = (name: string): string | undefined => values[columns?.positions.get(name) ?? -1];
      const key = field(spec.fields[0] ?? '') ?? '';
      if (spec.format === 'csv') {
        yield { row, key, value: line };
      } else {
        // Fields are kept as text, in schema order; a field the row lacks is left out (the runtime sees null).
        const object: Record<string, string> = {};
        for (const name of spec.fields) {
          const value = field(name);
          if (value !== undefined) object[name] = value;
        }
        yield { row, key, value: JSON.stringify(object) };
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (columns === undefined) {
    throw new UsageError([`${spec.file}: has no header row: the first line must name the columns of pipeline '${spec.pipeline}' (${spec.fields.join(', ')})`]);
  }
  if (odd.short > 0) {
    warn(`produce: warning: ${spec.file}: ${count(odd.short, 'row')} ${odd.short === 1 ? 'has' : 'have'} fewer columns than the header (first: row ${odd.firstShort}); their missing fields are left out of the records`);
  }
  if (odd.long > 0) {
    warn(`produce: warning: ${spec.file}: ${count(odd.long, 'row')} ${odd.long === 1 ? 'has' : 'have'} more columns than the header (first: row ${odd.firstLong}); the extra values are ignored`);
  }
}

/** Where each schema field is in a row; every field must be a column. */
function headerColumns(header: readonly string[], spec: RecordSpec, warn: (line: string) => void): { width: number; positions: Map<string, number> } {
  const names = header.map((name) => name.trim());
  const problems: string[] = [];
  for (const [position, name] of names.entries()) {
    if (names.indexOf(name) !== position) problems.push(`${spec.file}: column '${name}' appears more than once in the header: each column must be named once`);
  }
  for (const field of spec.fields) {
    if (!names.includes(field)) {
      problems.push(`${spec.file}: column '${field}' is missing from the header: pipeline '${spec.pipeline}' needs the columns ${spec.fields.join(', ')}`);
    }
  }
  if (problems.length === 0 && spec.format === 'csv' && names.join(',') !== spec.fields.join(',')) {
    // The raw line is the record, and the runtime reads CSV records by position.
    problems.push(
      `${spec.file}: the header must be exactly ${spec.fields.join(',')} for pipeline '${spec.pipeline}', which reads CSV records by position, got ${names.join(',')}`,
    );
  }
  if (problems.length > 0) throw new UsageError(problems);
  const extra = names.filter((name) => !spec.fields.includes(name));
  if (extra.length > 0) {
    warn(`produce: warning: ${spec.file}: column${extra.length > 1 ? 's' : ''} '${extra.join("', '")}' ${extra.length > 1 ? 'are' : 'is'} not in the schema of pipeline '${spec.pipeline}' and ignored`);
  }
  return { width: names.length, positions: new Map(spec.fields.map((field) => [field, names.indexOf(field)])) };
}

/**
 * Splits one CSV line (RFC 4180 within a line: quoted fields may hold commas and doubled quotes, not line
 * breaks). Lenient on purpose: an unterminated quote runs to the end of the line, so a broken row still becomes
 * a record and reaches the runtime's dead-letter path.
 */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    let value = '';
    if (line[at] === '"') {
      at += 1;
      for (;;) {
        const quote = line.indexOf('"', at);
        if (quote === -1) {
          value += line.slice(at);
          at = line.length;
          break;
        }
        value += line.slice(at, quote);
        at = quote + 1;
        if (line[at] !== '"') break;
        value += '"';
        at += 1;
      }
    }
    const comma = line.indexOf(',', at);
    if (comma === -1) {
      fields.push(value + line.slice(at));
      return fields;
    }
    fields.push(value + line.slice(at, comma));
    at = comma + 1;
  }
}

/**
 * The partition hash of Kafka's Java client (`Utils.toPositive(Utils.murmur2(keyBytes))`, which the client takes
 * modulo the partition count): murmur2 over the key's UTF-8 bytes with the sign bit cleared. 1.22 has the hash but
 * not the partitioner that uses it. The same key then lands
 * in the same partition as with Kafka's own tools.
 */
export function kafkaKeyHash(key: string): number {
  // The library's own murmur2 (the Java client's, signed); loaded here, as for a connection, never by a dry run.
  const { murmur2 } = require('@platformatic/kafka') as typeof import('@platformatic/kafka');
  return murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff;
}

/**
 * The real client: @platformatic/kafka 1.22.0, loaded only when a connection is made (dry runs never load it).
 * Why this client: it is maintained, pure JavaScript (CRC32C in JavaScript, or from the optional prebuilt
 * @node-rs/crc32 of the registry; nothing is compiled or fetched by a script) and speaks SCRAM-SHA-512 over TLS.
 * Why 1.22.0: the 2.x line needs Node >= 22.22, and every 1.x release from 1.27 on depends on
 * @platformatic/wasm-utils and @platformatic/dynamic-buffer, whose every version declares Node >= 22.19 (npm warned
 * EBADENGINE on Node 20). 1.22.0 is the newest release without them that the registry serves (1.23 to 1.26, also
 * without them, are not served).
 * Two fixes that came later are made here: the Java client's partitioner (1.32: kafkaKeyHash) and bounded retries
 * for an idempotent producer (1.32: before, `idempotent` in the constructor turns `retries` into "forever", so it is
 * asked for in each send, with the one request in flight and acks=all that the constructor would have set).
 * Once Node 20 is dropped, move to 2.x and its `compatibilityPartitioner`.
 * kafkajs (latest 2.2.4) is unmaintained, and @confluentinc/kafka-javascript wraps native librdkafka.
 */
export const connectPlatformatic: Connect = async (options) => {
  const kafka = await import('@platformatic/kafka');
  const host = options.bootstrap.replace(/:[0-9]+$/, '').replace(/^\[(.*)\]$/, '$1');
  const producer = new kafka.Producer({
    clientId: 'driftless-produce',
    bootstrapBrokers: [options.bootstrap],
    // The cluster has only a TLS listener with SCRAM-SHA-512 (k8s/charts/kafka-chart.ts).
    tls: options.ca === undefined ? {} : { ca: options.ca },
    // SNI with the host name; an IP address is no valid SNI name.
    tlsServerName: isIP(host) === 0,
    sasl: { mechanism: kafka.SASLMechanisms.SCRAM_SHA_512, username: options.username, password: options.password },
    // What an idempotent producer needs besides its producer ID and sequence numbers (asked for in send below).
    maxInflights: 1,
    acks: kafka.ProduceAcks.ALL,
    // A failing cluster ends the run after a few attempts instead of retrying forever.
    retries: 5,
    autocreateTopics: false,
    partitioner: (message) => kafkaKeyHash(message.key ?? ''),
    serializers: kafka.stringSerializers,
  });
  return {
    async send(topic, records) {
      // Idempotent: a retried request is not written twice. Each send resolves only once every in-sync replica has it.
      await producer.send({
        messages: records.map(({ key, value }) => ({ topic, key, value })),
        idempotent: true,
        acks: kafka.ProduceAcks.ALL,
        autocreateTopics: false,
      });
    },
    close: () => producer.close(),
  };
};

if (typeof require !== 'undefined' && require.main === module) {
  main(process.argv.slice(2), {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    connect: connectPlatformatic,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Anything that is not the user's mistake is a bug: show where.
      process.stderr.write(`produce: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
