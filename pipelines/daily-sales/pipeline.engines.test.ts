/**
 * daily-sales on the real engines: the day's CSV in the raw bucket of the S3 emulator, the runtime on Spark as its
 * ScheduledSparkApplication describes it, Parquet in the curated bucket and the bad rows under the errors prefix.
 * The expectations are worked out by hand from the fixture, as in logic.test.ts.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketName } from '../../environments/naming';
import { dataKeyArn } from '../../scripts/local/s3';
import { deletePrefix, enginePlane, listObjects, pipelineOfFolder, putObject, queryRows, runBatch, s3, type EnginePlane } from '../../scripts/local/engines-testing';
import type { LoadedPipeline } from '../load';
import { FIXTURE_REJECTS } from './expected';

let plane: EnginePlane;
let pipeline: LoadedPipeline;

/** The source's bucket purpose and key of the day's file, from the spec (`sales/` + `sales_{yyyymmdd}.csv`). */
function sourceKey(day: string): { purpose: 'raw' | 'curated'; key: string } {
  const source = pipeline.source;
  if (source.type !== 's3') throw new Error('daily-sales reads a file from S3');
  return { purpose: source.bucket, key: `${source.prefix}${(source.file ?? '').replace('{yyyymmdd}', day.replaceAll('-', ''))}` };
}

const sinkPrefix = () => (pipeline.sink.type === 's3' ? pipeline.sink.prefix : '');
const rejectsPrefix = () => (pipeline.rejects.type === 's3' ? pipeline.rejects.prefix : '');
const header = 'transaction_id,store_id,sale_date,amount';

async function runDay(day: string, lines: readonly string[]): Promise<void> {
  const { purpose, key } = sourceKey(day);
  await putObject(plane, purpose, key, `${lines.join('\n')}\n`);
  await runBatch(plane, pipeline, day);
}

const rowsOf = async (day: string) => (await queryRows(plane, pipeline)).filter((row) => row['sale_date'] === day);

beforeAll(async () => {
  plane = await enginePlane();
  pipeline = pipelineOfFolder(plane, __filename);
  await deletePrefix(plane, 'curated', sinkPrefix());
  await deletePrefix(plane, 'curated', rejectsPrefix());
});

describe(`daily-sales on Spark, S3 (moto)`, () => {
  it("writes the day's totals as Parquet and every bad row with its reason to the errors prefix", async () => {
    const fixture = readFileSync(join(__dirname, 'fixtures', 'sales_20240501.csv'), 'utf8').trimEnd().split('\n');
    await runDay('2024-05-01', fixture);
    expect(await rowsOf('2024-05-01')).toEqual([
      // t1 10.50 + t2 4.25 + t4 0.10
      { sale_date: '2024-05-01', store_id: 's1', total_amount: 14.85, transactions: 3 },
      // t3 100 + t13 -5 (a refund)
      { sale_date: '2024-05-01', store_id: 's2', total_amount: 95, transactions: 2 },
      // t12, quoted fields
      { sale_date: '2024-05-01', store_id: 's3', total_amount: 7.25, transactions: 1 },
    ]);
    const rejects = (await queryRows(plane, pipeline, true)).map((r) => ({ record: r['record'], reason: r['reject_reason'], pipeline: r['pipeline'] }));
    expect(rejects.sort((a, b) => String(a.record).localeCompare(String(b.record)))).toEqual(
      FIXTURE_REJECTS
        .map((r) => ({ ...r, pipeline: pipeline.name }))
        .sort((a, b) => a.record.localeCompare(b.record)),
    );
  });

  it('encrypts what it writes with the environment key (SSE-KMS), as in AWS', async () => {
    const [file] = (await listObjects(plane, 'curated', `${sinkPrefix()}sale_date=2024-05-01/`)).filter((key) => key.endsWith('.parquet'));
    expect(file).toBeDefined();
    const client = s3(plane);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucketName(plane.env, 'curated'), Key: file! }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(dataKeyArn(plane.env));
    } finally {
      client.destroy();
    }
  });

  it('gives an identical partition on a re-run of the day', async () => {
    const before = await rowsOf('2024-05-01');
    const filesBefore = (await listObjects(plane, 'curated', `${sinkPrefix()}sale_date=2024-05-01/`)).length;
    await runBatch(plane, pipeline, '2024-05-01');
    expect(await rowsOf('2024-05-01')).toEqual(before);
    expect((await listObjects(plane, 'curated', `${sinkPrefix()}sale_date=2024-05-01/`)).length).toBe(filesBefore);
  });

  it('never touches another day: rows of another day in a file go to the errors', async () => {
    const before = await rowsOf('2024-05-01');
    await runDay('2024-05-02', [header, 'b1,s1,2024-05-02,2.00', 'b2,s1,2024-05-01,50.00', 'b3,s9,2024-05-02,1.25']);
    expect(await rowsOf('2024-05-01')).toEqual(before);
    expect(await rowsOf('2024-05-02')).toEqual([
      { sale_date: '2024-05-02', store_id: 's1', total_amount: 2, transactions: 1 },
      { sale_date: '2024-05-02', store_id: 's9', total_amount: 1.25, transactions: 1 },
    ]);
    const rejected = (await queryRows(plane, pipeline, true)).filter((r) => String(r['record']).includes('"b2"'));
    expect(rejected.map((r) => r['reject_reason'])).toEqual(['sale_date is not the day of the file']);
  });

  it('leaves the day empty, not stale, when a corrected file has no valid row', async () => {
    expect(await rowsOf('2024-05-02')).not.toEqual([]);
    await runDay('2024-05-02', [header, 'c1,,2024-05-02,3.00', 'c2,s1,2024-05-02,abc']);
    expect(await rowsOf('2024-05-02')).toEqual([]);
    expect((await rowsOf('2024-05-01')).length).toBe(3);
  });
});
