/**
 * Spawning the CLI and the bench from source, as a user would run them, without
 * depending on dist/: `node --import tsx cli/main.ts ...`.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** At most this many children at once: the machine has few cores, and each child starts tsx. */
const MAX_CHILDREN = 3;
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Runs `script` (relative to the repository root) with `args`; stdout and stderr are
 * pipes. Children beyond {@link MAX_CHILDREN} wait their turn, in call order.
 */
export function runScript(script: string, args: readonly string[], timeoutMs = 30000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return slot(() => spawnOnce(script, args, timeoutMs, env));
}

function spawnOnce(script: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the `posix-aio` command. */
export function runCli(args: readonly string[], timeoutMs = 30000): Promise<Run> {
  return runScript('cli/main.ts', args, timeoutMs);
}
