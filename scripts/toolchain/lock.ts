/**
 * `npm run toolchain -- --lock`: resolves the toolchain's roots again and rewrites its pin files with checksums. Run it
 * after changing a version (Spark, Kafka, HDFS, the Python packages), then review the diff like any dependency bump.
 * Needs the network, pip and Maven; installing the locked toolchain (`npm run toolchain`) needs neither Maven nor a resolver.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAFKA, STACKABLE_PRODUCTS } from '../../k8s/versions';
import { CONNECTORS, SPARK_VERSION } from '../../pipelines/runtime/spark';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';
import { mavenLockText, type LockedArtifact } from './maven';
import { cacheDir, installPythonPackages, sha256, TOOLCHAIN_FILES } from './toolchain';

/** The Python packages the engines need, at the versions the platform runs. */
export const PYTHON_ROOTS = [`pyspark==${SPARK_VERSION}`, 'moto[server]==5.2.5'] as const;
const BUILD_ROOTS = ['setuptools', 'wheel'] as const;
/** The independent scanner of `npm run validate`: its own closure, whose pins clash with moto's and pyspark's. */
export const SCANNER_ROOTS = ['checkov==3.3.30'] as const;

/** The Maven roots of the local engines, by set. */
export const ENGINE_ROOTS: Readonly<Record<string, readonly string[]>> = {
  // Kafka names the SLF4J API only; the binding sends the broker's log lines to its log file.
  kafka: [`org.apache.kafka:kafka_2.13:${KAFKA.version}`, 'org.apache.logging.log4j:log4j-slf4j-impl:2.25.4'],
  // Hadoop logs through SLF4J; without a binding the mini cluster says nothing, errors included.
  hdfs: [`org.apache.hadoop:hadoop-client-minicluster:${STACKABLE_PRODUCTS.hdfs}`, 'org.slf4j:slf4j-simple:1.7.36'],
};

const PYPI = 'https://pypi.org/simple';

async function lockPython(root: string, log: (line: string) => void): Promise<void> {
  for (const [file, roots] of [
    [TOOLCHAIN_FILES.buildRequirements, BUILD_ROOTS],
    [TOOLCHAIN_FILES.requirements, PYTHON_ROOTS],
    [TOOLCHAIN_FILES.scannerRequirements, SCANNER_ROOTS],
  ] as const) {
    await lockRequirements(file, roots, root, log);
  }
}

/** Resolves `roots` with pip and writes their closure to `file`, every file of each release hashed. */
export async function lockRequirements(file: string, roots: readonly string[], root: string, log: (line: string) => void): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-lock-'));
  try {
    const report = join(scratch, 'report.json');
    const result = await runCommand('python3', ['-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--quiet', '--report', report, ...roots], { cwd: root });
    if (result.code !== 0) throw new Error(`pip could not resolve ${roots.join(' ')}:\n${tail(result.stderr)}`);
    const installs = (JSON.parse(readFileSync(report, 'utf8')) as { install: Array<{ metadata: { name: string; version: string } }> }).install;
    const entries: string[] = [];
    for (const { metadata } of [...installs].sort((a, b) => a.metadata.name.toLowerCase().localeCompare(b.metadata.name.toLowerCase()))) {
      const hashes = await pypiHashes(metadata.name, metadata.version);
      entries.push([`${metadata.name}==${metadata.version}`, ...hashes.map((h) => `    --hash=sha256:${h}`)].join(' \\\n'));
    }
    const header = `# Locked by 'npm run toolchain -- --lock' from: ${roots.join(' ')}. Every file of each release is hashed, so any platform installs it.\n`;
    writeFileSync(join(root, file), `${header}${entries.join('\n')}\n`);
    log(`${file}: ${installs.length} packages`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** SHA-256 of every file PyPI has for one release (wheels for every platform and the source archive). */
async function pypiHashes(name: string, version: string): Promise<string[]> {
  const normalized = name.toLowerCase().replace(/[-_.]+/g, '-');
  const response = await fetch(`${PYPI}/${normalized}/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
  if (!response.ok) throw new Error(`PyPI has no project '${name}' (HTTP ${response.status})`);
  const files = ((await response.json()) as { files: Array<{ filename: string; hashes: { sha256?: string } }> }).files;
  // A wheel is name-version-tags.whl, a source archive name-version.tar.gz; names normalize as PEP 503 says.
  const release = (filename: string) => {
    const parts = filename.endsWith('.whl') ? filename.split('-') : filename.replace(/\.(tar\.gz|zip)$/, '').split(/-(?=[^-]+$)/);
    return { name: (parts[0] ?? '').toLowerCase().replace(/[-_.]+/g, '-'), version: parts[1] };
  };
  const hashes = files
    .filter((f) => release(f.filename).name === normalized && release(f.filename).version === version)
    .map((f) => f.hashes.sha256)
    .filter((h): h is string => h !== undefined);
  if (hashes.length === 0) throw new Error(`PyPI lists no files of ${name} ${version}`);
  return [...new Set(hashes)].sort();
}

/** The runtime closure of `roots`, resolved by Maven, each jar with its SHA-256. */
async function resolveMaven(roots: readonly string[], set: string, root: string): Promise<LockedArtifact[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-lock-'));
  try {
    const dependencies = roots.map((coordinate) => {
      const [groupId, artifactId, version] = coordinate.split(':');
      return `<dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`;
    });
    writeFileSync(
      join(scratch, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>driftless</groupId><artifactId>lock</artifactId><version>0</version><packaging>pom</packaging><dependencies>${dependencies.join('')}</dependencies></project>`,
    );
    const listing = join(scratch, 'dependencies.txt');
    const result = await runCommand('mvn', ['-B', '-q', 'dependency:list', '-DincludeScope=runtime', '-DoutputAbsoluteArtifactFilename=true', `-DoutputFile=${listing}`], { cwd: scratch });
    if (result.code !== 0) throw new Error(`Maven could not resolve ${roots.join(' ')}:\n${tail(result.stdout + result.stderr)}`);
    const artifacts: LockedArtifact[] = [];
    for (const line of readFileSync(listing, 'utf8').split('\n')) {
      // group:artifact:type[:classifier]:version:scope:/path/to/file.jar
      const match = /^\s+([^:\s]+):([^:]+):jar(?::([^:]+))?:([^:]+):(?:compile|runtime):(\/.+\.jar)/.exec(line);
      if (!match) continue;
      const [, group, artifact, classifier, version, file] = match as unknown as [string, string, string, string | undefined, string, string];
      artifacts.push({ set, coordinate: [group, artifact, version, ...(classifier ? [classifier] : [])].join(':'), sha256: await sha256(file) });
    }
    if (artifacts.length === 0) throw new Error(`Maven listed no jars for ${roots.join(' ')}`);
    return artifacts;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `group:artifact` keys of the jars in pyspark's distribution, which the image's Spark holds too. */
function sparkDistributionArtifacts(venv: string): Set<string> {
  const lib = join(venv, 'lib');
  const python = readdirSync(lib).find((name) => name.startsWith('python'));
  const jars = join(lib, python ?? '', 'site-packages', 'pyspark', 'jars');
  if (!existsSync(jars)) throw new Error(`no pyspark jars folder at ${jars}: install the Python packages first`);
  return new Set(readdirSync(jars).map((file) => /^(.+?)-\d[^-]*(?:-[A-Za-z][^-]*)?\.jar$/.exec(file)?.[1] ?? file));
}

/** Re-resolves every root and rewrites the pin files. */
export async function lockToolchain(log: (line: string) => void): Promise<void> {
  const root = PROJECT_ROOT;
  await lockPython(root, log);
  // The Python packages first: the Spark set leaves out what pyspark's distribution already holds.
  const engines = await Promise.all(Object.entries(ENGINE_ROOTS).map(([set, roots]) => resolveMaven(roots, set, root)));
  writeFileSync(
    join(root, TOOLCHAIN_FILES.engineJars),
    mavenLockText('The jars of the local Kafka broker and HDFS, locked by `npm run toolchain -- --lock`; do not edit.', {
      roots: Object.values(ENGINE_ROOTS).flat(),
      provided: [],
      artifacts: engines.flat(),
    }),
  );
  const roots = Object.values(CONNECTORS);
  const resolved = await resolveMaven(roots, 'spark', root);
  await installPythonPackages(log, root);
  const distribution = sparkDistributionArtifacts(join(cacheDir(root), 'python'));
  const inDistribution = (a: LockedArtifact) => distribution.has(a.coordinate.split(':')[1]!);
  writeFileSync(
    join(root, TOOLCHAIN_FILES.connectorJars),
    mavenLockText(
      `Spark ${SPARK_VERSION}'s connectors (pipelines/runtime/spark.ts CONNECTORS) with their runtime closure, less the jars Spark's\ndistribution holds: one list for the pipeline image and the local Spark. Locked by \`npm run toolchain -- --lock\`; do not edit.`,
      { roots, provided: resolved.filter(inDistribution).map((a) => a.coordinate), artifacts: resolved.filter((a) => !inDistribution(a)) },
    ),
  );
  log(`${TOOLCHAIN_FILES.engineJars}: ${engines.flat().length} jars; ${TOOLCHAIN_FILES.connectorJars}: ${resolved.filter((a) => !inDistribution(a)).length} jars`);
}

