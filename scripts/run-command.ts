/**
 * Runs a child process to completion and keeps what it printed: the review, plan and drift scripts judge
 * the exit code themselves (terraform's 2 means "changes", not failure), so nothing here throws on it.
 */
import { spawn } from 'node:child_process';

/** What a finished command printed, and how it ended. */
export interface CommandResult {
  /** Exit code; null when the process could not start or was killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why the process could not start (ENOENT: not found) or was stopped (AbortError), if so. */
  readonly startError?: NodeJS.ErrnoException;
}

/** Runs `command` with `args` (no shell), `input` on its stdin if given; resolves when it exits, whatever the exit code. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly signal?: AbortSignal; readonly input?: string },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const base = { cwd: options.cwd, env: options.env ?? process.env, ...(options.signal === undefined ? {} : { signal: options.signal }) };
    const child =
      options.input === undefined ? spawn(command, args, { ...base, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(command, args, { ...base, stdio: ['pipe', 'pipe', 'pipe'] });
    // A child that exits before reading all of its input closes the pipe: its exit code says what happened.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let startError: NodeJS.ErrnoException | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      startError = error;
    });
    child.on('close', (code) => {
      const result = { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      resolve(startError === undefined ? result : { ...result, startError });
    });
  });
}

/** The last `count` non-empty lines of `text`, for error messages that must stay readable. */
export function tail(text: string, count = 20): string {
  const lines = text.trimEnd().split('\n');
  const kept = lines.slice(-count);
  return (lines.length > count ? [`… (${lines.length - count} earlier lines)`, ...kept] : kept).join('\n');
}
