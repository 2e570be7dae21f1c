/**
 * What the POSIX man-page tests share: waiting for blocks, asserting C-style
 * failures, and installing a held backend for one test at a time.
 */
import { EINPROGRESS, EINVAL, aio_error, aio_suspend, errno, lastError, type Aiocb } from '../../src/index';
import { engine } from '../../src/engine/queue';
import type { HeldBackend } from './held-backend';
import { flush } from './mustcall';

/** Waits until every listed block is no longer in progress. */
export async function settle(...cbs: Aiocb[]): Promise<void> {
  for (const cb of cbs) {
    while (aio_error(cb) === EINPROGRESS) expect(await aio_suspend([cb], 1)).toBe(0);
  }
}

/** Asserts that a call returned -1 with errno `code`, and that lastError() names `field`. */
export function expectFailure(rc: number, code: number, field?: string): void {
  expect(rc).toBe(-1);
  expect(errno()).toBe(code);
  const err = lastError();
  expect(err).toBeInstanceOf(Error);
  expect((err as NodeJS.ErrnoException).errno).toBe(code);
  if (field !== undefined) expect(err?.message).toContain(field);
}

/** Asserts aio_error(cb) is -1/EINVAL: the block never carried an accepted request. */
export function expectNeverSubmitted(cb: Aiocb): void {
  expect(aio_error(cb)).toBe(-1);
  expect(errno()).toBe(EINVAL);
}

let current: { held: HeldBackend; restore: () => void } | null = null;

/** Installs a held backend on the process engine with in-flight cap `cap`; {@link dropHeld} undoes it. */
export function hold(cap: number, held: HeldBackend): HeldBackend {
  current = { held, restore: held.use(cap) };
  return held;
}

/** Releases everything the held backend holds, waits for the engine to drain, and restores the real backend. */
export async function dropHeld(): Promise<void> {
  if (current === null) return;
  const { held, restore } = current;
  current = null;
  held.autoRelease = 0;
  for (let i = 0; i < 50 && engine().outstanding > 0; i++) {
    held.releaseAll();
    await flush();
  }
  restore();
  await flush();
}

/** What {@link settledNow} answers for a Promise still pending. */
export const PENDING = Symbol('pending');

/** What `p` has settled to by the next event-loop turn, or PENDING. */
export function settledNow<T>(p: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([p, new Promise<typeof PENDING>((resolve) => setImmediate(() => resolve(PENDING)))]);
}
