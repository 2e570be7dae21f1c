/**
 * Polling the event loop while thread-pool calls are about to complete (the engine's
 * "hybrid polling", as the block layer polls a fast device instead of sleeping on
 * its interrupt).
 *
 * libuv hands a finished thread-pool call back through an eventfd the event loop
 * watches in its poll phase. When the loop has nothing else to do it sleeps there,
 * and the worker's write must wake it: on this kind of machine (a 2-vCPU VM) that
 * wake-up costs 30-50 us, more than a 4 KiB read itself (raw `fs.read` at depth 1:
 * a 68 us round trip sleeping, 18.5 us with the loop kept awake). While the engine
 * has calls in the pool, a {@link Poller} keeps one setImmediate pending, so the
 * loop polls without sleeping and picks the completion up within one turn.
 *
 * Invariants:
 * - It polls only while `busy()` (Engine: calls in the thread pool, no more than it
 *   has threads, of at most pollMaxBytes in all) and only for `windowUs`
 *   microseconds after the last {@link Poller.kick} (a dispatch or a completion):
 *   a slow device (a disk, a network file system) is polled for one window after
 *   each event and then waited for asleep, so the CPU spent on polling is bounded
 *   by the window per event, never by the length of the I/O.
 * - Its immediate never keeps the process alive on its own: it is scheduled only
 *   while calls are in the pool (which keep the loop alive anyway) and it stops
 *   at the first turn that finds none.
 * - `windowUs = 0` turns it off: no immediate is ever scheduled.
 * - It never changes what completes or in which order: it only decides whether
 *   the loop sleeps between turns.
 * - When it stops because the window passed without an event while calls are still
 *   in the pool (a slow device), it tells {@link Poller.onExpire}: the engine then
 *   stops holding groups back for a quick hand-over (queue.ts, "streams").
 */
import { performance } from 'node:perf_hooks';

/** Turns in a row without an event after which polling stops, whatever the clock says (a clock that stands still). */
export const MAX_IDLE_TURNS = 100_000;

/**
 * Keeps one setImmediate pending while `busy()` holds and less than `windowUs` has
 * passed since the last {@link Poller.kick}, so that the event loop polls instead of
 * sleeping (see the notes above). One per engine.
 */
export class Poller {
  /** Microseconds polled after each event; 0 = never poll. */
  windowUs: number;
  readonly #busy: () => boolean;
  readonly #now: () => number;
  #scheduled = false;
  /** Events counted by kick(); compared by each turn to see whether one came. */
  #events = 0;
  #seen = 0;
  /** When the last event was seen, performance.now() milliseconds. */
  #lastAt = 0;
  #idleTurns = 0;
  /** Called when polling stops for want of events while `busy()` still holds. */
  onExpire: (() => void) | null = null;

  /**
   * @param busy - whether there is something to poll for (calls in the thread pool).
   * @param windowUs - microseconds polled after each event; 0 = never.
   * @param now - the clock, in milliseconds (tests pass their own).
   */
  constructor(busy: () => boolean, windowUs: number, now: () => number = () => performance.now()) {
    this.#busy = busy;
    this.windowUs = windowUs;
    this.#now = now;
  }

  /** Whether a poll immediate is pending. */
  get polling(): boolean {
    return this.#scheduled;
  }

  /** Records an event (a dispatch or a completion) and starts polling if it is not already and there is something to poll for. */
  kick(): void {
    this.#events++;
    if (this.#scheduled || this.windowUs <= 0 || !this.#busy()) return;
    this.#scheduled = true;
    this.#seen = this.#events;
    this.#lastAt = this.#now();
    this.#idleTurns = 0;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    if (!this.#busy() || this.windowUs <= 0) {
      this.#scheduled = false;
      return;
    }
    const now = this.#now();
    if (this.#events !== this.#seen) {
      this.#seen = this.#events;
      this.#lastAt = now;
      this.#idleTurns = 0;
    } else if ((now - this.#lastAt) * 1000 >= this.windowUs || ++this.#idleTurns >= MAX_IDLE_TURNS) {
      this.#scheduled = false;
      this.onExpire?.();
      return;
    }
    setImmediate(this.#turn);
  };
}
