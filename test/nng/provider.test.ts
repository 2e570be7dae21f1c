/**
 * The provider side: nng_aio_begin / nng_aio_defer (nng 1.x), nng_aio_reset /
 * nng_aio_start (nng 2.x) and nng_aio_finish (SPEC §3; research/nng-aio.md §4, §11).
 */
import {
  NNG_DURATION_ZERO,
  NNG_ECANCELED,
  NNG_EINVAL,
  NNG_EPROTO,
  NNG_ESTATE,
  NNG_ESTOPPED,
  NNG_ETIMEDOUT,
  type NngAio,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_begin,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_defer,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_input,
  nng_aio_get_msg,
  nng_aio_get_output,
  nng_aio_reset,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_input,
  nng_aio_set_msg,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_stop,
  nng_aio_wait,
  nng_clock,
} from '../../src/index';
import { flush, mustCall, mustNotCall, sleep } from '../helpers/mustcall';

const finishWithReason = (a: NngAio, _arg: unknown, err: number): void => nng_aio_finish(a, err);

describe('nng_aio_begin', () => {
  test('returns true on a live handle and makes it busy', async () => {
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_begin(aio)).toBe(true);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('returns false on a stopped handle and runs the callback with NNG_ESTOPPED, every time', async () => {
    const results: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => results.push(nng_aio_result(aio)), 2));
    await nng_aio_stop(aio);
    expect(nng_aio_begin(aio)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_begin(aio)).toBe(false);
    await nng_aio_wait(aio);
    expect(results).toEqual([NNG_ESTOPPED, NNG_ESTOPPED]);
    nng_aio_free(aio);
  });

  test('does not check the timeout: begin then finish completes even with NNG_DURATION_ZERO', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
    expect(nng_aio_begin(aio)).toBe(true);
    nng_aio_finish(aio, 0, 5);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(5);
    nng_aio_free(aio);
  });

  test('throws when called twice for one operation', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    expect(() => nng_aio_begin(aio)).toThrow(/in flight/);
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });
});

describe('nng_aio_defer', () => {
  test('registers the cancel function, called as cancelFn(aio, arg, err) exactly once', async () => {
    const arg = { id: 1 };
    const aio = nng_aio_alloc(mustCall());
    const cancel = mustCall((a: NngAio, got: unknown, err: number) => {
      expect(a).toBe(aio);
      expect(got).toBe(arg);
      expect(err).toBe(NNG_ECANCELED);
      nng_aio_finish(a, err);
    });
    expect(nng_aio_begin(aio)).toBe(true);
    expect(nng_aio_defer(aio, cancel, arg)).toBe(true);
    nng_aio_cancel(aio);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('nanomsg/nng#2208: an abort between begin and defer ends in exactly one callback with the abort code', async () => {
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_begin(aio)).toBe(true);
    nng_aio_abort(aio, NNG_ESTATE);
    expect(nng_aio_busy(aio)).toBe(true);
    expect(nng_aio_defer(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTATE);
    nng_aio_free(aio);
  });

  test('a stop between begin and defer does not hang: defer returns false and the callback gets NNG_ESTOPPED', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    let stopped = false;
    const p = nng_aio_stop(aio).then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    expect(nng_aio_defer(aio, mustNotCall(), null)).toBe(false);
    await p;
    expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
    nng_aio_free(aio);
  });

  test('returns false with NNG_DURATION_ZERO: the callback gets NNG_ETIMEDOUT and the cancel function is not called', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
    nng_aio_begin(aio);
    expect(nng_aio_defer(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('returns false after the operation finished', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    nng_aio_finish(aio, 0);
    expect(nng_aio_defer(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('called again in the same operation replaces the cancel function', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    expect(nng_aio_defer(aio, mustNotCall(), null)).toBe(true);
    expect(nng_aio_defer(aio, mustCall(finishWithReason), null)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('a null cancel function makes the operation uncancelable and exempt from its timeout', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 10);
    nng_aio_begin(aio);
    expect(nng_aio_defer(aio, null)).toBe(true);
    nng_aio_cancel(aio);
    await sleep(40);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_finish(aio, 0, 4);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(4);
    nng_aio_free(aio);
  });

  test('throws a TypeError when the cancel function is not a function', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_aio_defer(aio, 42 as never)).toThrow(TypeError);
    nng_aio_free(aio);
  });
});

describe('nng_aio_start', () => {
  test('begins and registers in one call', async () => {
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_start(aio, finishWithReason, null)).toBe(true);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_abort(aio, NNG_EPROTO);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EPROTO);
    nng_aio_free(aio);
  });

  test('returns false on a stopped handle: one callback with NNG_ESTOPPED, the operation never runs', async () => {
    const aio = nng_aio_alloc(mustCall());
    await nng_aio_stop(aio);
    expect(nng_aio_start(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
    nng_aio_free(aio);
  });

  test('returns false with NNG_DURATION_ZERO', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
    expect(nng_aio_start(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('returns false when the absolute expiry has already passed, without calling the cancel function', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_expire(aio, Math.max(0, nng_clock() - 10));
    expect(nng_aio_start(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('after nng_aio_begin, honours an abort that arrived in between', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    nng_aio_cancel(aio);
    expect(nng_aio_start(aio, mustNotCall(), null)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('throws when another operation is in flight', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, finishWithReason, null);
    expect(() => nng_aio_start(aio, finishWithReason, null)).toThrow(/in flight/);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });
});

describe('nng_aio_reset', () => {
  test('prepares a synchronous completion: finish without start still runs the callback once, later', async () => {
    let after = false;
    const aio = nng_aio_alloc(mustCall(() => expect(after).toBe(true)));
    nng_aio_reset(aio);
    nng_aio_finish(aio, NNG_EINVAL);
    after = true;
    expect(nng_aio_busy(aio)).toBe(true);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('clears result and count of the previous operation', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_reset(aio);
    nng_aio_finish(aio, NNG_ESTATE, 3);
    await nng_aio_wait(aio);
    nng_aio_reset(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('an abort between reset and start has no effect (nng 2.x: no operation has begun)', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_reset(aio);
    nng_aio_abort(aio, NNG_ESTATE);
    expect(nng_aio_start(aio, finishWithReason, null)).toBe(true);
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('throws while an operation is in flight', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, finishWithReason, null);
    expect(() => nng_aio_reset(aio)).toThrow(/in flight/);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });
});

describe('nng_aio_finish', () => {
  test('a second finish of the same operation is ignored: one callback, first result', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, null);
    nng_aio_finish(aio, NNG_EPROTO, 1);
    nng_aio_finish(aio, 0, 2);
    await nng_aio_wait(aio);
    nng_aio_finish(aio, 0, 3);
    await flush();
    expect(nng_aio_result(aio)).toBe(NNG_EPROTO);
    expect(nng_aio_count(aio)).toBe(1);
    nng_aio_free(aio);
  });

  test('without a count keeps the count, which begin cleared to 0', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, null);
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    expect(nng_aio_count(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('on a new handle (a synchronous completion) runs the callback once', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_finish(aio, NNG_EPROTO);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EPROTO);
    nng_aio_free(aio);
  });

  test('a late finish after the provider already finished on cancel gives no second callback', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, finishWithReason, null);
    nng_aio_cancel(aio);
    nng_aio_finish(aio, 0, 100); // the real completion, arriving too late
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    expect(nng_aio_count(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('is accepted for an operation in flight on a freed handle (the provider completes after free)', async () => {
    const cb = mustCall(() => expect(nng_aio_result(aio)).toBe(0));
    const aio = nng_aio_alloc(cb);
    nng_aio_start(aio, () => {}, null);
    nng_aio_free(aio);
    nng_aio_finish(aio, 0);
    await flush();
  });

  test('rejects a negative or fractional error code or count', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_aio_finish(aio, -1)).toThrow(RangeError);
    expect(() => nng_aio_finish(aio, 0, 1.5)).toThrow(RangeError);
    nng_aio_free(aio);
  });
});

describe('a provider whose handle is freed during its operation', () => {
  test('free between begin and defer: defer returns false and the callback runs once with NNG_ESTOPPED', async () => {
    const seen: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => seen.push(nng_aio_result(aio))));
    expect(nng_aio_begin(aio)).toBe(true);
    nng_aio_free(aio);
    expect(nng_aio_defer(aio, mustNotCall('the operation never registered'), null)).toBe(false);
    await flush();
    expect(seen).toEqual([NNG_ESTOPPED]);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
  });

  test('free between begin and start: start returns false with NNG_ESTOPPED', async () => {
    const seen: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => seen.push(nng_aio_result(aio))));
    expect(nng_aio_begin(aio)).toBe(true);
    nng_aio_free(aio);
    expect(nng_aio_start(aio, null)).toBe(false);
    await flush();
    expect(seen).toEqual([NNG_ESTOPPED]);
  });

  test('a declined cancel: the provider still reads its inputs and msg, sets outputs and msg, and finishes', async () => {
    const seen: unknown[] = [];
    const aio = nng_aio_alloc(mustCall(() => seen.push(nng_aio_result(aio), nng_aio_get_output(aio, 1), nng_aio_get_msg(aio))));
    nng_aio_set_input(aio, 0, 'request');
    nng_aio_set_msg(aio, 'sent');
    const cancels: number[] = [];
    expect(nng_aio_start(aio, (_a, _arg, err) => cancels.push(err), null)).toBe(true);
    nng_aio_free(aio);
    expect(cancels).toEqual([NNG_ESTOPPED]);
    // The operation is still in flight: its provider completes it.
    expect(nng_aio_get_input(aio, 0)).toBe('request');
    expect(nng_aio_get_msg(aio)).toBe('sent');
    expect(nng_aio_set_output(aio, 1, 'reply')).toBe(0);
    nng_aio_set_msg(aio, 'received');
    nng_aio_finish(aio, 0, 5);
    await flush();
    expect(seen).toEqual([0, 'reply', 'received']);
    // Once its callback has run, every call throws.
    expect(() => nng_aio_get_input(aio, 0)).toThrow(/freed/);
    expect(() => nng_aio_set_output(aio, 0, 1)).toThrow(/freed/);
    expect(() => nng_aio_defer(aio, null)).toThrow(/freed/);
    expect(() => nng_aio_finish(aio, 0)).toThrow(/freed/);
  });

  test('the consumer cannot use the handle once freed, even with the operation in flight', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(aio, () => {}, null);
    nng_aio_free(aio);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
    expect(() => nng_aio_set_timeout(aio, 1)).toThrow(/freed/);
    expect(() => nng_aio_reset(aio)).toThrow(/freed/);
    nng_aio_finish(aio, 0);
    await flush();
  });

  test('a cancel function that throws inside free still leaves the handle freed', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_start(
      aio,
      () => {
        throw new Error('cancel failed');
      },
      null,
    );
    expect(() => nng_aio_free(aio)).toThrow('cancel failed');
    expect(() => nng_aio_free(aio)).toThrow(/freed/);
    expect(() => nng_aio_busy(aio)).toThrow(/freed/);
    nng_aio_finish(aio, 0);
    await flush();
  });
});
