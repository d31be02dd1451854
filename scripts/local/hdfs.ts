/**
 * HDFS of the local data plane: MiniHdfs.java (a namenode and N datanodes in one JVM on 127.0.0.1) started
 * detached, judged ready by the namenode's own JMX, stopped with SIGTERM. The jobs keep their
 * `hdfs://<HDFS_CLUSTER>/...` URIs: localHdfsClientConf points that name service at the local namenode.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { HDFS_CLUSTER } from '../../environments/naming';
import { runCommand, tail } from '../run-command';

/** Where and how to run the local HDFS; every path and port is the caller's. */
export interface LocalHdfsOptions {
  /** Folder of the namespace, the blocks, the pid file and (by default) the log; created if missing. */
  readonly dir: string;
  /** Namenode RPC port on 127.0.0.1 (what `hdfs://` clients dial). */
  readonly rpcPort: number;
  /** Namenode HTTP port on 127.0.0.1 (web UI, JMX, WebHDFS). */
  readonly httpPort: number;
  /** Number of datanodes. */
  readonly datanodes: number;
  /** `dfs.replication`, at most `datanodes`. */
  readonly replication: number;
  /** The jars of MiniHdfs: a folder that holds them, or a Java classpath (entries joined by the platform delimiter). */
  readonly classpath: string;
  /** The java executable (17 or later: MiniHdfs runs in source-file mode). @default 'java' */
  readonly java?: string;
  /** Maximum heap of the JVM; a few thousand files need well under 100 MiB of it. @default 256 */
  readonly heapMiB?: number;
  /** File that receives stdout and stderr, appended to. @default `<dir>/hdfs.log` */
  readonly logFile?: string;
}

/** A running local HDFS, as the caller needs to reach it. */
export interface LocalHdfs {
  readonly pid: number;
  /** `hdfs://127.0.0.1:<rpcPort>`: the namenode itself, for tools that take no client configuration. */
  readonly namenodeUri: string;
  /** `http://127.0.0.1:<httpPort>`: web UI, `/jmx`, `/webhdfs/v1`. */
  readonly httpUrl: string;
  readonly logFile: string;
}

/** What the namenode reports about itself; `up` only when all of it is as a job needs it. */
export interface HdfsHealth {
  /** The namenode answers, `datanodes` are live, safe mode is off and no block is without a live replica. */
  readonly up: boolean;
  /** Null when the namenode did not answer. */
  readonly liveDatanodes: number | null;
  readonly safeMode: boolean | null;
  /** Blocks without any live replica (reads of them fail). */
  readonly missingBlocks: number | null;
  /** Why it is not up, in one line; empty when up. */
  readonly problem: string;
}

const MINI_HDFS = join(dirname(fileURLToPath(import.meta.url)), 'MiniHdfs.java');
const PID_FILE = 'hdfs.pid';
/** Written by MiniHdfs once its own wait for the datanodes is over, removed when it stops. */
const READY_FILE = 'ready.json';
const LOOPBACK = '127.0.0.1';

/**
 * Starts the cluster detached (its own process group, output to the log file) and resolves once it is healthy.
 * If the pid file names a MiniHdfs that is still running, that one is waited for instead of starting a second.
 */
export async function startLocalHdfs(options: LocalHdfsOptions, timeoutMs = 120_000): Promise<LocalHdfs> {
  const checked = validate(options);
  const dir = resolve(checked.dir);
  mkdirSync(dir, { recursive: true });
  const logFile = resolve(checked.logFile ?? join(dir, 'hdfs.log'));
  let pid = runningPid(dir);
  if (pid === undefined) {
    const before = await hdfsHealth(checked.httpPort, 0);
    if (before.liveDatanodes !== null) {
      throw new Error(`local HDFS: port ${checked.httpPort} (httpPort) already answers as a namenode that ${dir}/${PID_FILE} does not name; stop that one first`);
    }
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    // Left by a killed run: ready.json must only ever mean this start.
    rmSync(join(dir, READY_FILE), { force: true });
    const log = openSync(logFile, 'a');
    try {
      const child = spawn(checked.java ?? 'java', [
        `-Xmx${checked.heapMiB ?? 256}m`,
        // The client JIT only and the single-threaded collector: a third less CPU to start, on a machine whose two
        // cores Kafka and Spark share, and a namespace this small never needs the server compiler's throughput.
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        // Jetty's and the JVM's scratch files stay inside `dir`, not in a /tmp shared with other users.
        `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
        '-cp', javaClasspath(checked.classpath),
        MINI_HDFS,
        '--dir', dir,
        '--rpc-port', String(checked.rpcPort),
        '--http-port', String(checked.httpPort),
        '--datanodes', String(checked.datanodes),
        '--replication', String(checked.replication),
      ], { detached: true, stdio: ['ignore', log, log] });
      pid = await spawned(child);
      child.unref();
    } finally {
      closeSync(log);
    }
    writeFileSync(join(dir, PID_FILE), `${pid}\n`);
  }
  await waitUntilReady(pid, dir, checked, logFile, timeoutMs);
  return { pid, namenodeUri: `hdfs://${LOOPBACK}:${checked.rpcPort}`, httpUrl: `http://${LOOPBACK}:${checked.httpPort}`, logFile };
}

/**
 * Asks the namenode's JMX for live datanodes, safe mode and missing blocks; `datanodes` is how many must be live.
 * Missing blocks count because a namenode with a small namespace leaves safe mode before every datanode has sent
 * its first block report: a read in that moment fails. Never throws: a namenode that does not answer is a state.
 */
export async function hdfsHealth(httpPort: number, datanodes: number, timeoutMs = 2_000): Promise<HdfsHealth> {
  // One request, two beans: FSNamesystemState (live datanodes, FSState) and FSNamesystem (MissingBlocks).
  const url = `http://${LOOPBACK}:${httpPort}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem*`;
  const down = (problem: string): HdfsHealth => ({ up: false, liveDatanodes: null, safeMode: null, missingBlocks: null, problem });
  let beans: Record<string, unknown>[];
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return down(`${url} answered HTTP ${response.status}`);
    beans = ((await response.json()) as { beans?: Record<string, unknown>[] }).beans ?? [];
  } catch (error) {
    return down(`${url} did not answer: ${(error as Error).message}`);
  }
  const field = (bean: string, name: string) => beans.find((candidate) => candidate.name === `Hadoop:service=NameNode,name=${bean}`)?.[name];
  const liveDatanodes = field('FSNamesystemState', 'NumLiveDataNodes');
  const state = field('FSNamesystemState', 'FSState');
  const missingBlocks = field('FSNamesystem', 'MissingBlocks');
  if (typeof liveDatanodes !== 'number' || typeof state !== 'string' || typeof missingBlocks !== 'number') {
    return down(`${url} lacks NumLiveDataNodes, FSState or MissingBlocks`);
  }
  // FSState is 'Operational' or 'safeMode'.
  const safeMode = state !== 'Operational';
  const problems = [
    ...(liveDatanodes < datanodes ? [`${liveDatanodes} of ${datanodes} datanodes live`] : []),
    ...(safeMode ? ['namenode in safe mode'] : []),
    ...(missingBlocks > 0 ? [`${missingBlocks} blocks without a live replica`] : []),
  ];
  return { up: problems.length === 0, liveDatanodes, safeMode, missingBlocks, problem: problems.join(', ') };
}

/**
 * Stops the cluster that `dir`'s pid file names: SIGTERM to its process group (MiniHdfs then stops the datanodes,
 * the namenode, and exits), SIGKILL if it is still there after `timeoutMs`. Resolves quietly when nothing runs.
 */
export async function stopLocalHdfs(dir: string, timeoutMs = 30_000): Promise<void> {
  const absolute = resolve(dir);
  const pid = runningPid(absolute);
  if (pid !== undefined) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await sleep(200);
    if (alive(pid)) {
      signalGroup(pid, 'SIGKILL');
      while (alive(pid)) await sleep(100);
      // A killed MiniHdfs could not remove it; a stale ready.json would claim a cluster that is gone.
      rmSync(join(absolute, READY_FILE), { force: true });
    }
  }
  rmSync(join(absolute, PID_FILE), { force: true });
}

/**
 * The Hadoop client settings that make `hdfs://<HDFS_CLUSTER>/...`, the URI the manifests give every job, resolve
 * to the local namenode: the same HA name service the cluster defines, with one namenode in it. This is the only
 * HDFS override a job needs locally; pass each entry as `spark.hadoop.<key>` to Spark.
 */
export function localHdfsClientConf(rpcPort: number): Record<string, string> {
  const namenode = 'local';
  return {
    'dfs.nameservices': HDFS_CLUSTER,
    [`dfs.ha.namenodes.${HDFS_CLUSTER}`]: namenode,
    [`dfs.namenode.rpc-address.${HDFS_CLUSTER}.${namenode}`]: `${LOOPBACK}:${rpcPort}`,
    [`dfs.client.failover.proxy.provider.${HDFS_CLUSTER}`]: 'org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider',
  };
}

/**
 * Runs one `hdfs dfs` command (Hadoop's FsShell, from the local HDFS jars) against the local namenode, as the user
 * who started it, HDFS's superuser there as Stackable's user is on the cluster. Throws with FsShell's output on failure.
 */
export async function localHdfsShell(options: { readonly java?: string; readonly classpath: string; readonly rpcPort: number }, args: readonly string[]): Promise<void> {
  // The `hdfs` launcher puts HADOOP_CONF_DIR first on the classpath, and FsShell fails without a core-site.xml there.
  const conf = mkdtempSync(join(tmpdir(), 'driftless-hdfs-client-'));
  try {
    writeFileSync(join(conf, 'core-site.xml'), '<?xml version="1.0"?>\n<configuration/>\n');
    const classpath = [conf, javaClasspath(options.classpath)].join(delimiter);
    const result = await runCommand(
      options.java ?? 'java',
      ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', classpath, 'org.apache.hadoop.fs.FsShell', '-fs', `hdfs://${LOOPBACK}:${options.rpcPort}`, ...args],
      { cwd: conf },
    );
    if (result.code !== 0) throw new Error(`hdfs dfs ${args.join(' ')} failed (exit ${result.code ?? result.startError?.message}): ${tail(result.stderr || result.stdout)}`);
  } finally {
    rmSync(conf, { recursive: true, force: true });
  }
}

/** A folder of jars becomes `<folder>/*` (the JVM expands it); anything else is taken as a classpath already. */
function javaClasspath(classpath: string): string {
  const isFolder = !classpath.includes(delimiter) && existsSync(classpath) && statSync(classpath).isDirectory();
  return isFolder ? join(resolve(classpath), '*') : classpath;
}

function validate(options: LocalHdfsOptions): LocalHdfsOptions {
  const port = (value: number) => Number.isInteger(value) && value >= 1 && value <= 65535;
  const problems = [
    ...(port(options.rpcPort) ? [] : [`'rpcPort' must be an integer from 1 to 65535, got ${options.rpcPort}`]),
    ...(port(options.httpPort) ? [] : [`'httpPort' must be an integer from 1 to 65535, got ${options.httpPort}`]),
    ...(options.rpcPort !== options.httpPort ? [] : [`'httpPort' must differ from 'rpcPort', got ${options.httpPort} for both`]),
    ...(Number.isInteger(options.datanodes) && options.datanodes >= 1 && options.datanodes <= 16
      ? [] : [`'datanodes' must be an integer from 1 to 16, got ${options.datanodes}`]),
    ...(Number.isInteger(options.replication) && options.replication >= 1 && options.replication <= options.datanodes
      ? [] : [`'replication' must be an integer from 1 to 'datanodes' (${options.datanodes}), got ${options.replication}`]),
    ...(options.classpath !== '' ? [] : [`'classpath' must name the MiniHdfs jars (a folder or a classpath), got ''`]),
  ];
  if (problems.length > 0) throw new Error(`local HDFS: ${problems.join('; ')}`);
  return options;
}

/**
 * Ready is both: the namenode's JMX says healthy (the caller's view), and MiniHdfs wrote ready.json (its own start-up,
 * which goes on for a moment after the JMX first looks healthy, is over, so a stop now is a clean one).
 */
async function waitUntilReady(pid: number, dir: string, options: LocalHdfsOptions, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(pid)) {
      throw new Error(`local HDFS: MiniHdfs (pid ${pid}) exited before it was ready; the end of ${logFile}:\n${logTail(logFile)}`);
    }
    const health = await hdfsHealth(options.httpPort, options.datanodes);
    const written = existsSync(join(dir, READY_FILE));
    if (health.up && written) return;
    if (Date.now() > deadline) {
      const problem = health.up ? `${READY_FILE} not written` : health.problem;
      throw new Error(`local HDFS: not ready after ${timeoutMs} ms (${problem}); the end of ${logFile}:\n${logTail(logFile)}`);
    }
    await sleep(250);
  }
}

/** The pid in `dir`'s pid file if that process is alive and is a MiniHdfs; a pid reused by another program is not ours. */
function runningPid(dir: string): number | undefined {
  const file = join(dir, PID_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync('/proc/self') && (!existsSync(cmdline) || !readFileSync(cmdline, 'utf8').includes('MiniHdfs.java'))) return undefined;
  return pid;
}

function spawned(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolvePid, reject) => {
    child.once('error', (error) => reject(new Error(`local HDFS: cannot run java: ${error.message}`)));
    child.once('spawn', () => resolvePid(child.pid as number));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is gone for every purpose here.
  const stat = `/proc/${pid}/stat`;
  return !(existsSync(stat) && /\) Z /.test(readFileSync(stat, 'utf8')));
}

/** The process was started detached, so its pid is also its process group id. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone between the check and the signal.
  }
}

function logTail(logFile: string): string {
  return existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 15) : '(no log)';
}
