/**
 * Maven artifact lists with checksums: the closure of a few root coordinates, locked by `npm run toolchain -- --lock`
 * and downloaded from Maven Central by `npm run toolchain`, each file checked against its SHA-256 before use.
 *
 * A lock file is tab-separated text: `# root <coordinate>` lines name what was resolved, `# provided <coordinate>` lines
 * what was left out because Spark's own distribution already holds it, and every other line is
 * `<set> <group:artifact:version[:classifier]> <sha256>`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** One jar of a lock file. */
export interface LockedArtifact {
  /** Which engine the jar belongs to (`kafka`, `hdfs`, `spark`). */
  readonly set: string;
  readonly coordinate: string;
  readonly sha256: string;
}

/** A parsed lock file. */
export interface MavenLock {
  readonly roots: readonly string[];
  readonly provided: readonly string[];
  readonly artifacts: readonly LockedArtifact[];
}

const COORDINATE = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+(:[A-Za-z0-9_.-]+)?$/;

/** Reads a lock file; a malformed line is an error naming the file and line. */
export function readMavenLock(file: string, root: string): MavenLock {
  const roots: string[] = [];
  const provided: string[] = [];
  const artifacts: LockedArtifact[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      const where = `${relative(root, file)}:${index + 1}`;
      const fields = line.split('\t');
      if (line.trim() === '' || (line.startsWith('#') && !['# root', '# provided'].includes(fields[0] ?? ''))) return;
      if (fields[0] === '# root' || fields[0] === '# provided') {
        const coordinate = fields[1] ?? '';
        if (!COORDINATE.test(coordinate)) throw new Error(`${where}: '${fields[0]}' needs a Maven coordinate group:artifact:version, got '${coordinate}'`);
        (fields[0] === '# root' ? roots : provided).push(coordinate);
        return;
      }
      const [set, coordinate, sha256] = fields;
      if (fields.length !== 3 || !set || !COORDINATE.test(coordinate ?? '') || !/^[0-9a-f]{64}$/.test(sha256 ?? '')) {
        throw new Error(`${where}: a jar line must be '<set>\\t<group:artifact:version[:classifier]>\\t<sha256>', got '${line}'`);
      }
      artifacts.push({ set, coordinate: coordinate!, sha256: sha256! });
    });
  return { roots, provided, artifacts };
}

/** Writes a lock file's text, sorted so that a re-lock of the same roots changes nothing. */
export function mavenLockText(header: string, lock: MavenLock): string {
  const lines = [
    ...header.split('\n').map((line) => `# ${line}`.trimEnd()),
    ...[...lock.roots].sort().map((c) => `# root\t${c}`),
    ...[...lock.provided].sort().map((c) => `# provided\t${c}`),
    ...[...lock.artifacts].sort((a, b) => (a.set + a.coordinate).localeCompare(b.set + b.coordinate)).map((a) => `${a.set}\t${a.coordinate}\t${a.sha256}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The path of a coordinate's jar in a Maven repository layout (`org/apache/kafka/kafka_2.13/4.3.1/kafka_2.13-4.3.1.jar`). */
export function repositoryPath(coordinate: string): string {
  const [group, artifact, version, classifier] = coordinate.split(':') as [string, string, string, string | undefined];
  return `${group.replaceAll('.', '/')}/${artifact}/${version}/${artifact}-${version}${classifier ? `-${classifier}` : ''}.jar`;
}

/** `group:artifact` of a coordinate, to compare artifacts whatever their version. */
export function artifactKey(coordinate: string): string {
  return coordinate.split(':').slice(0, 2).join(':');
}
