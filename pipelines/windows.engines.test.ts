/**
 * Event-time windows on a real Spark stream: the runtime's windowed outputs (runtime/replay.py: a file source and a
 * collector in place of Kafka, everything between them the runtime's) count a record at most `watermarkMinutes`
 * behind the latest event time of earlier micro-batches and drop a later one, write each window once, key every
 * summary and dead letter, and send the same keys and values again when a killed driver replays a micro-batch.
 * The edge-case pipeline runtime/fixtures/edge-json is the subject (one-minute windows, a reference table).
 *
 *   DRIFTLESS_PYTHON=<python with pyspark> npx vitest run pipelines/windows.engines.test.ts --config vitest.engines.config.mts
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnvironments } from '../scripts/fixtures/environments';
import { RUNTIME_FOLDER } from './job-code';
import { jobSpec } from './job-spec';
import { loadPipelines, PIPELINES_DIR } from './load';

const PYTHON = process.env.DRIFTLESS_PYTHON;
if (!PYTHON) {
  throw new Error(
    'DRIFTLESS_PYTHON is not set: the event-time window tests run Spark through a Python that has pyspark installed ' +
      '(the version of the pipeline image), e.g. DRIFTLESS_PYTHON=/path/to/venv/bin/python; Java 17 or later must be on the PATH',
  );
}

const RUNTIME_DIR = join(PIPELINES_DIR, RUNTIME_FOLDER);
const EDGE_DIR = join(RUNTIME_DIR, 'fixtures');
const pipeline = (await loadPipelines(EDGE_DIR, [], RUNTIME_DIR)).find((p) => p.name === 'edge-json')!;
const window = pipeline.window!;
if (window.unit !== 'minute' || pipeline.sink.type !== 'kafka') throw new Error('edge-json must keep one-minute windows and a Kafka sink for these tests');

const MINUTE = 60_000;
const DELAY = window.watermarkMinutes * MINUTE;
const T = Date.parse('2024-05-01T10:10:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const order = (id: string, at: number, shop = 's1') => JSON.stringify({ id, seen_at: iso(at), shop });

/**
 * One micro-batch each: the latest event time M is T after the first; then records just under, exactly at and just
 * over watermarkMinutes behind it; then M moves one minute on, which makes the window of the first of them final;
 * then a record for that window arrives too late; then M jumps ahead, with an unparseable record and an order of an
 * unknown shop for the dead letters.
 */
const BATCHES = [
  [order('a', T)],
  [order('within', T - DELAY + 1), order('exactly', T - DELAY), order('beyond', T - DELAY - 1)],
  [order('next', T + MINUTE)],
  [order('too-late', T - DELAY + MINUTE - 1000)],
  [order('ahead', T + 10 * MINUTE), '{"id":"broken",', order('stranger', T + 10 * MINUTE, 's0')],
];

/** The summaries the rule gives: a window per record that counts, once its end is at most M - watermarkMinutes. */
const EXPECTED = [
  { window_start: T - DELAY, orders: 1, note: "'within' counts; 'exactly' and 'too-late' (same window) do not" },
  { window_start: T, orders: 1, note: "'a'" },
  { window_start: T + MINUTE, orders: 1, note: "'next'" },
];

interface Message {
  readonly batch: number;
  readonly key: string | null;
  readonly value: string;
}
interface Written {
  readonly sink: Message[];
  readonly dead_letters: Message[];
  readonly watermarks: Array<string | null>;
}

const scratch = mkdtempSync(join(tmpdir(), 'driftless-windows-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function replay(extra: string[]): Promise<Written> {
  const spec = jobSpec(fixtureEnvironments()[0]!, pipeline);
  const job = { ...spec, codeUri: join(EDGE_DIR, pipeline.name), references: spec.references.map((r) => ({ ...r, uri: join(EDGE_DIR, pipeline.name, 'fixtures', `${r.as}.csv`) })) };
  writeFileSync(join(scratch, 'job.json'), JSON.stringify(job));
  writeFileSync(join(scratch, 'batches.json'), JSON.stringify(BATCHES));
  const { stdout } = await promisify(execFile)(PYTHON!, [join(RUNTIME_DIR, 'replay.py'), '--job', join(scratch, 'job.json'), '--batches', join(scratch, 'batches.json'), ...extra], {
    cwd: scratch,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', SPARK_LOCAL_DIRS: scratch },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`runtime/replay.py failed with ${PYTHON}: ${(error.stderr ?? '').trim().split('\n').slice(-15).join('\n') || error.message}`);
  });
  return JSON.parse(stdout) as Written;
}

let once: Written;
let replayed: Written;
beforeAll(async () => {
  once = await replay([]);
  replayed = await replay(['--replay']);
}, 600_000);

const summary = (m: Message) => {
  const value = JSON.parse(m.value) as { window_start: string; region: string; orders: number };
  return { window_start: Date.parse(value.window_start), region: value.region, orders: value.orders };
};

describe('event-time windows on Spark', () => {
  it('counts a record less than watermarkMinutes behind the latest event time, drops one at or beyond it, and writes each window once', () => {
    expect(once.sink.map(summary).sort((a, b) => a.window_start - b.window_start)).toEqual(
      EXPECTED.map(({ window_start, orders }) => ({ window_start, region: 'North', orders })),
    );
  });

  it('keys each summary by the JSON of the sink key columns', () => {
    const key = (pipeline.sink as { key: string[] }).key;
    for (const message of once.sink) {
      const value = JSON.parse(message.value) as Record<string, unknown>;
      expect(message.key).toBe(JSON.stringify(Object.fromEntries(key.map((column) => [column, value[column]]))));
    }
  });

  it('sends the same keys and values again when a micro-batch is replayed, so that one value per key remains', () => {
    const first = new Map(replayed.sink.slice(0, once.sink.length).map((m) => [m.key, m.value]));
    const again = replayed.sink.slice(once.sink.length);
    expect(again.length).toBeGreaterThan(0);
    for (const message of again) expect(message.value).toBe(first.get(message.key));
    const table = new Map(replayed.sink.map((m) => [m.key, m.value]));
    expect([...table.values()].map((v) => summary({ batch: 0, key: null, value: v })).sort((a, b) => a.window_start - b.window_start)).toEqual(
      once.sink.map(summary).sort((a, b) => a.window_start - b.window_start),
    );
  });

  it("keys dead letters by the record's place in the source, or by step and row, the same when sent again", () => {
    const keyed = (messages: Message[]) => messages.map((m) => [m.key, (JSON.parse(m.value) as { reject_reason: string }).reject_reason]).sort();
    expect(keyed(once.dead_letters)).toEqual([
      ['batch-4-1', 'unparseable JSON'],
      [expect.stringMatching(/^enrich-[0-9a-f]{64}$/), 'unknown shop s0'],
    ]);
    // The replayed micro-batch keeps its time (Spark records it with the offsets), so rejected_at is the same too.
    const first = new Map(replayed.dead_letters.slice(0, once.dead_letters.length).map((m) => [m.key, m.value]));
    const again = replayed.dead_letters.slice(once.dead_letters.length);
    expect(keyed(again)).toEqual(keyed(once.dead_letters));
    for (const message of again) expect(message.value).toBe(first.get(message.key));
  });
});

