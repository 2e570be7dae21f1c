/**
 * Timeouts and absolute expiry (SPEC §3; research/nng-aio.md §5, §12.1 items 9-10,
 * §12.3). Bounds: elapsed >= the timeout, and below a generous ceiling.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NNG_DURATION_DEFAULT,
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_ECANCELED,
  NNG_ETIMEDOUT,
  type NngAio,
  nng_aio_alloc,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_wait,
  nng_clock,
} from '../../src/index';
import { cleanup, tmpDir } from '../helpers/files';
import { mustCall, sleep } from '../helpers/mustcall';

afterAll(cleanup);

const CEILING = 1000;

/** Never completes on its own; finishes with the reason when asked to cancel. */
function never(aio: NngAio): boolean {
  return nng_aio_start(aio, (a, _arg, err) => nng_aio_finish(a, err), null);
}

describe('nng_aio_set_timeout', () => {
  test('times an operation out with NNG_ETIMEDOUT, no earlier than the timeout', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 40);
    const t0 = nng_clock();
    never(aio);
    await nng_aio_wait(aio);
    const elapsed = nng_clock() - t0;
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed).toBeLessThan(40 + CEILING);
    nng_aio_free(aio);
  });

  test.each([
    ['NNG_DURATION_INFINITE', NNG_DURATION_INFINITE],
    ['NNG_DURATION_DEFAULT', NNG_DURATION_DEFAULT],
  ])('%s gives no deadline', async (_name, value) => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, value);
    never(aio);
    await sleep(50);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('NNG_DURATION_ZERO fails at once with NNG_ETIMEDOUT through the callback', async () => {
    let after = false;
    const aio = nng_aio_alloc(mustCall(() => expect(after).toBe(true)));
    nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
    expect(never(aio)).toBe(false);
    after = true;
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('a negative timeout other than the sentinels gives a deadline already passed: NNG_ETIMEDOUT at once', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, -5);
    expect(never(aio)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('changing the timeout during an operation affects only the next one', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    never(aio);
    nng_aio_set_timeout(aio, 10);
    await sleep(40);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    never(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('replaces an absolute expiry set before it', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_expire(aio, nng_clock() + 10);
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    never(aio);
    await sleep(40);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('throws for a value that is not an int32 integer', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_aio_set_timeout(aio, 1.5)).toThrow(RangeError);
    expect(() => nng_aio_set_timeout(aio, 2 ** 31)).toThrow(RangeError);
    expect(() => nng_aio_set_timeout(aio, '5' as never)).toThrow(TypeError);
    nng_aio_free(aio);
  });

  test('an operation completed before its deadline leaves no timer behind (the timer is cleared)', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 30);
    nng_aio_start(aio, null); // no cancel function: no deadline at all
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    await sleep(50);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });
});

describe('nng_aio_set_expire', () => {
  test('times an operation out at the absolute deadline', async () => {
    const aio = nng_aio_alloc(mustCall());
    const t0 = nng_clock();
    nng_aio_set_expire(aio, t0 + 40);
    never(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    const elapsed = nng_clock() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed).toBeLessThan(40 + CEILING);
    nng_aio_free(aio);
  });

  test('applies to one operation only; the next uses the relative timeout', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    nng_aio_set_expire(aio, nng_clock() + 20);
    never(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    never(aio);
    await sleep(60);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('a deadline already passed fails the start at once with NNG_ETIMEDOUT', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_expire(aio, nng_clock());
    expect(never(aio)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('a deadline beyond setTimeout\'s range does not fire early', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_expire(aio, nng_clock() + 30 * 24 * 3600 * 1000);
    never(aio);
    await sleep(30);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('a time before the clock\'s origin (negative) is a deadline already passed, not an error', async () => {
    // nng_clock() - 1000 is negative early in a process; nng's clock is never that small.
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_expire(aio, nng_clock() - 1e9);
    expect(never(aio)).toBe(false);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_free(aio);
  });

  test('throws for a time that is not a finite number', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_aio_set_expire(aio, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => nng_aio_set_expire(aio, Number.NaN)).toThrow(RangeError);
    expect(() => nng_aio_set_expire(aio, '5' as unknown as number)).toThrow(TypeError);
    nng_aio_free(aio);
  });
});

describe('timers', () => {
  test('no timer is left behind: a process that used handles, sleeps and timeouts exits by itself', async () => {
    const script = path.join(tmpDir(), 'exits.ts');
    const src = path.resolve(__dirname, '../../src/index.ts');
    fs.writeFileSync(
      script,
      `import * as N from ${JSON.stringify(src)};
const log: string[] = [];
const a = N.nng_aio_alloc(() => log.push('sleep ' + N.nng_aio_result(a)));
N.nng_sleep_aio(20, a);
const b = N.nng_aio_alloc(() => log.push('timeout ' + N.nng_aio_result(b)));
N.nng_aio_set_timeout(b, 30);
N.nng_aio_start(b, (x, _arg, err) => N.nng_aio_finish(x, err), null);
const c = N.nng_aio_alloc(() => log.push('done ' + N.nng_aio_result(c)));
N.nng_aio_set_timeout(c, 60000);
N.nng_aio_start(c, (x, _arg, err) => N.nng_aio_finish(x, err), null);
setTimeout(() => N.nng_aio_finish(c, 0), 10);
const d = N.nng_aio_alloc(() => log.push('canceled ' + N.nng_aio_result(d)));
N.nng_sleep_aio(60000, d);
setTimeout(() => N.nng_aio_cancel(d), 5);
process.on('exit', () => console.log(log.sort().join(',')));
`,
    );
    const t0 = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', script], { timeout: 10000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(out.trim()).toBe(`canceled ${NNG_ECANCELED},done 0,sleep 0,timeout ${NNG_ETIMEDOUT}`);
    // Bounded by the runtime's start-up, not by the 60 s timeout and sleep it abandoned.
    expect(Date.now() - t0).toBeLessThan(9000);
  });
});
