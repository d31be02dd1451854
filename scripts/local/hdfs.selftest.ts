/**
 * Proof that the local HDFS carries what the pipelines do: PySpark (local mode) writes Parquet partitioned by two
 * columns to `hdfs://<HDFS_CLUSTER>/data/x` through the same name service the manifests use, reads it back, the
 * namenode reports the replication asked for (and that many distinct datanodes per block), and after a stop and a
 * start the same rows come back. Prints the timings. Not part of `npm test`: it needs Java, the jars and pyspark.
 *
 *   node --import tsx scripts/local/hdfs.selftest.ts <jar-dir-or-classpath> [--python <exe with pyspark>]
 *       [--datanodes 3] [--replication 2] [--rpc-port 19100] [--http-port 19101] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HDFS_CLUSTER } from '../../environments/naming';
import { localHdfsClientConf, startLocalHdfs, stopLocalHdfs, type LocalHdfsOptions } from './hdfs';

const DATA_PATH = '/data/x';

// One script for both runs: `write` writes then reads, `read` only reads; it prints one JSON line last.
const SPARK_JOB = String.raw`
import json, sys
from pyspark.sql import SparkSession, functions as F

mode, uri, conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
builder = SparkSession.builder.master("local[2]").appName("hdfs-selftest")
for key, value in conf.items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
spark.sparkContext.setLogLevel("WARN")
if mode == "write":
    rows = [(f"S{i % 5}", 2020 + i % 3, float(i)) for i in range(1000)]
    spark.createDataFrame(rows, "station string, year int, value double") \
        .write.mode("overwrite").partitionBy("station", "year").parquet(uri)
back = spark.read.parquet(uri)
summary = back.agg(F.count("*").alias("rows"), F.sum("value").alias("total"),
                   F.countDistinct("station", "year").alias("partitions")).first()
print(json.dumps({"rows": summary["rows"], "total": summary["total"], "partitions": summary["partitions"]}))
spark.stop()
`;

interface Summary {
  readonly rows: number;
  readonly total: number;
  readonly partitions: number;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      python: { type: 'string', default: process.env.PYSPARK_PYTHON ?? 'python3' },
      datanodes: { type: 'string', default: '3' },
      // Not 3: that is what every Hadoop client writes with when nobody says otherwise, so it would prove nothing.
      replication: { type: 'string', default: '2' },
      'rpc-port': { type: 'string', default: '19100' },
      'http-port': { type: 'string', default: '19101' },
      keep: { type: 'boolean', default: false },
    },
  });
  const classpath = positionals[0];
  if (classpath === undefined || positionals.length > 1) {
    throw new Error(`usage: hdfs.selftest.ts <jar-dir-or-classpath> [--python <exe>] [--datanodes n] [--replication n]; got ${JSON.stringify(positionals)}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'driftless-hdfs-selftest-'));
  const options: LocalHdfsOptions = {
    dir: join(work, 'hdfs'),
    rpcPort: Number(values['rpc-port']),
    httpPort: Number(values['http-port']),
    datanodes: Number(values.datanodes),
    replication: Number(values.replication),
    classpath,
  };
  const uri = `hdfs://${HDFS_CLUSTER}${DATA_PATH}`;
  const sparkConf = {
    // Spark on the loopback interface, on ports inside this helper's range, without a UI.
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.driver.port': String(options.rpcPort + 10),
    'spark.blockManager.port': String(options.rpcPort + 11),
    'spark.ui.enabled': 'false',
    'spark.driver.memory': '768m',
    'spark.sql.shuffle.partitions': '2',
    ...Object.fromEntries(Object.entries(localHdfsClientConf(options.rpcPort)).map(([key, value]) => [`spark.hadoop.${key}`, value])),
    // The replication of a new file is the writer's setting (hdfs-default.xml says 3); the namenode's own
    // dfs.replication only reaches writers without one. So the job's Hadoop conf must carry it, here as in the manifests.
    'spark.hadoop.dfs.replication': String(options.replication),
  };
  const python = values.python as string;
  const jobFile = join(work, 'job.py');
  writeFileSync(jobFile, SPARK_JOB);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, step: () => Promise<T> | T): Promise<T> => {
    const start = performance.now();
    const result = await step();
    timings[name] = Math.round(performance.now() - start);
    console.log(`${name}: ${timings[name]} ms`);
    return result;
  };
  const spark = (mode: 'write' | 'read'): Summary => {
    const run = spawnSync(python, [jobFile, mode, uri, JSON.stringify(sparkConf)], {
      encoding: 'utf8',
      env: { ...process.env, PYSPARK_PYTHON: python },
      maxBuffer: 64 * 1024 * 1024,
    });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.status !== 0 || !last.startsWith('{')) {
      throw new Error(`pyspark ${mode} of ${uri} failed (exit ${run.status}):\n${run.stderr.split('\n').slice(-30).join('\n')}`);
    }
    return JSON.parse(last) as Summary;
  };

  let failed = false;
  try {
    const hdfs = await timed('cold start to ready', () => startLocalHdfs(options));
    console.log(`namenode ${hdfs.namenodeUri}, ${hdfs.httpUrl}, pid ${hdfs.pid}, log ${hdfs.logFile}, CPU to ready ${cpuSeconds(hdfs.pid)} s`);
    console.log(`ready.json: ${readFileSync(join(options.dir, 'ready.json'), 'utf8').trim()}`);

    const written = await timed('spark write + read', () => spark('write'));
    expect(written.rows === 1000 && written.partitions === 15, `wrote and read back 1000 rows in 15 partitions, got ${JSON.stringify(written)}`);

    const file = await firstDataFile(hdfs.httpUrl, DATA_PATH);
    const status = await webHdfs<{ FileStatus: { replication: number } }>(hdfs.httpUrl, file, 'GETFILESTATUS');
    expect(status.FileStatus.replication === options.replication, `${file} has replication ${options.replication}, got ${status.FileStatus.replication}`);
    const locations = await webHdfs<{ BlockLocations: { BlockLocation: { names: string[] }[] } }>(hdfs.httpUrl, file, 'GETFILEBLOCKLOCATIONS');
    for (const block of locations.BlockLocations.BlockLocation) {
      expect(new Set(block.names).size === options.replication, `each block of ${file} is on ${options.replication} datanodes, got ${block.names.join(', ')}`);
    }
    console.log(`memory: MiniHdfs peak RSS ${peakRssMiB(hdfs.pid)} MiB`);

    await timed('stop', () => stopLocalHdfs(options.dir));
    expect(!existsSync(join(options.dir, 'ready.json')), 'ready.json is removed on shutdown');
    const restarted = await timed('restart to ready', () => startLocalHdfs(options));
    console.log(`CPU to ready after restart ${cpuSeconds(restarted.pid)} s`);
    const reread = await timed('spark read after restart', () => spark('read'));
    expect(JSON.stringify(reread) === JSON.stringify(written), `the data survives a restart: ${JSON.stringify(written)}, got ${JSON.stringify(reread)}`);
  } catch (error) {
    failed = true;
    console.error(`FAIL ${(error as Error).message}`);
  } finally {
    await stopLocalHdfs(options.dir);
    if (values.keep || failed) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(`timings (ms): ${JSON.stringify(timings)}`);
  if (failed) process.exit(1);
  console.log('hdfs selftest passed');
}

function expect(condition: boolean, claim: string): void {
  if (!condition) throw new Error(claim);
  console.log(`ok ${claim}`);
}

async function webHdfs<T>(httpUrl: string, path: string, op: string): Promise<T> {
  const url = `${httpUrl}/webhdfs/v1${path}?op=${op}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** The first Parquet file under `root`, depth first: its partition folders are what the check is about. */
async function firstDataFile(httpUrl: string, root: string): Promise<string> {
  const listing = await webHdfs<{ FileStatuses: { FileStatus: { pathSuffix: string; type: string }[] } }>(httpUrl, root, 'LISTSTATUS');
  for (const entry of listing.FileStatuses.FileStatus) {
    const path = `${root}/${entry.pathSuffix}`;
    if (entry.type === 'FILE' && entry.pathSuffix.endsWith('.parquet')) return path;
    if (entry.type === 'DIRECTORY') {
      const found = await firstDataFile(httpUrl, path).catch(() => '');
      if (found !== '') return found;
    }
  }
  throw new Error(`no .parquet file under ${root}`);
}

/** User and system CPU of a process so far: on a shared machine a steadier figure than wall time. */
function cpuSeconds(pid: number): string {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return 'unknown';
  // Fields after the command name, which is in parentheses and may hold spaces; utime and stime are the 12th and 13th.
  const fields = readFileSync(stat, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / 100).toFixed(1);
}

function peakRssMiB(pid: number): string {
  const status = `/proc/${pid}/status`;
  const peak = existsSync(status) ? /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'))?.[1] : undefined;
  return peak === undefined ? 'unknown' : String(Math.round(Number(peak) / 1024));
}

main().catch((error: unknown) => {
  console.error(`hdfs selftest: ${(error as Error).message}`);
  process.exitCode = 1;
});
