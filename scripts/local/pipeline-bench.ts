/**
 * The pipelines' figures for `npm run bench`, on the local engines: the temperature pipeline's end-to-end throughput
 * (1,000,000 generated readings from CSV, through `npm run produce -- --local` and the stream, to the statistics on
 * HDFS) and the duration of a micro-batch after 100,000 and after 1,000,000 readings of history
 * (pipelines/runtime/accumulate_check.py, which drives the runtime's own micro-batch function).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadEnvironments } from '../../environments/load';
import { loadPipelines } from '../../pipelines/load';
import { generateReadings } from '../../pipelines/temperature/readings';
import { startPipeline } from '../local';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';
import { installToolchain } from '../toolchain/toolchain';
import { kafkaAdmin } from './kafka';
import { down, freePortBase, planeDir, portsFrom, up } from './plane';

const READINGS = 1_000_000;
const BENCHED = 'temperature';

/** Lines of Markdown with the figures, or one line saying why there are none. */
export async function benchPipelines(log: (line: string) => void): Promise<string[]> {
  const environments = await loadEnvironments();
  const pipelines = await loadPipelines(undefined, environments.map((e) => e.name));
  const pipeline = pipelines.find((p) => p.name === BENCHED);
  const env = environments[0]!;
  if (pipeline === undefined || pipeline.source.type !== 'kafka') return [`no pipeline '${BENCHED}' reading Kafka: the pipeline figures are measured on it`];
  const toolchain = await installToolchain(log);
  const root = mkdtempSync(join(tmpdir(), 'driftless-bench-'));
  const dir = planeDir(env.name, root);
  const lines: string[] = [];
  try {
    const connection = await up({ env, pipelines, toolchain, dir, ports: portsFrom(await freePortBase()), log });
    const { files } = generateReadings(root, [READINGS]);
    const port = Number(connection.kafka.endpoint.split(':')[1]);
    const kafka = { classpath: toolchain.jars('kafka'), dataDir: join(dir, 'kafka'), port, controllerPort: port + 1, java: toolchain.java };
    const lag = async () => ((await kafkaAdmin(kafka, 'lag', [pipeline.name, (pipeline.source as { topic: string }).topic])) as { total: number }).total;

    log(`producing ${READINGS.toLocaleString('en')} readings`);
    const started = performance.now();
    const produced = await runCommand(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'produce.ts'), '--local', '--env', env.name, '--pipeline', pipeline.name, '--file', files[0]!],
      { cwd: PROJECT_ROOT, env: { ...process.env, DRIFTLESS_LOCAL_DIR: root } },
    );
    if (produced.code !== 0) throw new Error(`produce failed: ${tail(produced.stderr)}`);
    const producedAt = performance.now();
    log('running the stream until every reading is processed');
    const driver = await startPipeline({ env, pipelines, pipeline, connection, toolchain, dir, output: { logFile: join(root, 'driver.log') } });
    try {
      while ((await lag()) > 0) await sleep(2_000);
    } finally {
      try {
        process.kill(-driver.pid!, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    const done = performance.now();
    const seconds = (done - started) / 1000;
    lines.push(
      `| temperature, ${READINGS.toLocaleString('en')} readings from CSV to statistics on HDFS | ${seconds.toFixed(0)} s | ${(READINGS / seconds).toFixed(0)} rows/s |`,
      `| of which produce (1 MB batches) | ${((producedAt - started) / 1000).toFixed(0)} s | ${(READINGS / ((producedAt - started) / 1000)).toFixed(0)} rows/s |`,
      `| of which the stream (start of the driver included) | ${((done - producedAt) / 1000).toFixed(0)} s | ${(READINGS / ((done - producedAt) / 1000)).toFixed(0)} rows/s |`,
    );
    // Shown at once: the micro-batch figures below take minutes more.
    for (const line of lines) log(line);
  } finally {
    await down(dir, toolchain, log).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }

  log('timing micro-batches after 100,000 and 1,000,000 readings of history (accumulate_check.py)');
  const check = await runCommand(toolchain.python, [join(PROJECT_ROOT, 'pipelines', 'runtime', 'accumulate_check.py')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1' },
  });
  const figures = check.stdout.split('\n').filter((line) => /after .* readings|1,000,000 \/ 100,000/.test(line));
  if (check.code !== 0 || figures.length === 0) throw new Error(`accumulate_check.py failed (${check.code}): ${tail(check.stdout + check.stderr)}`);
  lines.push('', 'micro-batch of 10,000 readings (accumulate_check.py, medians):', ...figures.map((line) => `    ${line.trim()}`));
  return lines;
}
