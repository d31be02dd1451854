/**
 * The pinned toolchain of the real-engine tests and the local data plane: Python packages from a hashed requirements
 * file (pyspark, moto) in a virtual environment, checkov (validate's independent scanner) from one of its own in
 * another, and Maven jars (Kafka, HDFS, Spark's connectors) from lock files with
 * SHA-256 checksums. Everything goes into one git-ignored cache and is re-used offline: a second install downloads nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { UsageError } from '../command-line';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';
import { installIac } from './iac';
import { installKubeTools } from './kube-tools';
import { readMavenLock, repositoryPath, type LockedArtifact } from './maven';

/** The files that pin the toolchain, relative to the project root. */
export const TOOLCHAIN_FILES = {
  /** setuptools and wheel, installed first: pyspark is published as a source archive that they build. */
  buildRequirements: 'scripts/toolchain/build-requirements.txt',
  requirements: 'scripts/toolchain/requirements.txt',
  /** checkov, the independent scanner of `npm run validate`, in a virtual environment of its own (its pins clash with moto's). */
  scannerRequirements: 'scripts/toolchain/checkov-requirements.txt',
  /** The local Kafka broker and HDFS. */
  engineJars: 'scripts/toolchain/engines.lock.tsv',
  /** Spark's connectors: one list for the pipeline image and the local Spark. */
  connectorJars: 'pipelines/runtime/jars.lock.tsv',
} as const;

/** Where Maven Central is; `DRIFTLESS_MAVEN_REPOSITORY` points at a mirror that has the same layout. */
export const MAVEN_REPOSITORY = process.env['DRIFTLESS_MAVEN_REPOSITORY'] ?? 'https://repo1.maven.org/maven2';

/** What the installed toolchain offers. */
export interface Toolchain {
  readonly cacheDir: string;
  /** The virtual environment's python, with pyspark and moto. */
  readonly python: string;
  readonly sparkSubmit: string;
  readonly java: string;
  /** Absolute paths of the jars of one set of the lock files (`kafka`, `hdfs`, `spark`). */
  jars(set: string): string[];
}

/** The cache folder: `DRIFTLESS_CACHE`, or `.cache/driftless` in the project (git-ignored). */
export function cacheDir(root = PROJECT_ROOT): string {
  return process.env['DRIFTLESS_CACHE'] ?? join(root, '.cache', 'driftless');
}

/** Checks that Java 17+ and Python 3.10+ are on the PATH; a missing one is a one-line error saying what to install. */
export async function requireRuntimes(): Promise<{ java: string; python: string }> {
  const java = process.env['JAVA_HOME'] ? join(process.env['JAVA_HOME'], 'bin', 'java') : 'java';
  const javaVersion = await runCommand(java, ['-version'], { cwd: PROJECT_ROOT });
  const javaMajor = Number(/version "(\d+)/.exec(javaVersion.stderr)?.[1] ?? NaN);
  if (javaVersion.code !== 0 || !(javaMajor >= 17)) {
    throw new UsageError(
      `the local engines need Java 17 or newer (Kafka, HDFS and Spark run on it), found ${javaVersion.code === 0 ? `Java ${javaMajor}` : `no '${java}'`}: install a JDK 17+ (for example 'apt-get install openjdk-17-jdk-headless') and put java on PATH or set JAVA_HOME`,
    );
  }
  const python = process.env['DRIFTLESS_PYTHON_BASE'] ?? 'python3';
  const pythonVersion = await runCommand(python, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], { cwd: PROJECT_ROOT });
  const [major, minor] = pythonVersion.stdout.trim().split('.').map(Number) as [number, number];
  if (pythonVersion.code !== 0 || major !== 3 || minor < 10) {
    throw new UsageError(
      `the local engines need Python 3.10 or newer with venv (pyspark and the S3 emulator run on it), found ${pythonVersion.code === 0 ? `Python ${pythonVersion.stdout.trim()}` : `no '${python}'`}: install python3 and python3-venv (or set DRIFTLESS_PYTHON_BASE to one)`,
    );
  }
  return { java, python };
}

/**
 * Installs what is missing or changed, verifying every download, and returns the toolchain. With `goTools`, also
 * builds OpenTofu and the providers (iac.ts), Helm and the Pod Security evaluator (kube-tools.ts): the data plane
 * alone does not need them, and a cold build of the AWS provider takes long.
 */
export async function installToolchain(log: (line: string) => void, root = PROJECT_ROOT, options: { readonly goTools?: boolean } = {}): Promise<Toolchain> {
  const runtimes = await requireRuntimes();
  const cache = cacheDir(root);
  await installPython(runtimes.python, cache, root, log);
  await installScanner(runtimes.python, cache, root, log);
  await installJars(cache, root, log);
  if (options.goTools) {
    await installKubeTools(cache, log, root);
    await installIac(cache, log, root);
  }
  return toolchainAt(cache, root, runtimes.java);
}

/** The toolchain as installed, without installing: a missing part is a one-line error that says how to install it. */
export async function installedToolchain(root = PROJECT_ROOT): Promise<Toolchain> {
  const runtimes = await requireRuntimes();
  const cache = cacheDir(root);
  const stale = [
    ...(readMarker(join(cache, 'python')) === requirementsDigest(root) ? [] : ['the Python packages']),
    ...lockedArtifacts(root).some((a) => !existsSync(jarPath(cache, a))) ? ['Maven jars'] : [],
  ];
  if (stale.length > 0) throw new UsageError(`${stale.join(' and ')} of the pinned toolchain are not installed in ${cache}: run 'npm run toolchain'`);
  return toolchainAt(cache, root, runtimes.java);
}

/** Installs only the Python packages (the lock tool needs pyspark's jar list before the Spark jars are locked). */
export async function installPythonPackages(log: (line: string) => void, root = PROJECT_ROOT): Promise<void> {
  await installPython((await requireRuntimes()).python, cacheDir(root), root, log);
}

function toolchainAt(cache: string, root: string, java: string): Toolchain {
  const venv = join(cache, 'python');
  const artifacts = lockedArtifacts(root);
  return {
    cacheDir: cache,
    python: join(venv, 'bin', 'python'),
    sparkSubmit: join(venv, 'bin', 'spark-submit'),
    java,
    jars: (set) => {
      const chosen = artifacts.filter((a) => a.set === set);
      if (chosen.length === 0) throw new Error(`no jars of set '${set}' in the lock files`);
      return chosen.map((a) => jarPath(cache, a));
    },
  };
}

function lockedArtifacts(root: string): LockedArtifact[] {
  return [TOOLCHAIN_FILES.engineJars, TOOLCHAIN_FILES.connectorJars].flatMap((file) => readMavenLock(join(root, file), root).artifacts);
}

function jarPath(cache: string, artifact: LockedArtifact): string {
  return join(cache, 'maven', repositoryPath(artifact.coordinate));
}

function requirementsDigest(root: string): string {
  const hash = createHash('sha256');
  for (const file of [TOOLCHAIN_FILES.buildRequirements, TOOLCHAIN_FILES.requirements]) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

function readMarker(folder: string): string | undefined {
  const marker = join(folder, '.driftless-installed');
  return existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
}

async function installPython(python: string, cache: string, root: string, log: (line: string) => void): Promise<void> {
  const venv = join(cache, 'python');
  const digest = requirementsDigest(root);
  if (readMarker(venv) === digest) return;
  log(`installing the Python packages of ${TOOLCHAIN_FILES.requirements} into ${venv}`);
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  await must(python, ['-m', 'venv', venv], root, 'could not create the virtual environment');
  const pip = [join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--require-hashes', '--no-deps'];
  await must(pip[0]!, [...pip.slice(1), '-r', join(root, TOOLCHAIN_FILES.buildRequirements)], root, 'pip could not install the build requirements');
  // No build isolation: pyspark's source archive is built with the setuptools just verified, not with an unpinned one.
  await must(pip[0]!, [...pip.slice(1), '--no-build-isolation', '-r', join(root, TOOLCHAIN_FILES.requirements)], root, 'pip could not install the requirements');
  writeFileSync(join(venv, '.driftless-installed'), `${digest}\n`);
}

/** checkov from the scanner's own hashed requirements, in `<cache>/checkov`; only its wheels, nothing built. */
async function installScanner(python: string, cache: string, root: string, log: (line: string) => void): Promise<void> {
  const venv = join(cache, 'checkov');
  const digest = scannerDigest(root);
  if (readMarker(venv) === digest) return;
  log(`installing checkov from ${TOOLCHAIN_FILES.scannerRequirements} into ${venv}`);
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  await must(python, ['-m', 'venv', venv], root, 'could not create the virtual environment of checkov');
  const pip = join(venv, 'bin', 'python');
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--require-hashes', '--no-deps'];
  await must(pip, [...args, '-r', join(root, TOOLCHAIN_FILES.buildRequirements)], root, 'pip could not install the build requirements of checkov');
  await must(pip, [...args, '--no-build-isolation', '-r', join(root, TOOLCHAIN_FILES.scannerRequirements)], root, 'pip could not install checkov');
  writeFileSync(join(venv, '.driftless-installed'), `${digest}\n`);
}

/** The checkov executable when the pinned one is installed in the cache, else undefined. Needs neither Java nor the engines. */
export function installedScanner(root = PROJECT_ROOT): string | undefined {
  const venv = join(cacheDir(root), 'checkov');
  const checkov = join(venv, 'bin', 'checkov');
  return readMarker(venv) === scannerDigest(root) && existsSync(checkov) ? checkov : undefined;
}

function scannerDigest(root: string): string {
  const hash = createHash('sha256');
  for (const file of [TOOLCHAIN_FILES.buildRequirements, TOOLCHAIN_FILES.scannerRequirements]) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

async function installJars(cache: string, root: string, log: (line: string) => void): Promise<void> {
  const missing: LockedArtifact[] = [];
  const seen = new Set<string>();
  for (const artifact of lockedArtifacts(root)) {
    if (seen.has(artifact.coordinate)) continue;
    seen.add(artifact.coordinate);
    if (!existsSync(jarPath(cache, artifact))) missing.push(artifact);
  }
  if (missing.length === 0) return;
  log(`downloading ${missing.length} jars from ${MAVEN_REPOSITORY} into ${join(cache, 'maven')}`);
  // A few at a time: the AWS SDK bundle alone is over 600 MB, and the small jars should not wait behind it.
  const queue = [...missing];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await download(next, jarPath(cache, next));
    }),
  );
}

async function download(artifact: LockedArtifact, destination: string): Promise<void> {
  const url = `${MAVEN_REPOSITORY}/${repositoryPath(artifact.coordinate)}`;
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`could not download ${artifact.coordinate} from ${url}: HTTP ${response.status}`);
  mkdirSync(dirname(destination), { recursive: true });
  const partial = `${destination}.partial`;
  await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), createWriteStream(partial));
  const actual = await sha256(partial);
  if (actual !== artifact.sha256) {
    rmSync(partial, { force: true });
    throw new Error(`${artifact.coordinate} from ${url} has SHA-256 ${actual}, but the lock file pins ${artifact.sha256}: refusing it`);
  }
  renameSync(partial, destination);
}

/** SHA-256 of a file, streamed. */
export async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function must(command: string, args: readonly string[], cwd: string, what: string): Promise<void> {
  const result = await runCommand(command, args, { cwd });
  if (result.code !== 0) throw new Error(`${what} (${command} exited ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
}

