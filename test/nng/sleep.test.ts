/**
 * nng_sleep_aio and nng_clock (research/nng-aio.md §3.15-3.16, §6, §12.1 item 11).
 */
import {
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_ECANCELED,
  NNG_ESTATE,
  NNG_ESTOPPED,
  NNG_ETIMEDOUT,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_timeout,
  nng_aio_stop,
  nng_aio_wait,
  nng_clock,
  nng_sleep_aio,
} from '../../src/index';
import { mustCall, sleep } from '../helpers/mustcall';

const CEILING = 1000;

async function timed(ms: number, setup: (aio: ReturnType<typeof nng_aio_alloc>) => void = () => {}): Promise<{ result: number; elapsed: number; count: number }> {
  const aio = nng_aio_alloc(mustCall());
  setup(aio);
  const t0 = nng_clock();
  nng_sleep_aio(ms, aio);
  await nng_aio_wait(aio);
  const out = { result: nng_aio_result(aio), elapsed: nng_clock() - t0, count: nng_aio_count(aio) };
  nng_aio_free(aio);
  return out;
}

describe('nng_sleep_aio', () => {
  test('completes with 0 and count 0 after at least ms', async () => {
    const r = await timed(50);
    expect(r.result).toBe(0);
    expect(r.count).toBe(0);
    expect(r.elapsed).toBeGreaterThanOrEqual(50);
    expect(r.elapsed).toBeLessThan(50 + CEILING);
  });

  test('0 ms completes with 0, later, through the callback', async () => {
    const r = await timed(0);
    expect(r.result).toBe(0);
  });

  test('a shorter timeout cuts it short with NNG_ETIMEDOUT at the timeout', async () => {
    const r = await timed(2000, (aio) => nng_aio_set_timeout(aio, 40));
    expect(r.result).toBe(NNG_ETIMEDOUT);
    expect(r.elapsed).toBeGreaterThanOrEqual(40);
    expect(r.elapsed).toBeLessThan(2000);
  });

  test('an equal timeout still gives 0', async () => {
    const r = await timed(30, (aio) => nng_aio_set_timeout(aio, 30));
    expect(r.result).toBe(0);
    expect(r.elapsed).toBeGreaterThanOrEqual(30);
  });

  test('NNG_DURATION_ZERO as the timeout gives NNG_ETIMEDOUT', async () => {
    const r = await timed(1000, (aio) => nng_aio_set_timeout(aio, NNG_DURATION_ZERO));
    expect(r.result).toBe(NNG_ETIMEDOUT);
    expect(r.elapsed).toBeLessThan(1000);
  });

  test('ignores nng_aio_set_expire, which then no longer applies', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_set_expire(aio, nng_clock() + 10);
    const t0 = nng_clock();
    nng_sleep_aio(60, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_clock() - t0).toBeGreaterThanOrEqual(60);
    nng_sleep_aio(30, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('leaves the stored timeout alone (nanomsg/nng PR #283)', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_set_timeout(aio, 100);
    nng_sleep_aio(10, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_sleep_aio(20, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('NNG_DURATION_INFINITE waits until canceled (nng 2.x), then gives NNG_ECANCELED', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_sleep_aio(NNG_DURATION_INFINITE, aio);
    await sleep(50);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('NNG_DURATION_INFINITE with a finite timeout ends at the timeout with NNG_ETIMEDOUT', async () => {
    const r = await timed(NNG_DURATION_INFINITE, (aio) => nng_aio_set_timeout(aio, 20));
    expect(r.result).toBe(NNG_ETIMEDOUT);
    expect(r.elapsed).toBeGreaterThanOrEqual(20);
  });

  test('stop ends it with NNG_ESTOPPED', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_sleep_aio(NNG_DURATION_INFINITE, aio);
    await nng_aio_stop(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
    nng_aio_free(aio);
  });

  test('an abort code is passed through', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_sleep_aio(10_000, aio);
    nng_aio_abort(aio, NNG_ESTATE);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTATE);
    nng_aio_free(aio);
  });

  test('on a stopped handle completes at once with NNG_ESTOPPED, every time', async () => {
    const results: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => results.push(nng_aio_result(aio)), 2));
    await nng_aio_stop(aio);
    nng_sleep_aio(10_000, aio);
    await nng_aio_wait(aio);
    nng_sleep_aio(10_000, aio);
    await nng_aio_wait(aio);
    expect(results).toEqual([NNG_ESTOPPED, NNG_ESTOPPED]);
    nng_aio_free(aio);
  });

  test('throws for ms that is not an int32 integer', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_sleep_aio(1.5, aio)).toThrow(RangeError);
    expect(() => nng_sleep_aio('1' as never, aio)).toThrow(TypeError);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });
});

describe('nng_clock', () => {
  test('returns integer milliseconds that never go backwards', () => {
    let last = nng_clock();
    for (let i = 0; i < 1000; i++) {
      const now = nng_clock();
      expect(Number.isInteger(now)).toBe(true);
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });

  test('nng platform_test clock: moves >= 200 and < 1200 across a 200 ms timer, and agrees with performance.now within 50', async () => {
    const c0 = nng_clock();
    const p0 = performance.now();
    await sleep(200);
    const dc = nng_clock() - c0;
    const dp = performance.now() - p0;
    expect(dc).toBeGreaterThanOrEqual(199); // the timer itself may fire up to 1 ms early (nodejs/node#26578)
    expect(dc).toBeLessThan(200 + CEILING);
    expect(Math.abs(dc - dp)).toBeLessThan(50);
  });
});
