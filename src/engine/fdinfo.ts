/**
 * Descriptor facts Node does not expose directly: is the descriptor seekable, is it
 * open with O_APPEND, which file is it. Seekability and identity come from fstat;
 * the open flags from /proc/self/fdinfo on Linux. Where the flags are unknown,
 * every write is ordered (the safe fallback SPEC §2 names).
 *
 * Everything here goes through the backend, so only dispatch.ts touches node:fs.
 */
import { errnoOf } from '../errors';
import type { FsBackend } from './dispatch';
import { O_APPEND } from './dispatch';

/** What the engine knows about one open descriptor. */
export interface FdFacts {
  readonly dev: number;
  readonly ino: number;
  readonly seekable: boolean;
}

/**
 * fstat `fd` through the backend.
 *
 * @returns the facts, or the positive errno fstat failed with (EBADF for a
 * descriptor that is not open).
 */
export function statFd(backend: FsBackend, fd: number): FdFacts | number {
  try {
    return backend.fstat(fd);
  } catch (err) {
    return errnoOf(err as NodeJS.ErrnoException);
  }
}

/**
 * Whether writes on `fd` must be kept in submission order whatever their positions:
 * true for O_APPEND descriptors (Linux ignores the position) and when the flags
 * cannot be read.
 */
export function writesAppend(backend: FsBackend, fd: number): boolean {
  let flags: number | null;
  try {
    flags = backend.fdflags(fd);
  } catch {
    flags = null;
  }
  return flags === null || (flags & O_APPEND) !== 0;
}
