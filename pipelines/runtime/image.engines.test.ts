/**
 * The pipeline image's jar step on the real jars: fetch_jars.py, as the Dockerfile runs it, fetches from a Maven
 * repository (here the toolchain's own cache, which holds the same files in the same layout) exactly the jars the local
 * Spark of the engine tests runs with, each checked against the lock file's SHA-256, and refuses a jar that differs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { runCommand } from '../../scripts/run-command';
import { installedToolchain } from '../../scripts/toolchain/toolchain';

const toolchain = await installedToolchain();
const work = mkdtempSync(join(tmpdir(), 'driftless-image-jars-'));
const lockFile = join(__dirname, 'jars.lock.tsv');
const repository = pathToFileURL(join(toolchain.cacheDir, 'maven')).href;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

afterAll(() => rmSync(work, { recursive: true, force: true }));

const fetchJars = (lock: string, target: string) => runCommand(toolchain.python, [join(__dirname, 'fetch_jars.py'), lock, repository, target], { cwd: work });

it("fetches the local engines' Spark jars, each matching the lock file", async () => {
  const target = join(work, 'jars');
  const result = await fetchJars(lockFile, target);
  expect(result.code, result.stderr).toBe(0);
  const local = toolchain.jars('spark');
  expect(readdirSync(target).sort()).toEqual(local.map((jar) => basename(jar)).sort());
  for (const jar of local) expect(sha256(join(target, basename(jar))), basename(jar)).toBe(sha256(jar));
});

it('stops the build on a jar whose checksum differs, naming it, and leaves nothing of it behind', async () => {
  const lines = readFileSync(lockFile, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.startsWith('spark\t'));
  const [, coordinate] = lines[index]!.split('\t');
  lines[index] = `spark\t${coordinate}\t${'0'.repeat(64)}`;
  const tampered = join(work, 'tampered.tsv');
  writeFileSync(tampered, lines.join('\n'));
  const target = join(work, 'tampered-jars');
  const result = await fetchJars(tampered, target);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toMatch(new RegExp(`^fetch_jars: ${coordinate!.replaceAll('.', '\\.')} from .* has sha256 [0-9a-f]{64}, the lock file says 0{64}$`));
  expect(readdirSync(target)).toEqual([]);
});
