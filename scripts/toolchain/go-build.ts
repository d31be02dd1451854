/**
 * Tools built with Go from the Go module proxy into the cache: OpenTofu and the providers (iac.ts), Helm and the Pod
 * Security evaluator (kube-tools.ts).
 *
 * Each tool is a small wrapper module in `scripts/toolchain/go/<tool>/`. Its go.mod names the tool's module at one
 * version and its go.sum pins every module of the build by checksum, so the build downloads nothing unverified (the
 * checksum database is not reachable from the CI machines; go.sum is the pin). A wrapper module whose `tools.go`
 * imports a command builds that command; one with its own `main.go` builds itself. A wrapper is needed because a
 * `replace` directive only applies in the main module (OpenTofu's own go.mod has one, which ours repeats).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../command-line';
import { runCommand, tail } from '../run-command';

/** Where the wrapper modules are, relative to the project root. */
export const GO_MODULES_DIR = 'scripts/toolchain/go';

/** The Go the tools are built with. */
export interface Go {
  readonly binary: string;
  readonly version: string;
}

/** Go 1.26 or newer, or a one-line error that says what to install. */
export async function requireGo(root: string): Promise<Go> {
  const binary = process.env['DRIFTLESS_GO'] ?? 'go';
  const result = await runCommand(binary, ['env', 'GOVERSION'], { cwd: root, env: { ...process.env, GOTOOLCHAIN: 'local' } });
  const version = result.stdout.trim();
  const [, major, minor] = /^go(\d+)\.(\d+)/.exec(version) ?? [];
  if (result.code !== 0 || !(Number(major) === 1 && Number(minor) >= 26)) {
    throw new UsageError(
      `the Go-built tools (OpenTofu, the providers, Helm, the Pod Security evaluator) need Go 1.26 or newer, found ${result.code === 0 ? version : `no '${binary}'`}: install Go 1.26+ and put go on PATH (or set DRIFTLESS_GO)`,
    );
  }
  return { binary, version };
}

/**
 * Builds the wrapper module `tool` into `target` unless the binary there was built from the same files with the same
 * Go (a marker beside it records that). Returns whether it built.
 */
export async function buildGoTool(go: Go, cache: string, root: string, tool: string, target: string, log: (line: string) => void, hint = ''): Promise<boolean> {
  const digest = moduleDigest(root, tool, go.version);
  const marker = `${target}.driftless-installed`;
  if (existsSync(target) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === digest) return false;
  const started = Date.now();
  log(`building ${tool} from ${GO_MODULES_DIR}/${tool} with ${go.version}${hint}`);
  await goBuild(go.binary, cache, join(root, GO_MODULES_DIR, tool), target);
  writeFileSync(marker, `${digest}\n`);
  log(`built ${tool} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return true;
}

/** Digest of what decides a build: the wrapper module's files and the Go version. */
function moduleDigest(root: string, tool: string, goVersion: string): string {
  const hash = createHash('sha256').update(goVersion);
  const dir = join(root, GO_MODULES_DIR, tool);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex');
}

async function goBuild(go: string, cache: string, moduleDir: string, target: string): Promise<void> {
  const toolsFile = join(moduleDir, 'tools.go');
  const pkg = existsSync(toolsFile) ? /import _ "([^"]+)"/.exec(readFileSync(toolsFile, 'utf8'))?.[1] : '.';
  if (pkg === undefined) throw new Error(`${toolsFile} imports no package to build`);
  mkdirSync(join(target, '..'), { recursive: true });
  const env = {
    ...process.env,
    GOMODCACHE: join(cache, 'go', 'mod'),
    GOCACHE: join(cache, 'go', 'build'),
    // go.sum is the pin: a module it does not list is an error, and the checksum database is not reachable.
    GOFLAGS: '-mod=readonly',
    GOSUMDB: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  // -trimpath and no VCS stamp: the same sources give the same binary on every machine.
  const result = await runCommand(go, ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', `${target}.partial`, pkg], { cwd: moduleDir, env });
  if (result.code !== 0) {
    rmSync(`${target}.partial`, { force: true });
    throw new Error(`go build of ${pkg} in ${moduleDir} failed (exit ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
  }
  renameSync(`${target}.partial`, target);
}
