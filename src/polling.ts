/**
 * The settings of the engine's polling ({@link configurePolling}); the mechanism is
 * engine/poll.ts, and its design notes say why it pays.
 */
import { engine } from './engine/queue';
import { invalidArgType, outOfRange } from './errors';

/** The polling settings, as {@link configurePolling} takes and returns them. */
export interface PollSettings {
  /**
   * Microseconds the event loop keeps polling after each dispatch or completion while
   * calls are in the thread pool, instead of sleeping until a worker wakes it; 0 turns
   * polling off.
   * @default 200 (0 under io_uring, UV_USE_IO_URING=1)
   */
  windowMicros: number;
  /**
   * Polling pauses while more than this many bytes are in the thread pool (large
   * transfers, where waking up is a small part of the wait); Infinity polls whatever
   * the size.
   * @default 262144 (256 KiB)
   */
  maxBytes: number;
}

/** Longest polling window: a second of spinning per event is never what anyone wants. */
export const MAX_POLL_WINDOW_MICROS = 1_000_000;

/**
 * Sets how long the event loop polls for thread-pool completions instead of sleeping,
 * and reports the settings.
 *
 * @param options - `windowMicros`: a number from 0 to 1,000,000 (0 turns polling
 * off). `maxBytes`: an integer >= 0, or Infinity. Omitted fields keep their value.
 * @returns the settings now in force.
 *
 * Errors:
 * - TypeError (ERR_INVALID_ARG_TYPE) when `options` is not an object, or a field is
 *   not a number.
 * - RangeError (ERR_OUT_OF_RANGE) when a field breaks its rule; nothing is changed then.
 *
 * Notes: libuv reports a finished thread-pool call by waking the event loop, and a
 * sleeping loop takes 30-50 us to wake on a small VM, longer than a 4 KiB read from
 * the page cache. While calls of at most `maxBytes` in all are in the thread pool,
 * the engine keeps one setImmediate pending so that the loop polls instead of
 * sleeping, for `windowMicros` after each dispatch or completion: at depth 1, 4 KiB
 * reads through aio_read ran 1.4-1.7x raw `fs.read` with it and 0.75x without (README, performance).
 * The price is CPU: the event loop's thread runs flat out while such I/O is
 * outstanding, and a slow device costs at most one window of spinning per event
 * before the loop sleeps as usual. Polling never changes what completes or in
 * which order, and it never keeps the process alive (it stops when nothing is in
 * the thread pool). Nor does it poll with more calls in the pool than libuv has
 * threads: completions then come back to back anyway, and the workers need the CPU.
 * Under io_uring (UV_USE_IO_URING=1) the default is 0: a read from the page cache
 * completes while it is submitted, leaving no wake-up to save, and polling slowed
 * 4 KiB writes by 20-50% there. The settings are process-wide and apply from the
 * next event.
 *
 * @example
 * configurePolling({ windowMicros: 0 }); // never poll: sleep until libuv wakes the loop
 * configurePolling({ windowMicros: 1000, maxBytes: Infinity }); // a slower device, any size
 */
export function configurePolling(options: Partial<PollSettings> = {}): PollSettings {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const { windowMicros, maxBytes } = options;
  if (windowMicros !== undefined) {
    if (typeof windowMicros !== 'number') throw invalidArgType('options.windowMicros', 'of type number', windowMicros);
    if (!(windowMicros >= 0 && windowMicros <= MAX_POLL_WINDOW_MICROS)) {
      throw outOfRange('options.windowMicros', `a number >= 0 && <= ${MAX_POLL_WINDOW_MICROS}`, windowMicros);
    }
  }
  if (maxBytes !== undefined) {
    if (typeof maxBytes !== 'number') throw invalidArgType('options.maxBytes', 'of type number', maxBytes);
    if (maxBytes !== Infinity && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) throw outOfRange('options.maxBytes', 'an integer >= 0, or Infinity', maxBytes);
  }
  const eng = engine();
  if (windowMicros !== undefined) eng.pollWindowMicros = windowMicros;
  if (maxBytes !== undefined) eng.pollMaxBytes = maxBytes;
  return { windowMicros: eng.pollWindowMicros, maxBytes: eng.pollMaxBytes };
}
