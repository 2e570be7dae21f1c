/**
 * lio_listio(3), walked along its man page and SPEC §2's lio_listio bullets: the two
 * modes, RETURN VALUE, ERRORS (EINVAL, EAGAIN, EIO and the TypeErrors), per-entry and
 * list notifications, and the ports of LTP lio_listio/*, glibc tst-aio, tst-aio2,
 * tst-aio3, tst-aio5, tst-aio8 and FreeBSD lio_test.c.
 *
 * LTP's signals become SIGEV_THREAD callbacks or SIGEV_SIGNAL listeners installed
 * with process.on; its socketpair becomes a non-seekable fake descriptor of the held
 * backend.
 */
import * as fs from 'node:fs';
import {
  AIO_CANCELED,
  AioControlBlock,
  EAGAIN,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  EIO,
  ENOSPC,
  LIO_NOP,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SIGRTMIN,
  SI_ASYNCIO,
  aio_cancel,
  aio_error,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  errno,
  lastError,
  lio_listio,
  type SigEvent,
  type SigInfo,
} from '../../src/index';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { PENDING, settledNow } from '../helpers/aio';
import { cleanup, fifo, tmpFile, track } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall, mustNotCall } from '../helpers/mustcall';

const FILE = 1000;
const OTHER = 1002;
const SOCK = 1001;

function entry(opcode: number, fd: number, offset: number, nbytes: number, fill = 0xaa, sigev?: SigEvent): AioControlBlock {
  const cb = new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes, opcode === LIO_WRITE ? fill : 0), aio_nbytes: nbytes, aio_lio_opcode: opcode });
  if (sigev !== undefined) cb.aio_sigevent = sigev;
  return cb;
}

/** A SIGEV_THREAD sigevent that records `tag` in `order` and must run exactly once. */
function recorder(order: string[], tag: string): SigEvent {
  return { sigev_notify: SIGEV_THREAD, sigev_value: tag, sigev_notify_function: mustCall((v: unknown) => order.push(String(v))) };
}

/** Waits until no listed block is in progress. */
async function waitAll(cbs: ReadonlyArray<AioControlBlock | null>): Promise<void> {
  for (;;) {
    const pending = cbs.filter((cb): cb is AioControlBlock => cb !== null && aio_error(cb) === EINPROGRESS);
    if (pending.length === 0) return;
    expect(await aio_suspend(pending, pending.length)).toBe(0);
  }
}

function neverSubmitted(cb: AioControlBlock): void {
  expect(aio_error(cb)).toBe(-1);
  expect(errno()).toBe(EINVAL);
}

describe('lio_listio', () => {
  afterEach(() => {
    aio_init({ aio_max: 512, aio_listio_max: 256 });
  });

  describe('with the held backend', () => {
    let held: HeldBackend;
    let restore: () => void;

    async function drain(): Promise<void> {
      for (let i = 0; i < 1000 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
        held.releaseAll();
        await flush();
      }
      await flush();
      expect(engine().outstanding).toBe(0);
    }

    beforeEach(() => {
      held = new HeldBackend().open(FILE).open(OTHER).open(SOCK, { seekable: false });
      restore = held.use(1);
    });

    afterEach(async () => {
      await drain();
      restore();
    });

    describe('RETURN VALUE', () => {
      test('LIO_NOWAIT returns 0 at once when every entry was queued', async () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_READ, FILE, 100, 8)];
        expect(lio_listio(LIO_NOWAIT, cbs, 2)).toBe(0);
        for (const cb of cbs) expect(aio_error(cb)).toBe(EINPROGRESS);
        await drain();
        expect(cbs.map(aio_return)).toEqual([8, 8]);
      });

      test('LIO_WAIT returns a Promise that resolves 0 only when every entry has completed', async () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, FILE, 100, 8)];
        const p = lio_listio(LIO_WAIT, cbs, 2);
        expect(p).toBeInstanceOf(Promise);
        expect(await settledNow(p)).toBe(PENDING);
        held.releaseNext();
        await flush();
        expect(await settledNow(p)).toBe(PENDING);
        held.releaseNext();
        expect(await p).toBe(0);
        for (const cb of cbs) expect(aio_return(cb)).toBe(8);
      });

      test('LIO_WAIT resolves -1 with errno EIO when an entry failed', async () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, FILE, 100, 8)];
        const p = lio_listio(LIO_WAIT, cbs, 2);
        held.releaseNext();
        await flush();
        held.releaseNext({ error: 'EIO' });
        expect(await p).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(lastError()).toMatchObject({ code: 'EIO', syscall: 'lio_listio' });
        expect(aio_error(cbs[0] as AioControlBlock)).toBe(0);
        expect(aio_error(cbs[1] as AioControlBlock)).toBe(EIO);
      });

      test('LIO_WAIT resolves -1 with errno EIO when an entry was canceled', async () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, FILE, 100, 8)];
        const p = lio_listio(LIO_WAIT, cbs, 2);
        expect(aio_cancel(FILE, cbs[1])).toBe(AIO_CANCELED);
        held.releaseNext();
        expect(await p).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(aio_error(cbs[1] as AioControlBlock)).toBe(ECANCELED);
        expect(aio_return(cbs[0] as AioControlBlock)).toBe(8);
      });

      test('LIO_WAIT resolves -1/EIO when an entry has an invalid opcode; that entry fails with EINVAL and the others run', async () => {
        const bad = entry(42, FILE, 200, 8);
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), bad, entry(LIO_WRITE, FILE, 100, 8)];
        const p = lio_listio(LIO_WAIT, cbs, 3);
        expect(aio_error(bad)).toBe(EINVAL);
        await drain();
        expect(await p).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(aio_return(bad)).toBe(-1);
        expect(held.log).toHaveLength(2);
        expect(aio_return(cbs[0] as AioControlBlock)).toBe(8);
        expect(aio_return(cbs[2] as AioControlBlock)).toBe(8);
      });

      test('LIO_WAIT resolves 0 for an empty list, an all-null list and an all-LIO_NOP list', async () => {
        expect(await lio_listio(LIO_WAIT, [], 0)).toBe(0);
        expect(await lio_listio(LIO_WAIT, [null, null], 2)).toBe(0);
        const nops = [entry(LIO_NOP, FILE, 0, 8), entry(LIO_NOP, FILE, 8, 8)];
        expect(await lio_listio(LIO_WAIT, nops, 2)).toBe(0);
        expect(held.log).toHaveLength(0);
      });

      test('an invalid mode returns the number -1 with errno EINVAL and queues nothing', () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8)];
        for (const mode of [-1, 2, 7]) {
          const r = lio_listio(mode, cbs, 1);
          expect(r).toBe(-1);
          expect(typeof r).toBe('number');
          expect(errno()).toBe(EINVAL);
          expect(lastError()?.message).toMatch(/mode/);
        }
        // Also when the list itself is empty or its entries are of the wrong type: mode is checked first.
        expect(lio_listio(7, [], 0)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(held.log).toHaveLength(0);
        neverSubmitted(cbs[0] as AioControlBlock);
      });
    });

    describe('ERRORS', () => {
      test.each([
        ['nent < 0', -1],
        ['nent > the length of the list', 3],
      ])('EINVAL: %s: LIO_WAIT resolves -1, LIO_NOWAIT returns -1, nothing is queued', async (_label, nent) => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, FILE, 100, 8)];
        const p = lio_listio(LIO_WAIT, cbs, nent);
        expect(p).toBeInstanceOf(Promise);
        expect(await p).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lio_listio(LIO_NOWAIT, cbs, nent)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lastError()?.message).toMatch(/nent/);
        expect(held.log).toHaveLength(0);
        for (const cb of cbs) neverSubmitted(cb);
      });

      test('EINVAL: nent above AIO_LISTIO_MAX: LIO_WAIT resolves -1, LIO_NOWAIT returns -1, nothing is queued; nent equal to it is accepted', async () => {
        aio_init({ aio_listio_max: 3 });
        const cbs = [0, 1, 2, 3].map((i) => entry(LIO_WRITE, FILE, i * 100, 8));
        const list = lio_listio(LIO_NOWAIT, cbs, 4, { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustNotCall() });
        expect(list).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(await lio_listio(LIO_WAIT, cbs, 4)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lastError()?.message).toMatch(/AIO_LISTIO_MAX/);
        expect(held.log).toHaveLength(0);
        for (const cb of cbs) neverSubmitted(cb);
        expect(lio_listio(LIO_NOWAIT, cbs, 3)).toBe(0);
        await drain();
        expect(held.log).toHaveLength(3);
      });

      test('EINVAL: an invalid list sigevent with LIO_NOWAIT returns -1 and queues nothing', () => {
        const cbs = [entry(LIO_WRITE, FILE, 0, 8)];
        expect(lio_listio(LIO_NOWAIT, cbs, 1, { sigev_notify: 99 })).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lio_listio(LIO_NOWAIT, cbs, 1, { sigev_notify: SIGEV_THREAD })).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lio_listio(LIO_NOWAIT, cbs, 1, { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGNOPE' })).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(held.log).toHaveLength(0);
        neverSubmitted(cbs[0] as AioControlBlock);
      });

      test('EIO: with LIO_NOWAIT, an entry with a bad field fails on its own with EINVAL while the others are queued and complete', async () => {
        const order: string[] = [];
        const badOpcode = entry(-1, FILE, 300, 8, 0);
        const badPrio = entry(LIO_WRITE, FILE, 400, 8, 0, recorder(order, 'prio'));
        badPrio.aio_reqprio = 21;
        const badOffset = entry(LIO_WRITE, FILE, -1, 8, 0, recorder(order, 'offset'));
        const good = [entry(LIO_WRITE, FILE, 0, 8, 1, recorder(order, 'g0')), entry(LIO_READ, FILE, 100, 8, 0, recorder(order, 'g1'))];
        const list = [good[0] as AioControlBlock, badOpcode, badPrio, badOffset, good[1] as AioControlBlock];
        expect(lio_listio(LIO_NOWAIT, list, list.length, recorder(order, 'list'))).toBe(-1);
        expect(errno()).toBe(EIO);
        for (const bad of [badOpcode, badPrio, badOffset]) expect(aio_error(bad)).toBe(EINVAL);
        for (const cb of good) expect(aio_error(cb)).toBe(EINPROGRESS);
        expect(order).toEqual([]);
        await drain();
        for (const bad of [badOpcode, badPrio, badOffset]) expect(aio_return(bad)).toBe(-1);
        for (const cb of good) expect(aio_return(cb)).toBe(8);
        expect(held.log).toHaveLength(2);
        expect(order.sort()).toEqual(['g0', 'g1', 'list', 'offset', 'prio']);
        // The refused entry's block is left as the caller wrote it.
        expect(badPrio.aio_reqprio).toBe(21);
      });

      test('EAGAIN: with LIO_NOWAIT, entries beyond the outstanding limit get aio_error EAGAIN, the call returns -1/EAGAIN, the rest are queued', async () => {
        aio_init({ aio_max: 3 });
        const busy = entry(LIO_WRITE, OTHER, 0, 8);
        expect(lio_listio(LIO_NOWAIT, [busy], 1)).toBe(0);
        const cbs = [0, 1, 2, 3].map((i) => entry(LIO_WRITE, FILE, i * 100, 8));
        expect(lio_listio(LIO_NOWAIT, cbs, 4)).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        expect(aio_error(cbs[0] as AioControlBlock)).toBe(EINPROGRESS);
        expect(aio_error(cbs[1] as AioControlBlock)).toBe(EINPROGRESS);
        expect(aio_error(cbs[2] as AioControlBlock)).toBe(EAGAIN);
        expect(aio_error(cbs[3] as AioControlBlock)).toBe(EAGAIN);
        expect(aio_return(cbs[3] as AioControlBlock)).toBe(-1);
        await drain();
        expect(aio_return(cbs[0] as AioControlBlock)).toBe(8);
        expect(aio_return(cbs[1] as AioControlBlock)).toBe(8);
        expect(held.log.map((op) => op.fd)).toEqual([OTHER, FILE, FILE]);
      });

      test('EAGAIN: with LIO_WAIT, the entries that fit run and the Promise then resolves -1/EAGAIN', async () => {
        aio_init({ aio_max: 2 });
        const cbs = [0, 1, 2].map((i) => entry(LIO_WRITE, FILE, i * 100, 8));
        const p = lio_listio(LIO_WAIT, cbs, 3);
        expect(aio_error(cbs[2] as AioControlBlock)).toBe(EAGAIN);
        expect(await settledNow(p)).toBe(PENDING);
        await drain();
        expect(await p).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        expect(aio_return(cbs[0] as AioControlBlock)).toBe(8);
        expect(aio_return(cbs[1] as AioControlBlock)).toBe(8);
      });

      test('EBADF is not an error of the call: an entry on a descriptor that is not open is accepted and fails with EBADF', async () => {
        const notify = mustCall();
        const cbs = [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, 1999, 0, 8, 0, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify })];
        expect(lio_listio(LIO_NOWAIT, cbs, 2)).toBe(0);
        expect(aio_error(cbs[1] as AioControlBlock)).toBe(EBADF);
        expect(notify.calls).toBe(0);
        await drain();
        expect(notify.calls).toBe(1);
        expect(aio_return(cbs[1] as AioControlBlock)).toBe(-1);
      });

      test.each<[string, () => unknown[]]>([
        ['an aio_buf of the wrong type', () => [entry(LIO_WRITE, FILE, 0, 8), { aio_fildes: FILE, aio_lio_opcode: LIO_WRITE, aio_buf: 'text', aio_nbytes: 4 }]],
        ['an aio_lio_opcode that is not a number', () => [entry(LIO_WRITE, FILE, 0, 8), { aio_fildes: FILE, aio_lio_opcode: 'LIO_WRITE' }]],
        ['an aio_fildes that is not a number', () => [entry(LIO_WRITE, FILE, 0, 8), { aio_fildes: '1000', aio_lio_opcode: LIO_READ }]],
        ['aio_nbytes beyond aio_buf', () => [entry(LIO_WRITE, FILE, 0, 8), { aio_fildes: FILE, aio_lio_opcode: LIO_READ, aio_buf: Buffer.alloc(2), aio_nbytes: 4 }]],
        ['an entry that is not an object', () => [entry(LIO_WRITE, FILE, 0, 8), 42]],
        ['a sigev_notify_function that is not a function', () => [entry(LIO_WRITE, FILE, 0, 8), entry(LIO_WRITE, FILE, 100, 8, 0, { sigev_notify: SIGEV_THREAD, sigev_notify_function: 'f' as never })]],
      ])('throws synchronously, in both modes, before anything is queued, for %s in the last entry', (_label, make) => {
        for (const mode of [LIO_WAIT, LIO_NOWAIT]) {
          const list = make();
          let threw: unknown = null;
          try {
            lio_listio(mode, list as AioControlBlock[], list.length);
          } catch (err) {
            threw = err;
          }
          expect(threw).toBeInstanceOf(Error);
          expect(['TypeError', 'RangeError']).toContain((threw as Error).name);
          expect((threw as { code?: string }).code).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/);
          expect(held.log).toHaveLength(0);
          expect(engine().outstanding).toBe(0);
          neverSubmitted(list[0] as AioControlBlock);
        }
      });

      test('throws a TypeError, in both modes, when list is not an array', () => {
        expect(() => lio_listio(LIO_WAIT, 'x' as never, 0)).toThrow(TypeError);
        expect(() => lio_listio(LIO_NOWAIT, {} as never, 0)).toThrow(TypeError);
      });

      test('an entry whose block is already in progress is refused without touching that request, and counts as failed', async () => {
        const busy = entry(LIO_WRITE, FILE, 0, 8);
        expect(lio_listio(LIO_NOWAIT, [busy], 1)).toBe(0);
        const other = entry(LIO_WRITE, FILE, 100, 8);
        const p = lio_listio(LIO_WAIT, [busy, other], 2);
        expect(aio_error(busy)).toBe(EINPROGRESS);
        await drain();
        expect(await p).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(aio_error(busy)).toBe(0);
        expect(aio_return(busy)).toBe(8);
        expect(aio_return(other)).toBe(8);
        expect(held.log).toHaveLength(2);
      });
    });

    describe('notifications', () => {
      test('null and LIO_NOP entries are skipped: never submitted and never notified', async () => {
        const nop = entry(LIO_NOP, FILE, 0, 8, 0, { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustNotCall() });
        const w = entry(LIO_WRITE, FILE, 100, 8, 0, { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustCall() });
        expect(await Promise.all([lio_listio(LIO_WAIT, [null, nop, w, null], 4), drain()])).toEqual([0, undefined]);
        neverSubmitted(nop);
        expect(held.log).toHaveLength(1);
      });

      test('with LIO_NOWAIT, every submitted entry is notified once, and the list once, after the last entry', async () => {
        const order: string[] = [];
        const cbs = [0, 1, 2].map((i) => entry(LIO_WRITE, FILE, i * 100, 8, i, recorder(order, `e${i}`)));
        expect(lio_listio(LIO_NOWAIT, cbs, 3, recorder(order, 'list'))).toBe(0);
        expect(order).toEqual([]);
        // One at a time (in-flight cap 1): the list is notified only after the third.
        held.releaseNext();
        await flush();
        expect(order).toEqual(['e0']);
        held.releaseNext();
        await flush();
        held.releaseNext();
        await flush();
        expect(order).toEqual(['e0', 'e1', 'e2', 'list']);
      });

      test('with LIO_NOWAIT, the list is notified after the last entry even when that entry is canceled', async () => {
        const order: string[] = [];
        const cbs = [0, 1].map((i) => entry(LIO_WRITE, FILE, i * 100, 8, i, recorder(order, `e${i}`)));
        expect(lio_listio(LIO_NOWAIT, cbs, 2, recorder(order, 'list'))).toBe(0);
        expect(aio_cancel(FILE, cbs[1])).toBe(AIO_CANCELED);
        await flush();
        expect(order).toEqual(['e1']);
        held.releaseNext();
        await flush();
        expect(order).toEqual(['e1', 'e0', 'list']);
      });

      test('with LIO_NOWAIT, the list is notified through SIGEV_SIGNAL with its sigev_value', async () => {
        const handler = mustCall((_name: unknown, info: SigInfo) => {
          expect(info).toEqual({ si_signo: expect.any(Number), si_code: SI_ASYNCIO, si_value: 'the list' });
        });
        process.on('SIGUSR2', handler);
        try {
          expect(lio_listio(LIO_NOWAIT, [entry(LIO_WRITE, FILE, 0, 8)], 1, { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 'the list' })).toBe(0);
          await drain();
          expect(handler.calls).toBe(1);
        } finally {
          process.removeListener('SIGUSR2', handler);
        }
      });

      test('with LIO_WAIT, sig is ignored (even an invalid one) and every entry is notified before the Promise resolves', async () => {
        const order: string[] = [];
        const cbs = [0, 1, 2].map((i) => entry(LIO_WRITE, FILE, i * 100, 8, i, recorder(order, `e${i}`)));
        const p = lio_listio(LIO_WAIT, cbs, 3, { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustNotCall('sig is ignored with LIO_WAIT') }).then((r) => {
          order.push('resolved');
          return r;
        });
        await drain();
        expect(await p).toBe(0);
        expect(order).toEqual(['e0', 'e1', 'e2', 'resolved']);
        const p2 = lio_listio(LIO_WAIT, [entry(LIO_WRITE, FILE, 0, 8)], 1, { sigev_notify: 99 });
        await drain();
        expect(await p2).toBe(0);
      });

      test('no notification runs inside the call, in either mode, even for entries that fail at once', async () => {
        const notify = mustCall(() => {}, 4);
        const sev: SigEvent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify };
        const badPrio = entry(LIO_WRITE, FILE, 0, 8, 0, sev);
        badPrio.aio_reqprio = -1;
        const list = [entry(LIO_WRITE, 1999, 0, 8, 0, sev), badPrio];
        expect(lio_listio(LIO_NOWAIT, list, 2, sev)).toBe(-1);
        expect(notify.calls).toBe(0);
        const again = [entry(LIO_WRITE, 1999, 0, 8, 0, sev)];
        const p = lio_listio(LIO_WAIT, again, 1);
        expect(notify.calls).toBe(0);
        expect(await p).toBe(-1);
        await flush();
        expect(notify.calls).toBe(4);
      });

      test('an entry with an invalid aio_lio_opcode fails with EINVAL and still gets its own notification, in both modes', async () => {
        const order: string[] = [];
        const nowait = entry(42, FILE, 0, 8, 0, recorder(order, 'nowait'));
        expect(lio_listio(LIO_NOWAIT, [nowait], 1, recorder(order, 'list'))).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(aio_error(nowait)).toBe(EINVAL);
        const wait = entry(-1, FILE, 0, 8, 0, recorder(order, 'wait'));
        expect(await lio_listio(LIO_WAIT, [wait], 1)).toBe(-1);
        expect(errno()).toBe(EIO);
        expect(aio_error(wait)).toBe(EINVAL);
        await flush();
        expect(order).toEqual(['nowait', 'list', 'wait']);
        expect(held.log).toHaveLength(0);
      });

      test('array order is submission order', async () => {
        const cbs = [entry(LIO_WRITE, OTHER, 500, 8), entry(LIO_READ, FILE, 0, 8), entry(LIO_WRITE, FILE, 300, 8), entry(LIO_READ, OTHER, 0, 8), entry(LIO_WRITE, SOCK, 0, 8)];
        expect(lio_listio(LIO_NOWAIT, cbs, cbs.length)).toBe(0);
        await drain();
        expect(held.log.map((op) => op.buffers[0])).toEqual(cbs.map((cb) => cb.aio_buf));
      });

      test('FreeBSD lio_listio_empty_wait: LIO_WAIT with nent 0 resolves 0', async () => {
        expect(await lio_listio(LIO_WAIT, [], 0, null)).toBe(0);
      });

      test('FreeBSD lio_listio_empty_nowait_thread: LIO_NOWAIT with nent 0 returns 0 and notifies on the next turn, not inside the call', async () => {
        const notify = mustCall((v: unknown) => expect(v).toBe('empty'));
        expect(lio_listio(LIO_NOWAIT, [], 0, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify, sigev_value: 'empty' })).toBe(0);
        expect(notify.calls).toBe(0);
        await Promise.resolve();
        expect(notify.calls).toBe(0);
        await flush(1);
        expect(notify.calls).toBe(1);
      });

      test('FreeBSD lio_listio_empty_nowait_signal: LIO_NOWAIT with nent 0 emits the list signal on the next turn', async () => {
        const handler = mustCall((_name: unknown, info: SigInfo) => expect(info.si_code).toBe(SI_ASYNCIO));
        process.on('SIGUSR2', handler);
        try {
          expect(lio_listio(LIO_NOWAIT, [], 0, { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2' })).toBe(0);
          expect(handler.calls).toBe(0);
          await flush(1);
          expect(handler.calls).toBe(1);
        } finally {
          process.removeListener('SIGUSR2', handler);
        }
      });

      test('an all-null or all-LIO_NOP LIO_NOWAIT list is notified on the next turn too', async () => {
        const notify = mustCall(() => {}, 2);
        const sev: SigEvent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify };
        expect(lio_listio(LIO_NOWAIT, [null, null], 2, sev)).toBe(0);
        expect(lio_listio(LIO_NOWAIT, [entry(LIO_NOP, FILE, 0, 8)], 1, sev)).toBe(0);
        expect(notify.calls).toBe(0);
        await flush(1);
        expect(notify.calls).toBe(2);
      });
    });

    describe('ports', () => {
      test('LTP lio_listio/2-1: eight writes on a socket with LIO_NOWAIT return 0 before the list notification, which arrives once they drain; offsets are ignored', async () => {
        const HALF = 32 * 1024;
        const listNotified = mustCall();
        const cbs = Array.from({ length: 8 }, (_, i) => entry(LIO_WRITE, SOCK, i * HALF, HALF));
        expect(lio_listio(LIO_NOWAIT, cbs, 8, { sigev_notify: SIGEV_THREAD, sigev_notify_function: listNotified })).toBe(0);
        await flush();
        expect(listNotified.calls).toBe(0);
        expect(held.pending).toHaveLength(1);
        await drain();
        expect(listNotified.calls).toBe(1);
        for (const cb of cbs) {
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(HALF);
        }
        expect(held.log.map((op) => op.position)).toEqual(Array(8).fill(null));
        expect(held.log.map((op) => op.buffers[0])).toEqual(cbs.map((cb) => cb.aio_buf));
      });

      test('FreeBSD lio_listio_eagain_kevent: of two LIO_NOWAIT lists of AIO_MAX writes, the first returns 0 and the second -1/EAGAIN', async () => {
        aio_init({ aio_max: 4 });
        const first = [0, 1, 2, 3].map((i) => entry(LIO_WRITE, FILE, i * 100, 8));
        const second = [0, 1, 2, 3].map((i) => entry(LIO_WRITE, OTHER, i * 100, 8));
        expect(lio_listio(LIO_NOWAIT, first, 4)).toBe(0);
        expect(lio_listio(LIO_NOWAIT, second, 4)).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        for (const cb of second) expect(aio_error(cb)).toBe(EAGAIN);
        await drain();
        for (const cb of first) expect(aio_return(cb)).toBe(8);
      });
    });
  });

  describe('on real files', () => {
    afterAll(() => {
      cleanup();
    });

    /** Installs a listener for an emulated signal for the duration of `fn`. */
    async function withSignal(name: string, handler: (name: unknown, info: SigInfo) => void, fn: () => Promise<void>): Promise<void> {
      process.on(name, handler);
      try {
        await fn();
      } finally {
        process.removeListener(name, handler);
      }
    }

    /** Resolves when `count` notifications have been recorded. */
    function counter(): { sev: (value?: unknown) => SigEvent; count: () => number; seen: unknown[] } {
      const seen: unknown[] = [];
      return {
        seen,
        count: () => seen.length,
        sev: (value?: unknown) => ({ sigev_notify: SIGEV_THREAD, sigev_value: value, sigev_notify_function: mustCall((v: unknown) => seen.push(v)) }),
      };
    }

    /** A promise and the SIGEV_THREAD sigevent that resolves it (the list notification). */
    function listDone(): { sev: SigEvent; done: Promise<unknown> } {
      let resolve!: (v: unknown) => void;
      const done = new Promise<unknown>((r) => (resolve = r));
      return { done, sev: { sigev_notify: SIGEV_THREAD, sigev_value: 'list', sigev_notify_function: mustCall((v: unknown) => resolve(v)) } };
    }

    test('LTP lio_listio/1-1: ten writes with LIO_WAIT resolve 0 and the list signal is not sent', async () => {
      const { fd } = tmpFile();
      const SIZE = 1 << 20;
      const handler = mustNotCall<[unknown, SigInfo]>('the list signal is ignored with LIO_WAIT');
      await withSignal('SIGRTMIN+1', handler, async () => {
        const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, fd, 0, SIZE, i));
        expect(await lio_listio(LIO_WAIT, cbs, 10, { sigev_notify: SIGEV_SIGNAL, sigev_signo: SIGRTMIN + 1 })).toBe(0);
        await flush();
        for (const cb of cbs) {
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(SIZE);
        }
      });
    });

    test('LTP lio_listio/3-1: ten writes with LIO_NOWAIT, per-entry and list signals: the list signal arrives and every entry succeeds', async () => {
      const { fd } = tmpFile();
      let entries = 0;
      let resolveList!: () => void;
      const listArrived = new Promise<void>((r) => (resolveList = r));
      const perEntry = mustCall((_n: unknown, info: SigInfo) => {
        expect(info.si_signo).toBe(SIGRTMIN + 1);
        entries++;
      }, 10);
      const onList = mustCall((_n: unknown, info: SigInfo) => {
        expect(info.si_signo).toBe(SIGRTMIN + 2);
        expect(entries).toBe(10);
        resolveList();
      });
      await withSignal('SIGRTMIN+1', perEntry, () =>
        withSignal('SIGRTMIN+2', onList, async () => {
          const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, fd, 0, 1024, i, { sigev_notify: SIGEV_SIGNAL, sigev_signo: SIGRTMIN + 1 }));
          expect(lio_listio(LIO_NOWAIT, cbs, 10, { sigev_notify: SIGEV_SIGNAL, sigev_signo: SIGRTMIN + 2 })).toBe(0);
          await listArrived;
          for (const cb of cbs) expect(aio_return(cb)).toBe(1024);
        }),
      );
    });

    test('LTP lio_listio/4-1: with NULLs at 0, 3 and 9, exactly 7 entry notifications precede the list notification', async () => {
      const { fd } = tmpFile();
      const c = counter();
      const list = listDone();
      const cbs = Array.from({ length: 10 }, (_, i) => ([0, 3, 9].includes(i) ? null : entry(LIO_WRITE, fd, i * 1024, 1024, i, c.sev(i))));
      expect(lio_listio(LIO_NOWAIT, cbs, 10, list.sev)).toBe(0);
      expect(await list.done).toBe('list');
      expect(c.count()).toBe(7);
      for (const cb of cbs) if (cb !== null) expect(aio_return(cb)).toBe(1024);
    });

    test('LTP lio_listio/5-1: [WRITE, READ, NOP] with LIO_WAIT resolves 0; a one-entry list with opcode -1 resolves -1/EIO', async () => {
      const { fd } = tmpFile(Buffer.alloc(512, 7));
      const w = entry(LIO_WRITE, fd, 512, 256, 9);
      const r = entry(LIO_READ, fd, 0, 256);
      const n = entry(LIO_NOP, fd, 0, 256);
      expect(await lio_listio(LIO_WAIT, [w, r, n], 3)).toBe(0);
      expect(aio_return(w)).toBe(256);
      expect(aio_return(r)).toBe(256);
      expect((r.aio_buf as Buffer).equals(Buffer.alloc(256, 7))).toBe(true);
      const bad = entry(-1, fd, 0, 256);
      expect(await lio_listio(LIO_WAIT, [bad], 1)).toBe(-1);
      expect(errno()).toBe(EIO);
      expect(aio_error(bad)).toBe(EINVAL);
    });

    test('LTP lio_listio/6-1: LIO_READ, LIO_WRITE and LIO_NOP are defined and distinct', () => {
      for (const c of [LIO_READ, LIO_WRITE, LIO_NOP]) expect(typeof c).toBe('number');
      expect(new Set([LIO_READ, LIO_WRITE, LIO_NOP]).size).toBe(3);
    });

    test('LTP lio_listio/7-1: with LIO_NOP at 1 and 7, exactly 8 entry notifications precede the list notification', async () => {
      const { fd } = tmpFile();
      const c = counter();
      const list = listDone();
      const cbs = Array.from({ length: 10 }, (_, i) =>
        [1, 7].includes(i) ? entry(LIO_NOP, fd, i * 1024, 1024, i, { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustNotCall() }) : entry(LIO_WRITE, fd, i * 1024, 1024, i, c.sev(i)),
      );
      expect(lio_listio(LIO_NOWAIT, cbs, 10, list.sev)).toBe(0);
      await list.done;
      expect(c.count()).toBe(8);
      cbs.forEach((cb, i) => {
        if (![1, 7].includes(i)) expect(aio_return(cb)).toBe(1024);
      });
    });

    test('LTP lio_listio/8-1: a one-entry LIO_READ list with LIO_WAIT reads the data', async () => {
      const data = Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff));
      const { fd } = tmpFile(data);
      const r = entry(LIO_READ, fd, 0, 512);
      expect(await lio_listio(LIO_WAIT, [r], 1)).toBe(0);
      expect(aio_error(r)).toBe(0);
      expect(aio_return(r)).toBe(512);
      expect((r.aio_buf as Buffer).equals(data)).toBe(true);
    });

    test('LTP lio_listio/9-1: a one-entry LIO_WRITE list with LIO_WAIT leaves the file offset where it was', async () => {
      const { fd } = tmpFile();
      const w = entry(LIO_WRITE, fd, 0, 512, 0x5a);
      expect(await lio_listio(LIO_WAIT, [w], 1)).toBe(0);
      expect(aio_return(w)).toBe(512);
      const back = Buffer.alloc(512);
      expect(fs.readSync(fd, back, 0, 512, null)).toBe(512);
      expect(back.equals(Buffer.alloc(512, 0x5a))).toBe(true);
    });

    test('LTP lio_listio/10-1: ten writes with LIO_NOWAIT and per-entry notifications return 0, then the list notification comes', async () => {
      const { fd } = tmpFile();
      const c = counter();
      const list = listDone();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, fd, 0, 1024, i, c.sev(i)));
      expect(lio_listio(LIO_NOWAIT, cbs, 10, list.sev)).toBe(0);
      await list.done;
      expect(c.count()).toBe(10);
      for (const cb of cbs) expect(aio_return(cb)).toBe(1024);
    });

    test('LTP lio_listio/12-1: ten writes with LIO_WAIT and sig NULL resolve 0', async () => {
      const { fd } = tmpFile();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, fd, 0, 1024, i));
      expect(await lio_listio(LIO_WAIT, cbs, 10, null)).toBe(0);
      for (const cb of cbs) expect(aio_return(cb)).toBe(1024);
    });

    test('LTP lio_listio/13-1: ten writes with LIO_WAIT where #2 has opcode -1 resolve -1/EIO and the other nine succeed', async () => {
      const { fd } = tmpFile();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(i === 2 ? -1 : LIO_WRITE, fd, i * 1024, 1024, i));
      expect(await lio_listio(LIO_WAIT, cbs, 10)).toBe(-1);
      expect(errno()).toBe(EIO);
      cbs.forEach((cb, i) => {
        expect(aio_error(cb)).toBe(i === 2 ? EINVAL : 0);
        expect(aio_return(cb)).toBe(i === 2 ? -1 : 1024);
      });
    });

    test('LTP lio_listio/14-1: ten writes with LIO_NOWAIT where #2 has fd -1 return 0; all ten are notified, then the list; #2 fails with EBADF', async () => {
      const { fd } = tmpFile();
      const c = counter();
      const list = listDone();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, i === 2 ? -1 : fd, i * 1024, 1024, i, c.sev(i)));
      expect(lio_listio(LIO_NOWAIT, cbs, 10, list.sev)).toBe(0);
      await list.done;
      expect(c.count()).toBe(10);
      expect(c.seen).toContain(2);
      cbs.forEach((cb, i) => {
        expect(aio_error(cb)).toBe(i === 2 ? EBADF : 0);
        expect(aio_return(cb)).toBe(i === 2 ? -1 : 1024);
      });
    });

    test('LTP lio_listio/15-1: four writes and six reads at offset 0 with LIO_NOWAIT: ten entry notifications and all succeed', async () => {
      const { fd } = tmpFile(Buffer.alloc(1024, 1));
      const c = counter();
      const list = listDone();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(i < 4 ? LIO_WRITE : LIO_READ, fd, 0, 1024, 2, c.sev(i)));
      expect(lio_listio(LIO_NOWAIT, cbs, 10, list.sev)).toBe(0);
      await list.done;
      expect(c.count()).toBe(10);
      for (const cb of cbs) {
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(1024);
      }
      // The reads were submitted after the writes that overlap them: they see the written bytes.
      for (const cb of cbs.slice(4)) expect((cb.aio_buf as Buffer).equals(Buffer.alloc(1024, 2))).toBe(true);
    });

    test('LTP lio_listio/18-1: mode -1 returns -1 with errno EINVAL', () => {
      const { fd } = tmpFile();
      const w = entry(LIO_WRITE, fd, 0, 8);
      expect(lio_listio(-1, [w], 1)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      neverSubmitted(w);
    });

    test('glibc tst-aio: ten writes with LIO_WAIT are all in the file when the Promise resolves', async () => {
      const { fd, path } = tmpFile();
      const cbs = Array.from({ length: 10 }, (_, i) => entry(LIO_WRITE, fd, i * 100, 100, 0x30 + i));
      expect(await lio_listio(LIO_WAIT, cbs, 10)).toBe(0);
      const content = fs.readFileSync(path);
      expect(content.length).toBe(1000);
      for (let i = 0; i < 10; i++) expect(content.subarray(i * 100, i * 100 + 100).equals(Buffer.alloc(100, 0x30 + i))).toBe(true);
    });

    test('glibc tst-aio2: an entry SIGEV_THREAD notification runs with LIO_WAIT, before the Promise resolves', async () => {
      const { fd } = tmpFile();
      const notify = mustCall();
      const w = entry(LIO_WRITE, fd, 0, 16, 1, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify });
      expect(await lio_listio(LIO_WAIT, [w], 1)).toBe(0);
      expect(notify.calls).toBe(1);
    });

    test('glibc tst-aio3: with LIO_NOWAIT and sig null, an entry SIGEV_THREAD notification runs; aio_suspend waits for the entry', async () => {
      const { fd } = tmpFile();
      let resolve!: () => void;
      const ran = new Promise<void>((r) => (resolve = r));
      const notify = mustCall(() => resolve());
      const w = entry(LIO_WRITE, fd, 0, 16, 1, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify });
      expect(lio_listio(LIO_NOWAIT, [w], 1, null)).toBe(0);
      expect(await aio_suspend([w], 1)).toBe(0);
      await ran;
      expect(aio_return(w)).toBe(16);
    });

    test('glibc tst-aio5: sigev_value (27) reaches the entry and the list notify functions intact', async () => {
      const { fd } = tmpFile();
      const value = { sival_int: 27 };
      const entryNotify = mustCall((v: unknown) => expect(v).toBe(value));
      let resolve!: () => void;
      const listRan = new Promise<void>((r) => (resolve = r));
      const listNotify = mustCall((v: unknown) => {
        expect(v).toBe(27);
        resolve();
      });
      const w = entry(LIO_WRITE, fd, 0, 16, 1, { sigev_notify: SIGEV_THREAD, sigev_value: value, sigev_notify_function: entryNotify });
      expect(lio_listio(LIO_NOWAIT, [w], 1, { sigev_notify: SIGEV_THREAD, sigev_value: 27, sigev_notify_function: listNotify })).toBe(0);
      await listRan;
      expect(value).toEqual({ sival_int: 27 });
    });

    test('entries on a FIFO ignore their aio_offset, even a negative one, and land in array order', async () => {
      const f = fifo();
      const offsets: Array<number | bigint> = [-1, -4096, 12345, -1n];
      const cbs = ['w', 'x', 'y', 'z'].map((s, i) => new AioControlBlock({ aio_fildes: f.fd, aio_offset: offsets[i] as number | bigint, aio_buf: Buffer.from(s), aio_nbytes: 1, aio_lio_opcode: LIO_WRITE }));
      expect(await lio_listio(LIO_WAIT, cbs, cbs.length)).toBe(0);
      for (const cb of cbs) expect(aio_return(cb)).toBe(1);
      const out = Buffer.alloc(8);
      expect(fs.readSync(f.peer, out, 0, 8, null)).toBe(4);
      expect(out.subarray(0, 4).toString()).toBe('wxyz');
    });

    test('glibc tst-aio8: a LIO_WAIT write to /dev/full resolves -1/EIO; the entry fails with ENOSPC', async () => {
      const fd = track(fs.openSync('/dev/full', 'w'));
      const w = entry(LIO_WRITE, fd, 0, 16, 1);
      expect(await lio_listio(LIO_WAIT, [w], 1)).toBe(-1);
      expect(errno()).toBe(EIO);
      expect(aio_error(w)).toBe(ENOSPC);
      expect(aio_return(w)).toBe(-1);
    });

    test('entries read back what an earlier list wrote (LIO_READ runs as aio_read would)', async () => {
      const { fd } = tmpFile();
      expect(await lio_listio(LIO_WAIT, [entry(LIO_WRITE, fd, 0, 4, 0x41)], 1)).toBe(0);
      const r = entry(LIO_READ, fd, 0, 8);
      expect(lio_listio(LIO_NOWAIT, [r], 1)).toBe(0);
      await waitAll([r]);
      expect(aio_return(r)).toBe(4);
      const again = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(again)).toBe(0);
      await waitAll([again]);
      expect(again.aio_buf?.toString()).toBe('AAAA');
    });
  });
});

describe('lio_listio: errno after LIO_WAIT', () => {
  afterEach(() => {
    aio_init({ aio_threads: DEFAULTS.maxInFlight });
    cleanup();
  });

  test('errno read right after the awaited -1 is the list\'s EIO, even when another notification of the same turn made a failing call', async () => {
    const { fd } = tmpFile(Buffer.alloc(4096), 'r');
    aio_init({ aio_threads: 1 });
    const blocker = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512), aio_nbytes: 512 });
    expect(aio_read(blocker)).toBe(0); // holds the only slot: what follows stays queued
    const entry = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512), aio_nbytes: 512, aio_lio_opcode: LIO_READ });
    const listDone = lio_listio(LIO_WAIT, [entry], 1) as Promise<number>;
    const other: AioControlBlock = new AioControlBlock({
      aio_fildes: fd,
      aio_buf: Buffer.alloc(512),
      aio_nbytes: 512,
      // Collecting a canceled result is a failing call: it sets errno to ECANCELED.
      aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustCall(() => expect(aio_return(other)).toBe(-1)) },
    });
    expect(aio_read(other)).toBe(0);
    aio_cancel(fd, null);
    expect(await listDone).toBe(-1);
    expect(errno()).toBe(EIO);
    await aio_suspend([blocker], 1, null);
    await flush();
  });
});
