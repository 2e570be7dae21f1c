/**
 * nng's own aio tests (src/core/aio_test.c, and the aio cases of errors_test.c and
 * the protocol tests), ported case by case as research/nng-aio.md §10 catalogues
 * them. Sockets are replaced by fake providers written on the public provider calls
 * (§10.4). Not ported: `sleep fini` and `sleep fini many`, which need nng_fini (this
 * package has no global shutdown).
 */
import {
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_ECANCELED,
  NNG_EINTERNAL,
  NNG_EINVAL,
  NNG_ESTATE,
  NNG_ETIMEDOUT,
  type NngAio,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_begin,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_defer,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_msg,
  nng_aio_reap,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_iov,
  nng_aio_set_msg,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_wait,
  nng_clock,
  nng_sleep_aio,
} from '../../src/index';
import { mustCall, sleep } from '../helpers/mustcall';

/**
 * A stand-in for a pair socket: recv waits for a message (cancelable, so it times
 * out); send hands its message to a waiting receiver or queues it. A socket's
 * receive timeout resolves NNG_DURATION_DEFAULT, as nni_aio_normalize_timeout does.
 */
class FakeSocket {
  readonly #receivers: NngAio[] = [];
  readonly #queue: unknown[] = [];
  peer: FakeSocket | null = null;
  /** The socket's NNG_OPT_RECVTIMEO; null: none set. */
  recvTimeout: number | null = null;

  recv(aio: NngAio): void {
    if (this.#queue.length > 0) {
      nng_aio_begin(aio);
      nng_aio_set_msg(aio, this.#queue.shift());
      nng_aio_finish(aio, 0);
      return;
    }
    // What nng's sockets do with a handle left at NNG_DURATION_DEFAULT: replace it with
    // the socket's option, persistently (nni_aio_normalize_timeout). The tests that set
    // recvTimeout leave the handle at its default.
    if (this.recvTimeout !== null) nng_aio_set_timeout(aio, this.recvTimeout);
    if (!nng_aio_start(aio, (a, _arg, err) => this.#cancel(a, err), null)) return;
    this.#receivers.push(aio);
  }

  send(aio: NngAio): void {
    if (!nng_aio_start(aio, null)) return;
    const peer = this.peer;
    if (peer === null) return nng_aio_finish(aio, NNG_ECANCELED);
    peer.deliver(nng_aio_get_msg(aio));
    nng_aio_finish(aio, 0);
  }

  deliver(msg: unknown): void {
    const rx = this.#receivers.shift();
    if (rx === undefined) {
      this.#queue.push(msg);
      return;
    }
    nng_aio_set_msg(rx, msg);
    nng_aio_finish(rx, 0);
  }

  #cancel(aio: NngAio, err: number): void {
    const i = this.#receivers.indexOf(aio);
    if (i < 0) return; // already completed: too late
    this.#receivers.splice(i, 1);
    nng_aio_finish(aio, err);
  }
}

describe('nng aio_test', () => {
  test('nng aio_test: sleep', async () => {
    let at = -1;
    const aio = nng_aio_alloc(mustCall(() => void (at = nng_clock())));
    const start = nng_clock();
    nng_sleep_aio(200, aio);
    await nng_aio_wait(aio);
    const end = nng_clock();
    expect(nng_aio_result(aio)).toBe(0);
    expect(at - start).toBeGreaterThanOrEqual(200);
    expect(at - start).toBeLessThanOrEqual(1000);
    expect(end - start).toBeGreaterThanOrEqual(200);
    expect(end - start).toBeLessThanOrEqual(1000);
    nng_aio_free(aio);
  });

  test('nng aio_test: sleep timeout', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 100);
    const start = nng_clock();
    nng_sleep_aio(2000, aio);
    await nng_aio_wait(aio);
    const end = nng_clock();
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    expect(end - start).toBeGreaterThanOrEqual(100);
    expect(end - start).toBeLessThanOrEqual(1000);
    nng_aio_free(aio);
  });

  test('nng aio_test: insane nio', () => {
    const aio = nng_aio_alloc();
    const iov = { iov_buf: Buffer.alloc(1), iov_len: 1 };
    expect(nng_aio_set_iov(aio, 1024, [iov])).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('nng aio_test: provider cancel', async () => {
    let rv = 0;
    const aio = nng_aio_alloc();
    const cancel = mustCall((a: NngAio, _arg: unknown, err: number) => {
      rv = err;
      nng_aio_finish(a, err);
    });
    expect(nng_aio_begin(aio)).toBe(true);
    expect(nng_aio_defer(aio, cancel, null)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(rv).toBe(NNG_ECANCELED);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('nng aio_test: consumer cancel', async () => {
    const s = new FakeSocket();
    const cb = mustCall();
    const aio = nng_aio_alloc(cb);
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    s.recv(aio);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(cb.calls).toBe(1);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('nng aio_test: traffic', async () => {
    const s1 = new FakeSocket();
    const s2 = new FakeSocket();
    s1.peer = s2;
    s2.peer = s1;
    const rxCb = mustCall();
    const txCb = mustCall();
    const rx = nng_aio_alloc(rxCb);
    const tx = nng_aio_alloc(txCb);
    nng_aio_set_timeout(rx, 1000);
    nng_aio_set_timeout(tx, 1000);
    s2.recv(rx);
    nng_aio_set_msg(tx, 'hello');
    s1.send(tx);
    await nng_aio_wait(tx);
    await nng_aio_wait(rx);
    expect(nng_aio_result(rx)).toBe(0);
    expect(nng_aio_result(tx)).toBe(0);
    expect(nng_aio_get_msg(rx)).toBe('hello');
    expect(rxCb.calls).toBe(1);
    expect(txCb.calls).toBe(1);
    nng_aio_free(rx);
    nng_aio_free(tx);
  });

  test('nng aio_test: explicit timeout', async () => {
    const s = new FakeSocket();
    const cb = mustCall();
    const aio = nng_aio_alloc(cb);
    nng_aio_set_timeout(aio, 40);
    s.recv(aio);
    await nng_aio_wait(aio);
    expect(cb.calls).toBe(1);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('nng aio_test: explicit expire', async () => {
    const s = new FakeSocket();
    const cb = mustCall(() => {}, 2);
    const aio = nng_aio_alloc(cb);
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    nng_aio_set_expire(aio, nng_clock() + 40);
    s.recv(aio);
    await nng_aio_wait(aio);
    expect(cb.calls).toBe(1);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    // Added: the expiry is one-shot; the next receive waits (infinite timeout).
    s.recv(aio);
    await sleep(80);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('nng aio_test: inherited timeout', async () => {
    const s = new FakeSocket();
    s.recvTimeout = 40;
    const cb = mustCall();
    const aio = nng_aio_alloc(cb);
    const start = nng_clock();
    s.recv(aio); // the handle is left at NNG_DURATION_DEFAULT
    await nng_aio_wait(aio);
    expect(cb.calls).toBe(1);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    expect(nng_clock() - start).toBeGreaterThanOrEqual(40);
    nng_aio_free(aio);
  });

  test('nng aio_test: zero timeout', async () => {
    const s = new FakeSocket();
    const cb = mustCall();
    const aio = nng_aio_alloc(cb);
    nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
    s.recv(aio);
    expect(cb.calls).toBe(0); // through the callback, not synchronously
    await nng_aio_wait(aio);
    expect(cb.calls).toBe(1);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('nng aio_test: aio reap', async () => {
    const aio = nng_aio_alloc(mustCall(() => nng_aio_reap(aio)));
    nng_sleep_aio(10, aio);
    await sleep(100);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
  });

  /** The callback of `sleep loop` and `sleep cancel`: count successful sleeps up to `limit`. */
  function sleepLoop(limit: number, interval: number) {
    const st = { count: 0, result: 0, done: false, end: 0, resolve: () => {} };
    const done = new Promise<void>((r) => (st.resolve = r));
    const aio = nng_aio_alloc(() => {
      const rv = nng_aio_result(aio);
      if (rv !== 0) {
        st.result = rv;
        st.done = true;
      } else if (++st.count >= limit) {
        st.done = true;
      } else {
        nng_sleep_aio(interval, aio);
        return;
      }
      st.end = nng_clock();
      st.resolve();
    });
    return { st, done, aio };
  }

  test('nng aio_test: sleep loop', async () => {
    const { st, done, aio } = sleepLoop(3, 50);
    const start = nng_clock();
    nng_sleep_aio(100, aio);
    await done;
    const dur = st.end - start;
    expect(dur).toBeGreaterThanOrEqual(200); // 100 + 50 + 50: the upstream bound of 150 is loose
    expect(dur).toBeLessThanOrEqual(1500);
    expect(st.done).toBe(true);
    expect(st.result).toBe(0);
    expect(st.count).toBe(3);
    nng_aio_free(aio);
  });

  test('nng aio_test: sleep cancel', async () => {
    const { st, done, aio } = sleepLoop(10, 100);
    const start = nng_clock();
    nng_sleep_aio(500, aio);
    await sleep(150);
    nng_aio_cancel(aio);
    await done;
    expect(st.end - start).toBeGreaterThanOrEqual(100);
    expect(st.done).toBe(true);
    expect(st.result).toBe(NNG_ECANCELED);
    expect(st.count).toBe(0); // upstream's dead `count == 1` check is wrong: the cancel hits the first sleep
    nng_aio_free(aio);
  });

  test('nng aio_test: aio busy', async () => {
    const aio = nng_aio_alloc();
    nng_sleep_aio(100, aio);
    expect(nng_aio_busy(aio)).toBe(true);
    await nng_aio_wait(aio);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });

  test('nng aio_test: scatter gather too many', () => {
    const aio = nng_aio_alloc();
    const iov = Array.from({ length: 32 }, () => ({ iov_buf: Buffer.from('abc'), iov_len: 3 }));
    expect(nng_aio_set_iov(aio, 32, iov)).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });
});

describe('nng protocol tests (aio cases)', () => {
  test('nng pull_test: pull recv abort', async () => {
    const s = new FakeSocket();
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 1000);
    s.recv(aio);
    nng_aio_abort(aio, NNG_ESTATE);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTATE);
    nng_aio_free(aio);
  });

  test('nng sub_test: sub ctx recv abort', async () => {
    const s = new FakeSocket();
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 1000);
    s.recv(aio);
    nng_aio_abort(aio, NNG_EINTERNAL);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EINTERNAL);
    nng_aio_free(aio);
  });

  test('nng bus_test: bus recv cancel', async () => {
    const s = new FakeSocket();
    const aio = nng_aio_alloc(mustCall());
    s.recv(aio);
    nng_aio_abort(aio, NNG_ECANCELED);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('nng req_test: req ctx send abort (three handles in flight, each aborted)', async () => {
    const s = new FakeSocket();
    const aios = [0, 1, 2].map(() => nng_aio_alloc(mustCall()));
    for (const a of aios) s.recv(a);
    for (const a of aios) {
      nng_aio_abort(a, NNG_ECANCELED);
      await nng_aio_wait(a);
      expect(nng_aio_result(a)).toBe(NNG_ECANCELED);
    }
    for (const a of aios) nng_aio_free(a);
  });
});
