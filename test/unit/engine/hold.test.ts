/**
 * Dispatch held behind completions (engine/queue.ts design notes): from the first
 * thread-pool completion of an event-loop turn until its check phase, and while
 * deferred notifications run, new and freed work waits and then goes out in one
 * burst. Observed through the engine's counters, which (unlike the held backend's
 * `pending` and `log`) never end a hold.
 */
import { constants as osConstants } from 'node:os';
import { CANCELED, Engine, NOT_CANCELED, PLUG_FLUSH } from '../../../src/engine/queue';
import { OP_READ, Request } from '../../../src/engine/request';
import { HeldBackend } from '../../helpers/held-backend';
import { flush, mustCall } from '../../helpers/mustcall';

const { ECANCELED } = osConstants.errno;

let eng: Engine;
let held: HeldBackend;

beforeEach(() => {
  eng = new Engine();
  held = new HeldBackend().open(10).open(20, { seekable: false });
  held.use(4, eng);
});

afterEach(() => {
  held.autoRelease = 0;
  held.releaseAll();
});

/** Releases everything until nothing is left, so every done hook has run before the test ends. */
async function drain(): Promise<void> {
  while (held.pending.length > 0) {
    held.releaseAll();
    await flush(2);
  }
}

/** Submits a 4 KiB read at `pos` on `fd`; `then` runs in its done hook (exactly once). */
function read(fd: number, pos: number, then: (r: Request) => void = () => {}): Request {
  const req = new Request(OP_READ, fd, pos, new Uint8Array(4096), null, 4096, 0, mustCall(then), null);
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') throw new Error(`fd ${fd} not open`);
  eng.submit(req, lane);
  return req;
}

/** Lets the completions the held backend scheduled (process.nextTick) reach the engine. */
function ticks(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

/** The engine's view, which reading does not disturb. */
function state(): { inFlight: number; queued: number } {
  const { inFlight, queued } = eng.counters;
  return { inFlight, queued };
}

describe('Engine: dispatch held behind completions', () => {
  test('outside a completion, a request is in the thread pool when submit returns', async () => {
    read(10, 0);
    expect(state()).toEqual({ inFlight: 1, queued: 0 });
    await drain();
  });

  test('resubmissions made by completion callbacks wait for the check phase, then go out together', async () => {
    for (let i = 0; i < 4; i++) read(10, i * 65536, () => read(10, i * 65536 + 32768));
    expect(state()).toEqual({ inFlight: 4, queued: 0 });
    for (let i = 0; i < 4; i++) held.releaseNext();
    await ticks();
    // All four completed and resubmitted; the cap allows four, yet nothing went out.
    expect(state()).toEqual({ inFlight: 0, queued: 4 });
    await flush(1);
    expect(state()).toEqual({ inFlight: 4, queued: 0 });
    expect(held.log.map((o) => o.position)).toEqual([0, 65536, 131072, 196608, 32768, 98304, 163840, 229376]);
    await drain();
  });

  test('resubmissions that continue one another during the hold share one system call', async () => {
    for (let i = 0; i < 4; i++) read(10, 1_000_000 + i * 8192, () => read(10, i * 4096));
    for (let i = 0; i < 4; i++) held.releaseNext();
    await flush(2);
    expect(eng.counters.merged).toBe(4);
    const last = held.log[held.log.length - 1];
    expect([last?.op, last?.position, last?.length, last?.buffers.length]).toEqual(['readv', 0, 16384, 4]);
    await drain();
  });

  test('a cancel during the hold finds the request as an immediate dispatch would have left it', async () => {
    read(10, 0);
    held.releaseNext();
    await ticks();
    const b = read(10, 4096);
    expect(state()).toEqual({ inFlight: 0, queued: 1 });
    expect(eng.cancel(b)).toBe(NOT_CANCELED);
    expect(state()).toEqual({ inFlight: 1, queued: 0 });
    await drain();
  });

  test('a cancel of a request queued behind the cap during the hold still cancels it', async () => {
    eng.setMaxInFlight(1);
    read(10, 0);
    held.releaseNext();
    await ticks();
    read(10, 4096);
    const c = read(10, 65536, (r) => expect(r.error).toBe(ECANCELED));
    expect(eng.cancel(c)).toBe(CANCELED);
    expect(state()).toEqual({ inFlight: 1, queued: 0 });
    await drain();
  });

  test('a request on a non-seekable descriptor ends the hold at once (its progress may need this thread)', async () => {
    read(10, 0);
    held.releaseNext();
    await ticks();
    read(10, 4096);
    expect(state()).toEqual({ inFlight: 0, queued: 1 });
    read(20, 0);
    expect(state()).toEqual({ inFlight: 2, queued: 0 });
    await drain();
  });

  test('aio_close during the hold cancels what is held on its descriptor and never dispatches it', async () => {
    read(10, 0);
    held.releaseNext();
    await ticks();
    read(10, 4096, (r) => expect(r.error).toBe(ECANCELED));
    const closed = mustCall((rc: number) => expect(rc).toBe(0));
    await eng.close(10).then(closed);
    expect(held.log.map((o) => o.position)).toEqual([0]);
    await drain();
  });

  test('a turn with notifications dispatches once, after them: freed slots and resubmissions in one burst, one identity check', async () => {
    const seen: Array<{ inFlight: number; queued: number }> = [];
    const resubmit = (pos: number) => (): void =>
      eng.defer(() => {
        read(10, pos);
        seen.push(state());
      });
    for (let i = 0; i < 2; i++) read(10, i * 65536, resubmit(1_000_000 + i * 65536));
    for (let i = 2; i < 6; i++) read(10, i * 65536);
    expect(state()).toEqual({ inFlight: 4, queued: 2 });
    const stats = held.statCalls;
    held.releaseNext();
    held.releaseNext();
    await ticks();
    await flush(1);
    // The notifications ran before the two freed slots were refilled.
    expect(seen).toEqual([
      { inFlight: 2, queued: 3 },
      { inFlight: 2, queued: 4 },
    ]);
    expect(state()).toEqual({ inFlight: 4, queued: 2 });
    expect(held.statCalls - stats).toBe(1);
    // Oldest first: the two that were queued before the turn.
    expect(held.log.slice(-2).map((o) => o.position)).toEqual([4 * 65536, 5 * 65536]);
    await drain();
  });

  test(`a run of ${PLUG_FLUSH} adjacent requests submitted during the hold goes out at once, merged; the rest waits for the burst`, async () => {
    const n = PLUG_FLUSH + 3;
    const seen: Array<{ inFlight: number; queued: number }> = [];
    eng.defer(() => {
      for (let i = 0; i < n; i++) {
        read(10, i * 4096);
        seen.push(state());
      }
      read(10, 1 << 20); // not adjacent: starts no run of its own
      seen.push(state());
    });
    await flush(1);
    // Held until the run was full: then one call for all of it.
    expect(seen[PLUG_FLUSH - 2]).toEqual({ inFlight: 0, queued: PLUG_FLUSH - 1 });
    expect(seen[PLUG_FLUSH - 1]).toEqual({ inFlight: PLUG_FLUSH, queued: 0 });
    expect(seen[n]).toEqual({ inFlight: PLUG_FLUSH, queued: 4 });
    // The burst after the notifications: the far one alone; the three that continue the
    // run merge, and their group waits for the run's call (streams: streams.test.ts).
    expect(state()).toEqual({ inFlight: PLUG_FLUSH + 1, queued: 3 });
    // Reading the log hands the waiting group to the pool too (dispatchHeld).
    expect(held.log.map((o) => `${o.op}@${String(o.position)}/${o.length}`)).toEqual([`readv@0/${PLUG_FLUSH * 4096}`, `read@${1 << 20}/4096`, `readv@${PLUG_FLUSH * 4096}/12288`]);
    await drain();
  });

  test('random requests submitted during the hold never fill a run: all wait for the burst', async () => {
    eng.defer(() => {
      for (let i = 0; i < 2 * PLUG_FLUSH; i++) read(10, ((i * 7919) % 64) * 8192);
    });
    await flush(1);
    expect(state()).toEqual({ inFlight: 4, queued: 2 * PLUG_FLUSH - 4 });
    await drain();
  });

  test('deferred notifications hold dispatch until the last of them has run', async () => {
    const seen: Array<{ inFlight: number; queued: number }> = [];
    eng.defer(() => read(10, 0));
    eng.defer(() => {
      read(10, 4096);
      seen.push(state());
    });
    await flush(1);
    expect(seen).toEqual([{ inFlight: 0, queued: 2 }]);
    expect(state()).toEqual({ inFlight: 2, queued: 0 });
    await drain();
  });
});
