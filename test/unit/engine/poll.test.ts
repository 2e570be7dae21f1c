/**
 * The Poller (engine/poll.ts): while there is something to poll for, one setImmediate
 * stays pending so the event loop never sleeps; it stops a window after the last
 * event, at the first turn with nothing in the pool, after MAX_IDLE_TURNS turns on a
 * clock that stands still, and never starts with a window of 0. Time is a fake clock,
 * so nothing here depends on the machine's speed.
 */
import { MAX_IDLE_TURNS, Poller } from '../../../src/engine/poll';
import { DEFAULTS, Engine, IO_URING, threadPoolSize } from '../../../src/engine/queue';
import { OP_READ, Request } from '../../../src/engine/request';
import { HeldBackend } from '../../helpers/held-backend';
import { flush, mustCall } from '../../helpers/mustcall';

/** A poller over a fake clock (ms) that counts its `busy()` checks: one by the kick that schedules, then one per turn. */
function make(windowUs: number) {
  const state = { busy: true, clock: 0, turns: 0 };
  const poller = new Poller(
    () => {
      state.turns++;
      return state.busy;
    },
    windowUs,
    () => state.clock,
  );
  return { poller, state };
}

describe('Poller', () => {
  test('a window of 0 never schedules anything', async () => {
    const { poller, state } = make(0);
    poller.kick();
    expect(poller.polling).toBe(false);
    await flush(1);
    await flush(1);
    expect(state.turns).toBe(0);
  });

  test('polls once per turn while busy and within the window, and only one immediate at a time', async () => {
    const { poller, state } = make(200);
    poller.kick();
    poller.kick();
    poller.kick();
    expect(poller.polling).toBe(true);
    expect(state.turns).toBe(1); // the first kick's check; the others found it scheduled
    for (let i = 1; i <= 10; i++) {
      await flush(1);
      // One poll turn per event-loop turn, however many kicks came.
      expect(state.turns).toBe(1 + i);
      expect(poller.polling).toBe(true);
    }
  });

  test('stops once the window has passed without an event', async () => {
    const { poller, state } = make(200);
    poller.kick();
    await flush(1);
    state.clock += 0.199; // 199 us: still inside the window
    await flush(1);
    expect(poller.polling).toBe(true);
    state.clock += 0.001; // 200 us since the kick
    await flush(1);
    expect(poller.polling).toBe(false);
    const turns = state.turns;
    await flush(1);
    await flush(1);
    expect(state.turns).toBe(turns);
  });

  test('onExpire is told when the window passes while still busy, not when the pool empties or polling is off', async () => {
    const { poller, state } = make(200);
    const expired = mustCall(() => {});
    poller.onExpire = expired;
    poller.kick();
    await flush(1);
    state.clock += 0.2;
    await flush(1);
    expect(poller.polling).toBe(false);
    expect(expired.calls).toBe(1);
    // The pool empties: polling stops without telling.
    poller.kick();
    state.busy = false;
    await flush(2);
    expect(poller.polling).toBe(false);
    // Window 0: nothing scheduled, nothing told.
    state.busy = true;
    poller.windowUs = 0;
    poller.kick();
    await flush(2);
    expect(expired.calls).toBe(1);
  });

  test('every event restarts the window', async () => {
    const { poller, state } = make(200);
    poller.kick();
    for (let i = 0; i < 20; i++) {
      state.clock += 0.15; // 150 us between events, 3 ms in all: never a whole window without one
      poller.kick();
      await flush(1);
      expect(poller.polling).toBe(true);
    }
    state.clock += 0.2;
    await flush(1);
    expect(poller.polling).toBe(false);
  });

  test('a kick with nothing to poll for schedules nothing', async () => {
    const { poller, state } = make(200);
    state.busy = false;
    poller.kick();
    expect(poller.polling).toBe(false);
    await flush(1);
    expect(state.turns).toBe(1);
  });

  test('stops at the first turn with nothing to poll for, and starts again at the next kick', async () => {
    const { poller, state } = make(200);
    poller.kick();
    await flush(1);
    expect(poller.polling).toBe(true);
    state.busy = false;
    await flush(1);
    expect(poller.polling).toBe(false);
    state.busy = true;
    poller.kick();
    expect(poller.polling).toBe(true);
    await flush(1);
    expect(poller.polling).toBe(true);
    state.busy = false;
    await flush(1);
    expect(poller.polling).toBe(false);
  });

  test('turning the window to 0 stops it at the next turn', async () => {
    const { poller } = make(200);
    poller.kick();
    await flush(1);
    poller.windowUs = 0;
    await flush(1);
    expect(poller.polling).toBe(false);
  });

  test('a clock that stands still cannot keep it polling forever', async () => {
    const { poller, state } = make(200);
    poller.kick();
    while (poller.polling && state.turns <= MAX_IDLE_TURNS + 1) await flush(1);
    expect(poller.polling).toBe(false);
    // The kick's own check, then MAX_IDLE_TURNS idle turns (the kick counts as seen when it schedules).
    expect(state.turns).toBe(1 + MAX_IDLE_TURNS);
  }, 30_000);
});

describe('Engine: polling while calls are in the thread pool', () => {
  let eng: Engine;
  let held: HeldBackend;

  beforeEach(() => {
    eng = new Engine();
    // Polling is on by default, except under io_uring: on here whatever the environment.
    eng.pollWindowMicros = 200;
    held = new HeldBackend().open(10);
    held.use(threadPoolSize() + 1, eng);
  });

  afterEach(async () => {
    held.autoRelease = 0;
    while (eng.outstanding > 0 || eng.polling) {
      held.releaseAll();
      await flush(1);
    }
  });

  function read(len = 4096, pos = 0): void {
    const req = new Request(OP_READ, 10, pos, new Uint8Array(len), null, len, 0, mustCall(), null);
    const lane = eng.laneFor(10);
    if (typeof lane === 'number') throw new Error('fd 10 not open');
    eng.submit(req, lane);
  }

  test('defaults: 200 us (0 under io_uring), for up to 256 KiB in the pool', () => {
    expect(new Engine().pollWindowMicros).toBe(DEFAULTS.pollWindowMicros);
    expect(DEFAULTS.pollWindowMicros).toBe(IO_URING ? 0 : 200);
    expect(eng.pollMaxBytes).toBe(256 * 1024);
  });

  test('a dispatch starts polling; the first turn with nothing in the pool ends it', async () => {
    expect(eng.polling).toBe(false);
    read();
    expect(eng.counters.inFlight).toBe(1);
    expect(eng.polling).toBe(true);
    held.releaseAll();
    // The completion arrives (nextTick), kicks, and the next turn finds the pool empty.
    while (eng.counters.inFlight > 0) await flush(1);
    await flush(1);
    await flush(1);
    expect(eng.polling).toBe(false);
  });

  test('a call that never completes is polled for one window, then waited for asleep', async () => {
    read();
    let turns = 0;
    while (eng.polling && turns < 1_000_000) {
      await flush(1);
      turns++;
    }
    expect(eng.polling).toBe(false);
    expect(eng.counters.inFlight).toBe(1);
  }, 30_000);

  test('window 0: never polls', async () => {
    eng.pollWindowMicros = 0;
    read();
    expect(eng.counters.inFlight).toBe(1);
    expect(eng.polling).toBe(false);
  });

  test('more calls in the pool than libuv has threads: polling stops at its next turn', async () => {
    const threads = threadPoolSize();
    // Far apart, so that nothing merges: one call each.
    for (let i = 0; i < threads; i++) read(4096, i * 65536);
    expect(eng.counters.inFlight).toBe(threads);
    await flush(1);
    expect(eng.polling).toBe(true);
    read(4096, threads * 65536);
    expect(eng.counters.inFlight).toBe(threads + 1);
    await flush(1);
    expect(eng.polling).toBe(false);
  });

  test('more than pollMaxBytes in the pool: polling stops at its next turn', async () => {
    eng.pollMaxBytes = 8192;
    read(4096, 0);
    read(4096, 65536);
    expect(eng.polling).toBe(true);
    await flush(1);
    expect(eng.polling).toBe(true);
    read(4096, 131072); // 12 KiB in the pool now
    await flush(1);
    expect(eng.polling).toBe(false);
  });
});
