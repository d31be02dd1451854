import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBootstrap } from '../environments/naming';
import {
  BATCH_OVERHEAD_BYTES,
  DEFAULT_MAX_BATCH_BYTES,
  kafkaKeyHash,
  readBatches,
  readRecords,
  RECORD_OVERHEAD_BYTES,
  type ConnectOptions,
  type KafkaRecord,
  type RecordSpec,
  type SourceRecord,
} from './produce';
import { fixtureProject } from './test-projects';

// The script runs in a copy of the project with the fixture pipelines (clicks, ledger, readings): `readings` reads
// JSON records from the Kafka topic sensor-readings, `ledger` reads S3. The CSV fixtures are for `readings`.
const ROOT = join(__dirname, '..');
const FIXTURE = 'scripts/fixtures/readings.csv';
const READINGS: RecordSpec = { pipeline: 'readings', topic: 'sensor-readings', format: 'json', fields: ['sensor', 'read_at', 'reading'], file: FIXTURE };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-produce-test-'));
const project = join(scratch, 'project');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The copy's own produce module, which finds the copy's pipelines: `main` runs in this process. */
let main: typeof import('./produce').main;
beforeAll(async () => {
  fixtureProject(project);
  ({ main } = (await import(join(project, 'scripts', 'produce.ts'))) as typeof import('./produce'));
}, 60_000);

// The environment of every run: never credentials from the machine running the tests.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KAFKA_')));
const CREDENTIALS = { KAFKA_USERNAME: 'producer', KAFKA_PASSWORD: 's3cret' };

/** Runs the script as `npm run produce` does, in the copy. */
function produce(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/produce.ts', ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...baseEnv, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking this process (for tests that serve the client from here). */
function produceAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/produce.ts', ...args], { cwd: project, env: { ...baseEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface BatchLine {
  index: number;
  records: number;
  bytes: number;
  first: number;
  last: number;
}

function batchLines(stdout: string): BatchLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('batch '))
    .map((line) => {
      const match = /^batch (\d+): (\d+) records?, (\d+) bytes, rows (\d+)-(\d+)(, sent)?$/.exec(line);
      if (match === null) throw new Error(`not a batch line: ${line}`);
      const [index, records, bytes, first, last] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
      return { index, records, bytes, first, last };
    });
}

/** Checks that the batches number 1..n and cover rows 1..rows exactly once, in order. */
function expectEveryRowOnceInOrder(batches: readonly BatchLine[], rows: number) {
  expect(batches.map((b) => b.index)).toEqual(batches.map((_, i) => i + 1));
  let next = 1;
  for (const batch of batches) {
    expect(batch.first).toBe(next);
    expect(batch.last - batch.first + 1).toBe(batch.records);
    next = batch.last + 1;
  }
  expect(next - 1).toBe(rows);
}

/** Data rows of a CSV file as this test counts them: non-blank lines after the header. */
const dataRows = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n').slice(1).filter((line) => line.trim() !== '').length;

const recordBytes = (r: KafkaRecord) => Buffer.byteLength(r.key) + Buffer.byteLength(r.value) + RECORD_OVERHEAD_BYTES;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const fixtureRecords = (spec: RecordSpec = READINGS, warn: (line: string) => void = () => {}) =>
  collect(readRecords(Readable.from([readFileSync(join(ROOT, spec.file), 'utf8')]), spec, warn));

/** Runs `main` in this process with a fake client that records every request. */
async function produceToFake(args: string[], env: Record<string, string> = CREDENTIALS, failOn?: number) {
  const requests: Array<{ topic: string; records: KafkaRecord[] }> = [];
  const connections: ConnectOptions[] = [];
  const out: string[] = [];
  const err: string[] = [];
  let closed = false;
  const code = await main(args, {
    env,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    connect: async (options) => {
      connections.push(options);
      return {
        async send(topic, records) {
          if (requests.length + 1 === failOn) throw new Error('NOT_ENOUGH_REPLICAS', { cause: new Error('in-sync replicas below min.insync.replicas') });
          requests.push({ topic, records: records.map(({ key, value }) => ({ key, value })) });
        },
        async close() {
          closed = true;
        },
      };
    },
  });
  return { code, requests, connections, out: out.join('\n'), err: err.join('\n'), closed };
}

describe('npm run produce --dry-run', () => {
  it('puts every row of the fixture into batches within 1 MiB, once and in order', () => {
    const result = produce(['--pipeline', 'readings', '--file', FIXTURE, '--dry-run']);
    expect(result.status).toBe(0);
    const batches = batchLines(result.stdout);
    expect(batches.length).toBe(1);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(DEFAULT_MAX_BATCH_BYTES);
    expectEveryRowOnceInOrder(batches, dataRows(FIXTURE));
    expect(result.stdout).toMatch(new RegExp(`^dry run: ${dataRows(FIXTURE)} records in 1 batch for topic 'sensor-readings' of pipeline 'readings'.*nothing was sent$`, 'm'));
  });

  it('reports the bytes that the records take: batch header plus key + value + overhead per record', async () => {
    const result = produce(['--pipeline', 'readings', '--file', FIXTURE, '--dry-run']);
    const records = await fixtureRecords();
    expect(batchLines(result.stdout)[0]?.bytes).toBe(BATCH_OVERHEAD_BYTES + records.reduce((sum, r) => sum + recordBytes(r), 0));
  });

  it('splits into several full batches under a small --max-batch-bytes', async () => {
    const limit = 400;
    const result = produce(['--pipeline', 'readings', '--file', FIXTURE, '--dry-run', '--max-batch-bytes', String(limit)]);
    expect(result.status).toBe(0);
    const batches = batchLines(result.stdout);
    expect(batches.length).toBeGreaterThan(5);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(limit);
    expectEveryRowOnceInOrder(batches, dataRows(FIXTURE));
    // Greedy: a batch closes only when the next row would not have fitted.
    const records = await fixtureRecords();
    for (const [i, batch] of batches.slice(0, -1).entries()) {
      const next = records[(batches[i + 1]?.first ?? 0) - 1];
      expect(next).toBeDefined();
      expect(batch.bytes + recordBytes(next as SourceRecord)).toBeGreaterThan(limit);
    }
  });

  it('streams 200,000 rows in batches within the limit and counts every row', { timeout: 60_000 }, () => {
    const rows = 200_000;
    const file = join(scratch, 'large.csv');
    const lines = ['sensor,read_at,reading'];
    for (let i = 0; i < rows; i += 1) lines.push(`sensor-${i % 97},2024-01-01T${String(i % 24).padStart(2, '0')}:00:00Z,${((i % 700) / 10 - 30).toFixed(1)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = produce(['--pipeline', 'readings', '--file', file, '--dry-run']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const batches = batchLines(result.stdout);
    expect(batches.length).toBeGreaterThan(5);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(DEFAULT_MAX_BATCH_BYTES);
    expectEveryRowOnceInOrder(batches, rows);
    expect(result.stdout).toContain(`dry run: ${rows} records in ${batches.length} batches`);
  });

  it('reads the input only as far as the batch it yields', async () => {
    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        yield 'sensor,read_at,reading\n';
        for (;;) {
          pulled += 1;
          yield `s-${pulled % 5},2024-01-01T00:00:00Z,${pulled % 40}\n`;
        }
      })(),
    );
    const batches = readBatches(endless, { ...READINGS, file: 'endless' }, 10_000, () => {});
    const first = await batches.next();
    await batches.return(undefined);
    expect(first.done).toBe(false);
    const batch = first.value as { records: SourceRecord[]; bytes: number };
    expect(batch.records.length).toBeGreaterThan(50);
    expect(batch.bytes).toBeLessThanOrEqual(10_000);
    expect(pulled).toBeLessThan(20_000);
  });
});

describe('records', () => {
  it('keys each record by the first schema field and keeps every value as the CSV text, bad values included', async () => {
    const records = await fixtureRecords();
    const byRow = (row: number) => records.find((r) => r.row === row);
    expect(byRow(1)).toEqual({ row: 1, key: 'hall-a', value: '{"sensor":"hall-a","read_at":"2024-01-01T00:00:00Z","reading":"-4.2"}' });
    expect(JSON.parse(byRow(7)?.value ?? '')).toEqual({ sensor: 'hall-a', read_at: '2024-01-01T02:00:00Z', reading: 'abc' });
    expect(JSON.parse(byRow(8)?.value ?? '')).toEqual({ sensor: 'hall-b', read_at: '2024-01-01T02:00:00Z', reading: '' });
    expect(JSON.parse(byRow(9)?.value ?? '').reading).toBe('999');
    expect(JSON.parse(byRow(10)?.value ?? '').read_at).toBe('not-a-date');
    expect(byRow(11)?.key).toBe('');
    expect(byRow(12)?.key).toBe('mast "north", roof');
    // A short row loses its missing field: the runtime sees null and rejects the record.
    expect(JSON.parse(byRow(13)?.value ?? '')).toEqual({ sensor: 'hall-b', read_at: '2024-01-01T03:00:00Z' });
    expect(JSON.parse(byRow(18)?.value ?? '').reading).toBe(' -5.3 ');
    expect(byRow(24)).toEqual({ row: 24, key: 'kjølerom', value: '{"sensor":"kjølerom","read_at":"2024-01-01T06:00:00Z","reading":"-8.0"}' });
    for (const record of records) {
      const value = JSON.parse(record.value) as Record<string, string>;
      expect(record.key).toBe(value.sensor);
      expect(Object.keys(value)).toEqual(READINGS.fields.filter((f) => f in value));
    }
  });

  it('maps columns by name and ignores extra columns with a warning', async () => {
    const warnings: string[] = [];
    const records = await fixtureRecords({ ...READINGS, file: 'scripts/fixtures/readings-extra-column.csv' }, (line) => warnings.push(line));
    expect(records).toEqual([
      { row: 1, key: 'hall-a', value: '{"sensor":"hall-a","read_at":"2024-01-01T00:00:00Z","reading":"-4.2"}' },
      { row: 2, key: 'hall-b', value: '{"sensor":"hall-b","read_at":"2024-01-01T00:00:00Z","reading":"3.1"}' },
    ]);
    expect(warnings).toEqual([expect.stringContaining("column 'probe' is not in the schema of pipeline 'readings' and ignored")]);
  });

  it("sends the raw line for a pipeline whose source format is 'csv'", async () => {
    const records = await fixtureRecords({ ...READINGS, format: 'csv' });
    const lines = readFileSync(join(ROOT, FIXTURE), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
    expect(records.map((r) => r.value)).toEqual(lines);
    expect(records[11]?.key).toBe('mast "north", roof');
  });

  it("refuses a header in another order when the source format is 'csv', which the runtime reads by position", async () => {
    await expect(fixtureRecords({ ...READINGS, format: 'csv', file: 'scripts/fixtures/readings-extra-column.csv' })).rejects.toThrow(
      'the header must be exactly sensor,read_at,reading',
    );
  });
});

describe('partitioning', () => {
  it("hashes a key as Kafka's Java client does, so a key lands in the partition Kafka's own tools pick", () => {
    // Utils.murmur2 expectations from Kafka's UtilsTest, made positive as the client does (Utils.toPositive).
    const java: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, murmur2] of java) expect(kafkaKeyHash(key)).toBe(murmur2 & 0x7fffffff);
  });

  it('agrees with the murmur2 of @platformatic/kafka on keys of every length modulo 4, UTF-8 and the fixture keys', async () => {
    const { murmur2 } = await import('@platformatic/kafka');
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'tromsø', 'ørland-værnes ✈', ...new Set((await fixtureRecords()).map((r) => r.key))];
    for (const key of keys) expect([key, kafkaKeyHash(key)]).toEqual([key, murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff]);
    expect(keys.every((key) => kafkaKeyHash(key) >= 0)).toBe(true);
  });
});

describe('npm run produce (real mode)', () => {
  it('sends exactly the dry-run batches to the source topic, one request each', async () => {
    const limit = 400;
    const dryRun = batchLines(produce(['--pipeline', 'readings', '--file', FIXTURE, '--dry-run', '--max-batch-bytes', String(limit)]).stdout);
    const result = await produceToFake(['--pipeline', 'readings', '--file', FIXTURE, '--max-batch-bytes', String(limit)]);
    expect(result.err).toContain('1 row has fewer columns than the header');
    expect(result.code).toBe(0);
    expect(result.requests.map((r) => r.topic)).toEqual(dryRun.map(() => 'sensor-readings'));
    expect(result.requests.map((r) => r.records.length)).toEqual(dryRun.map((b) => b.records));
    expect(result.requests.map((r) => BATCH_OVERHEAD_BYTES + r.records.reduce((sum, rec) => sum + recordBytes(rec), 0))).toEqual(dryRun.map((b) => b.bytes));
    const expected = (await fixtureRecords()).map(({ key, value }) => ({ key, value }));
    expect(result.requests.flatMap((r) => r.records)).toEqual(expected);
    expect(batchLines(result.out)).toEqual(dryRun);
    expect(result.closed).toBe(true);
  });

  it('connects to the in-cluster bootstrap with the credentials from the environment and the CA from --ca', async () => {
    const ca = join(scratch, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const result = await produceToFake(['--pipeline', 'readings', '--file', FIXTURE, '--ca', ca]);
    expect(result.code).toBe(0);
    expect(result.connections).toEqual([{ bootstrap: kafkaBootstrap(), ca: readFileSync(ca, 'utf8'), username: 'producer', password: 's3cret' }]);
    const other = await produceToFake(['--pipeline', 'readings', '--file', FIXTURE, '--bootstrap', 'kafka.trial.example:9093']);
    expect(other.connections).toEqual([{ bootstrap: 'kafka.trial.example:9093', ca: undefined, username: 'producer', password: 's3cret' }]);
  });

  it('stops at a failed batch and says which batches were acknowledged', async () => {
    const result = await produceToFake(['--pipeline', 'readings', '--file', FIXTURE, '--max-batch-bytes', '400'], CREDENTIALS, 3);
    expect(result.code).toBe(1);
    expect(result.requests.length).toBe(2);
    expect(result.err).toMatch(/batch 3 to topic 'sensor-readings' at .* failed: NOT_ENOUGH_REPLICAS \(in-sync replicas below min.insync.replicas\); batches 1-2 \(rows 1-6\) were acknowledged/);
    expect(result.closed).toBe(true);
  });

  describe('with the real client against a local TLS endpoint', () => {
    const certs = join(scratch, 'tls');
    let port = 0;
    const seen: Array<{ servername: string | false; bytes: Buffer }> = [];
    const server = createServer({}, (socket: TLSSocket) => {
      const entry = { servername: socket.servername ?? false, bytes: Buffer.alloc(0) };
      seen.push(entry);
      socket.on('data', (chunk: Buffer) => {
        entry.bytes = Buffer.concat([entry.bytes, chunk]);
        socket.destroy();
      });
      socket.on('error', () => {});
    });
    server.on('tlsClientError', () => {});

    beforeAll(async () => {
      execFileSync('mkdir', ['-p', certs]);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')], { stdio: 'ignore' });
      server.setSecureContext({ key: readFileSync(join(certs, 'key.pem')), cert: readFileSync(join(certs, 'cert.pem')) });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('opens TLS verified against --ca and asks for SCRAM-SHA-512 first', { timeout: 60_000 }, async () => {
      seen.length = 0;
      const result = await produceAsync(['--pipeline', 'readings', '--file', FIXTURE, '--bootstrap', `localhost:${port}`, '--ca', join(certs, 'cert.pem')], CREDENTIALS);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^produce: batch 1 to topic 'sensor-readings' at localhost:${port} failed: .*; no batch was acknowledged$`, 'm'));
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]?.servername).toBe('localhost');
      // The first request after the handshake is SaslHandshake naming the mechanism; nothing travels in the clear.
      expect(seen[0]?.bytes.toString('latin1')).toContain('SCRAM-SHA-512');
      expect(seen[0]?.bytes.toString('latin1')).not.toContain('s3cret');
    });

    it('sends nothing to a broker whose certificate the CA did not sign', { timeout: 60_000 }, async () => {
      seen.length = 0;
      const result = await produceAsync(['--pipeline', 'readings', '--file', FIXTURE, '--bootstrap', `localhost:${port}`], CREDENTIALS);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/failed: .*(self[- ]signed|certificate)/i);
      expect(seen.filter((s) => s.bytes.length > 0)).toEqual([]);
    });
  });
});

describe('npm run produce errors', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['an unknown option', ['--pipeline', 'readings', '--file', FIXTURE, '--dry-run', '--topic', 'x'], {}, /^produce: option '--topic' is not known: the options are --pipeline, --file, /m],
    ['a password on the command line', ['--pipeline', 'readings', '--file', FIXTURE, '--password', 'x'], CREDENTIALS, /^produce: option '--password' is not accepted: credentials come only from the environment variables KAFKA_USERNAME and KAFKA_PASSWORD/m],
    ['an unknown pipeline', ['--pipeline', 'humidity', '--file', FIXTURE, '--dry-run'], {}, /^produce: pipeline 'humidity' is not known: '--pipeline' must be one of clicks, ledger, readings$/m],
    ['a missing file', ['--pipeline', 'readings', '--file', 'scripts/fixtures/nothing-here.csv', '--dry-run'], {}, /^produce: file 'scripts\/fixtures\/nothing-here.csv' does not exist: '--file' must be a CSV file with a header row$/m],
    ['a pipeline that does not read Kafka', ['--pipeline', 'ledger', '--file', FIXTURE, '--dry-run'], {}, /^produce: pipeline 'ledger' reads from s3 \(bucket 'raw', prefix 'ledger\/'\), not from a Kafka topic: '--pipeline' must name a pipeline whose source is Kafka \(clicks, readings\)$/m],
    ['missing credentials in real mode', ['--pipeline', 'readings', '--file', FIXTURE], {}, /^produce: environment variables KAFKA_USERNAME and KAFKA_PASSWORD must be set/m],
    ['a missing password in real mode', ['--pipeline', 'readings', '--file', FIXTURE], { KAFKA_USERNAME: 'producer' }, /^produce: environment variable KAFKA_PASSWORD must be set/m],
    ['a missing column', ['--pipeline', 'readings', '--file', 'scripts/fixtures/readings-missing-column.csv', '--dry-run'], {}, /^produce: scripts\/fixtures\/readings-missing-column.csv: column 'reading' is missing from the header: pipeline 'readings' needs the columns sensor, read_at, reading$/m],
    ['a record larger than the batch limit', ['--pipeline', 'readings', '--file', FIXTURE, '--dry-run', '--max-batch-bytes', '150'], {}, /^produce: scripts\/fixtures\/readings.csv: row 1 takes 168 bytes as a batch of its own .*every record must fit into '--max-batch-bytes' 150$/m],
    ['a limit that is no number', ['--pipeline', 'readings', '--file', FIXTURE, '--dry-run', '--max-batch-bytes', '1MB'], {}, /^produce: option '--max-batch-bytes' must be a whole number of bytes above 0, got '1MB'$/m],
  ];
  it.each(cases)('exits 1 and says why for %s', (_, args, env, message) => {
    const result = produce(args, env);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
  });
});
