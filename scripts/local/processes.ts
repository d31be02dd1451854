/**
 * The local engines are ordinary processes: started detached in a process group of their own (so that `local down`, or a
 * test's teardown, stops a JVM and everything it forked), with their output in a log file beside their data.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts `command` detached, output appended to `logFile`; returns its pid (also the process group's id). */
export function startDetached(command: string, args: readonly string[], options: { readonly cwd: string; readonly logFile: string; readonly env?: NodeJS.ProcessEnv }): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Whether a process (group leader) is still running. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group: SIGTERM for a clean shutdown, SIGKILL after `graceMs`. */
export async function stopGroup(pid: number, graceMs = 20_000): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  for (const deadline = Date.now() + graceMs; Date.now() < deadline; await sleep(200)) if (!isRunning(pid)) return;
  signal('SIGKILL');
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(100)) if (!isRunning(pid)) return;
}

/** Polls `ready` until it returns true; fails with the log's tail if the process dies or `timeoutMs` passes. */
export async function waitUntil(what: string, ready: () => Promise<boolean>, options: { readonly pid: number; readonly logFile: string; readonly timeoutMs: number }): Promise<void> {
  for (const deadline = Date.now() + options.timeoutMs; ; await sleep(500)) {
    if (await ready().catch(() => false)) return;
    const logTail = () => (existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '(no log)');
    if (!isRunning(options.pid)) throw new Error(`${what} stopped while starting; the end of ${options.logFile}:\n${logTail()}`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${options.timeoutMs / 1000} s; the end of ${options.logFile}:\n${logTail()}`);
  }
}
