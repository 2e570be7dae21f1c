/**
 * Real files for integration tests: a temp directory per test file, FIFOs, and the
 * descriptors to go with them. Everything opened here is closed by `cleanup()`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const opened: number[] = [];
let dir: string | null = null;

/** The temp directory of this test file. */
export function tmpDir(): string {
  return (dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-test-')));
}

let counter = 0;

/** A new file path in the temp directory. */
export function tmpPath(name = 'file'): string {
  return path.join(tmpDir(), `${name}-${process.pid}-${++counter}`);
}

/** Creates a file with `content` and opens it with `flags` (default 'r+'). */
export function tmpFile(content: string | Uint8Array = '', flags: string | number = 'r+'): { path: string; fd: number } {
  const p = tmpPath();
  fs.writeFileSync(p, content);
  const fd = track(fs.openSync(p, flags));
  return { path: p, fd };
}

/** Remembers `fd` so that cleanup() closes it. */
export function track(fd: number): number {
  opened.push(fd);
  return fd;
}

/**
 * A FIFO opened O_RDWR twice (open never blocks that way on Linux): `fd` is the one
 * under test; `peer` reads what was written and writes what `fd` should read.
 * A read on `fd` blocks in the thread pool until `peer` writes.
 */
export function fifo(): { path: string; fd: number; peer: number } {
  const p = tmpPath('fifo');
  execFileSync('mkfifo', [p]);
  return { path: p, fd: track(fs.openSync(p, 'r+')), peer: track(fs.openSync(p, 'r+')) };
}

/** Forgets `fd` (a test that closed it itself): cleanup() must not close a number someone else may hold by then. */
export function untrack(fd: number): void {
  const i = opened.indexOf(fd);
  if (i >= 0) opened.splice(i, 1);
}

/** Closes everything opened here (ignoring descriptors already closed) and removes the temp directory. */
export function cleanup(): void {
  for (const fd of opened.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed (aio_close, or a test that closed it on purpose).
    }
  }
  if (dir !== null) {
    fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  }
}
