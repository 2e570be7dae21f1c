/**
 * Polling (engine/poll.ts) on real files: the same bytes, results and exactly-once
 * completions with polling off, at its defaults and polling for everything; and no
 * immediate is left pending once nothing is in the thread pool, so polling never
 * keeps a process alive.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { AioControlBlock, aio_error, aio_read, aio_return, aio_suspend, configurePolling, EINPROGRESS, promises, SIGEV_THREAD } from '../../src/index';
import { cleanup, tmpFile } from '../helpers/files';
import { flush, mustCall } from '../helpers/mustcall';

const BS = 4096;
const BLOCKS = 64;

afterEach(() => {
  configurePolling({ windowMicros: DEFAULTS.pollWindowMicros, maxBytes: DEFAULTS.pollMaxBytes });
  cleanup();
});

/** Whether an immediate (ours or anyone's) is pending. */
function immediatePending(): boolean {
  return process.getActiveResourcesInfo().includes('Immediate');
}

const SETTINGS = [
  ['off', { windowMicros: 0 }],
  ['default', { windowMicros: DEFAULTS.pollWindowMicros, maxBytes: DEFAULTS.pollMaxBytes }],
  ['everything', { windowMicros: 1000, maxBytes: Infinity }],
] as const;

describe.each(SETTINGS)('polling %s', (_name, settings) => {
  beforeEach(() => {
    configurePolling(settings);
  });

  test('aio_read at depth 1 and 4 reads every block once, each completion once', async () => {
    const content = randomBytes(BS * BLOCKS);
    const { fd } = tmpFile(content);
    for (const depth of [1, 4]) {
      const seen = new Array<number>(BLOCKS).fill(0);
      for (let first = 0; first < BLOCKS; first += depth) {
        const cbs = Array.from({ length: depth }, (_, i) => {
          const block = first + i;
          return new AioControlBlock({
            aio_fildes: fd,
            aio_buf: Buffer.alloc(BS),
            aio_nbytes: BS,
            aio_offset: block * BS,
            aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustCall(() => seen[block]!++) },
          });
        });
        for (const cb of cbs) expect(aio_read(cb)).toBe(0);
        // aio_suspend returns at once while any listed block is complete: list only those in progress.
        for (let left = cbs; left.length > 0; left = left.filter((cb) => aio_error(cb) === EINPROGRESS)) {
          expect(await aio_suspend(left, left.length, null)).toBe(0);
        }
        for (const [i, cb] of cbs.entries()) {
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(BS);
          expect((cb.aio_buf as Buffer).equals(content.subarray((first + i) * BS, (first + i + 1) * BS))).toBe(true);
        }
      }
      // Notifications run on later turns: wait for the last of them.
      while (seen.some((n) => n === 0)) await flush(1);
      expect(seen).toEqual(new Array<number>(BLOCKS).fill(1));
    }
  });

  test('the Promise face reads sequentially into one buffer, and nothing stays scheduled afterwards', async () => {
    const content = randomBytes(BS * BLOCKS);
    const { fd } = tmpFile(content);
    const into = Buffer.alloc(content.length);
    const results = await Promise.all(
      Array.from({ length: BLOCKS }, (_, i) => promises.read(fd, into.subarray(i * BS, (i + 1) * BS), { position: i * BS })),
    );
    expect(results.map((r) => r.bytesRead)).toEqual(new Array<number>(BLOCKS).fill(BS));
    expect(into.equals(content)).toBe(true);
    expect(engine().counters.inFlight).toBe(0);
    // The poll turn that finds the pool empty ends polling; the engine's own hold and
    // notification immediates end in the same turns.
    for (let i = 0; i < 3 && immediatePending(); i++) await flush(1);
    expect(engine().polling).toBe(false);
    expect(immediatePending()).toBe(false);
  });
});
