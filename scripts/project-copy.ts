import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root. */
export const PROJECT_ROOT = join(__dirname, '..');

/**
 * Copies the project's source files (what Git tracks or would track, as they are in the working tree)
 * to `destination`, and links node_modules, so that a synth can run there without touching this checkout.
 */
export function copyProject(destination: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(PROJECT_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(destination, file)), { recursive: true });
    cpSync(join(PROJECT_ROOT, file), join(destination, file));
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(destination, 'node_modules'), 'dir');
}
