/**
 * The consumer side of the nng_aio handle (SPEC §3; research/nng-aio.md §3, §12).
 * Operations come from small fake providers written on the public provider calls.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NNG_AIO_MAX_IOV,
  NNG_DURATION_INFINITE,
  NNG_ECANCELED,
  NNG_EINTERNAL,
  NNG_EINVAL,
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
  nng_aio_reap,
  nng_aio_result,
  nng_aio_set_input,
  nng_aio_set_iov,
  nng_aio_set_msg,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_stop,
  nng_aio_wait,
  nng_sleep_aio,
} from '../../src/index';
import { cleanup, tmpDir } from '../helpers/files';
import { flush, mustCall, mustNotCall, sleep } from '../helpers/mustcall';

afterAll(cleanup);

/** A provider that never completes on its own and finishes with the reason when asked to cancel. */
function never(aio: NngAio): { cancels: number[] } {
  const rec = { cancels: [] as number[] };
  nng_aio_start(
    aio,
    (a, _arg, err) => {
      rec.cancels.push(err);
      nng_aio_finish(a, err);
    },
    null,
  );
  return rec;
}

/** A provider whose cancel function declines (an operation already in the thread pool). */
function refuser(aio: NngAio): { cancels: number[]; complete: (err?: number, count?: number) => void } {
  const rec = { cancels: [] as number[], complete: (err = 0, count = 0) => nng_aio_finish(aio, err, count) };
  nng_aio_start(aio, (_a, _arg, err) => rec.cancels.push(err), null);
  return rec;
}

/** A provider that finishes with `count` bytes after `ms`, and cancels on request. */
function delayed(aio: NngAio, ms: number, count: number): void {
  let timer: NodeJS.Timeout | null = null;
  if (!nng_aio_start(
    aio,
    (a, _arg, err) => {
      if (timer !== null) clearTimeout(timer);
      nng_aio_finish(a, err);
    },
    null,
  )) return;
  timer = setTimeout(() => nng_aio_finish(aio, 0, count), ms);
}

describe('nng_aio_alloc', () => {
  test('returns an idle handle with result 0, count 0, empty slots and no message', async () => {
    const aio = nng_aio_alloc(mustNotCall());
    expect(nng_aio_busy(aio)).toBe(false);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(0);
    for (let i = 0; i < 4; i++) {
      expect(nng_aio_get_input(aio, i)).toBeNull();
      expect(nng_aio_get_output(aio, i)).toBeNull();
    }
    expect(nng_aio_get_msg(aio)).toBeNull();
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('passes arg to the callback', async () => {
    const arg = { tag: 'x' };
    const cb = mustCall((a: unknown) => expect(a).toBe(arg));
    const aio = nng_aio_alloc(cb, arg);
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('accepts no callback: completion is seen through wait and busy', async () => {
    const aio = nng_aio_alloc();
    nng_sleep_aio(5, aio);
    expect(nng_aio_busy(aio)).toBe(true);
    await nng_aio_wait(aio);
    expect(nng_aio_busy(aio)).toBe(false);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('throws a TypeError when the callback is not a function', () => {
    expect(() => nng_aio_alloc('nope' as never)).toThrow(TypeError);
  });
});

describe('callback delivery', () => {
  test('runs the callback exactly once, never inside the call that finished it', async () => {
    let after = false;
    const cb = mustCall(() => expect(after).toBe(true));
    const aio = nng_aio_alloc(cb);
    expect(nng_aio_begin(aio)).toBe(true);
    nng_aio_finish(aio, 0);
    after = true;
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('never runs the callback inside abort, cancel or the submitting call', async () => {
    let inCall = false;
    const cb = mustCall(() => expect(inCall).toBe(false), 2);
    const aio = nng_aio_alloc(cb);
    inCall = true;
    never(aio);
    nng_aio_cancel(aio);
    inCall = false;
    await nng_aio_wait(aio);
    inCall = true;
    nng_aio_set_timeout(aio, 0);
    never(aio);
    inCall = false;
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('lets a timer fire while a callback resubmits an operation that fails at once (no starvation)', async () => {
    let loops = 0;
    let timerFired = false;
    const aio = nng_aio_alloc(() => {
      loops++;
      if (!timerFired) never(aio);
    });
    nng_aio_set_timeout(aio, 0);
    setTimeout(() => (timerFired = true), 5);
    never(aio);
    await nng_aio_wait(aio);
    expect(timerFired).toBe(true);
    expect(loops).toBeGreaterThan(1);
    nng_aio_free(aio);
  });

  test('never starts a resubmitted operation\'s callback before the previous one returned', async () => {
    let running = false;
    let n = 0;
    const aio = nng_aio_alloc(() => {
      expect(running).toBe(false);
      running = true;
      if (++n < 3) {
        nng_aio_begin(aio);
        nng_aio_finish(aio, 0);
      }
      running = false;
    });
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(n).toBe(3);
    nng_aio_free(aio);
  });

  test('a callback that throws leaves the handle consistent and surfaces as an uncaught exception', async () => {
    const script = path.join(tmpDir(), 'throwing-callback.ts');
    const src = path.resolve(__dirname, '../../src/index.ts');
    fs.writeFileSync(
      script,
      `import * as N from ${JSON.stringify(src)};
let thrown = 0;
process.on('uncaughtException', (e) => { thrown++; console.log('uncaught', e.message); });
const other = N.nng_aio_alloc(() => console.log('other', N.nng_aio_result(other)));
const aio = N.nng_aio_alloc(() => { throw new Error('boom'); });
N.nng_sleep_aio(1, aio);
N.nng_sleep_aio(1, other);
N.nng_aio_wait(aio).then(() => {
  console.log('busy', N.nng_aio_busy(aio));
  N.nng_sleep_aio(1, aio); // usable again
  return N.nng_aio_wait(aio);
}).then(() => console.log('thrown', thrown));
`,
    );
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', script], { timeout: 15000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(out).toContain('uncaught boom');
    expect(out).toContain('other 0');
    expect(out).toContain('busy false');
    expect(out).toContain('thrown 2');
  });
});

describe('one operation at a time', () => {
  test('throws when an operation is started while one is in flight', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_sleep_aio(5, aio);
    expect(() => nng_sleep_aio(5, aio)).toThrow(/in flight/);
    expect(() => nng_aio_begin(aio)).toThrow(/in flight/);
    expect(() => nng_aio_start(aio, null)).toThrow(/in flight/);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('throws while the finished operation\'s callback is still queued', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_begin(aio);
    nng_aio_finish(aio, 0);
    expect(() => nng_aio_begin(aio)).toThrow(/in flight/);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('allows resubmitting from the callback', async () => {
    let n = 0;
    const aio = nng_aio_alloc(
      mustCall(() => {
        if (++n < 3) nng_sleep_aio(1, aio);
      }, 3),
    );
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(n).toBe(3);
    nng_aio_free(aio);
  });
});

describe('nng_aio_free', () => {
  test('makes every later call throw an Error that says the handle was freed', () => {
    const aio = nng_aio_alloc();
    nng_aio_free(aio);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
    expect(() => nng_aio_busy(aio)).toThrow(/freed/);
    expect(() => nng_aio_wait(aio)).toThrow(/freed/);
    expect(() => nng_aio_stop(aio)).toThrow(/freed/);
    expect(() => nng_sleep_aio(1, aio)).toThrow(/freed/);
    expect(() => nng_aio_set_timeout(aio, 1)).toThrow(/freed/);
    expect(() => nng_aio_set_input(aio, 0, 1)).toThrow(/freed/);
    expect(() => nng_aio_cancel(aio)).toThrow(/freed/);
  });

  test('throws on a second free', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_free(aio)).toBeUndefined();
    expect(() => nng_aio_free(aio)).toThrow(/freed/);
    expect(() => nng_aio_reap(aio)).toThrow(/freed/);
  });

  test('lets an operation in flight complete exactly once with NNG_ESTOPPED; results are readable in that callback', async () => {
    const seen: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => seen.push(nng_aio_result(aio))));
    const rec = never(aio);
    nng_aio_free(aio);
    expect(rec.cancels).toEqual([NNG_ESTOPPED]);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
    await flush();
    expect(seen).toEqual([NNG_ESTOPPED]);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
  });

  test('waits for an operation whose cancel was declined: the callback runs once, with the real result', async () => {
    const seen: Array<[number, number]> = [];
    const aio = nng_aio_alloc(mustCall(() => seen.push([nng_aio_result(aio), nng_aio_count(aio)])));
    const rec = refuser(aio);
    nng_aio_free(aio);
    await flush();
    expect(seen).toEqual([]);
    rec.complete(0, 42);
    await flush();
    expect(seen).toEqual([[0, 42]]);
  });

  test('refuses to start anything from the final callback of a freed handle', async () => {
    const errors: string[] = [];
    const aio = nng_aio_alloc(
      mustCall(() => {
        try {
          nng_sleep_aio(1, aio);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }),
    );
    never(aio);
    nng_aio_free(aio);
    await flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/freed/);
  });

  test('is safe inside the handle\'s own callback', async () => {
    let freed = false;
    const aio = nng_aio_alloc(
      mustCall(() => {
        nng_aio_free(aio);
        freed = true;
      }),
    );
    nng_sleep_aio(1, aio);
    // The 1 ms sleep may end late on a loaded machine: wait for the callback, up to 5 s.
    for (let waited = 0; !freed && waited < 5000; waited += 10) await sleep(10);
    expect(freed).toBe(true);
    expect(() => nng_aio_busy(aio)).toThrow(/freed/);
  });
});

describe('nng_aio_reap', () => {
  test('frees the handle from its own callback; later use throws', async () => {
    const aio = nng_aio_alloc(mustCall(() => nng_aio_reap(aio)));
    nng_sleep_aio(5, aio);
    await sleep(30);
    expect(() => nng_aio_result(aio)).toThrow(/freed/);
  });

  test('from a callback that started another operation: that one ends with NNG_ESTOPPED in one last callback', async () => {
    const seen: number[] = [];
    const aio = nng_aio_alloc(
      mustCall(() => {
        seen.push(nng_aio_result(aio));
        if (seen.length === 1) {
          nng_sleep_aio(60000, aio);
          nng_aio_reap(aio);
        }
      }, 2),
    );
    nng_sleep_aio(1, aio);
    for (let waited = 0; seen.length < 2 && waited < 5000; waited += 10) await sleep(10);
    expect(seen).toEqual([0, NNG_ESTOPPED]);
    expect(() => nng_aio_busy(aio)).toThrow(/freed/);
  });

  test('frees an idle handle at once', () => {
    const aio = nng_aio_alloc();
    nng_aio_reap(aio);
    expect(() => nng_aio_count(aio)).toThrow(/freed/);
  });
});

describe('nng_aio_abort', () => {
  test.each([
    ['NNG_ESTATE', NNG_ESTATE],
    ['NNG_EINTERNAL', NNG_EINTERNAL],
    ['NNG_ECANCELED', NNG_ECANCELED],
  ])('passes %s through to the provider and the result unchanged', async (_name, code) => {
    const aio = nng_aio_alloc(mustCall());
    const rec = never(aio);
    nng_aio_abort(aio, code);
    await nng_aio_wait(aio);
    expect(rec.cancels).toEqual([code]);
    expect(nng_aio_result(aio)).toBe(code);
    nng_aio_free(aio);
  });

  test('calls the cancel function once for two aborts', async () => {
    const aio = nng_aio_alloc(mustCall());
    const rec = refuser(aio);
    nng_aio_abort(aio, NNG_ESTATE);
    nng_aio_cancel(aio);
    expect(rec.cancels).toEqual([NNG_ESTATE]);
    rec.complete(0);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('has no effect with no operation in flight, and leaves the next one unaffected', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_abort(aio, NNG_ESTATE);
    nng_aio_cancel(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_sleep_aio(5, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('has no effect inside the callback, after the operation completed', async () => {
    const aio = nng_aio_alloc(
      mustCall(() => {
        nng_aio_cancel(aio);
        expect(nng_aio_result(aio)).toBe(0);
      }),
    );
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });
});

describe('nng_aio_cancel', () => {
  test('ends a cancelable operation with NNG_ECANCELED', async () => {
    const aio = nng_aio_alloc(mustCall());
    const rec = never(aio);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(rec.cancels).toEqual([NNG_ECANCELED]);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });

  test('a declined cancel lets the operation end with its real result and count; no timeout fires afterwards', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_timeout(aio, 20);
    const rec = refuser(aio);
    nng_aio_cancel(aio);
    await sleep(60);
    expect(rec.cancels).toEqual([NNG_ECANCELED]);
    expect(nng_aio_busy(aio)).toBe(true);
    rec.complete(0, 7);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(7);
    nng_aio_free(aio);
  });
});

describe('nng_aio_stop', () => {
  test('resolves at once on an idle or never-used handle, and twice', async () => {
    const aio = nng_aio_alloc(mustNotCall());
    await nng_aio_stop(aio);
    await nng_aio_stop(aio);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });

  test('ends the operation with NNG_ESTOPPED and resolves after its callback returned', async () => {
    let returned = false;
    const aio = nng_aio_alloc(
      mustCall(() => {
        expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
        returned = true;
      }),
    );
    const rec = never(aio);
    await nng_aio_stop(aio);
    expect(returned).toBe(true);
    expect(rec.cancels).toEqual([NNG_ESTOPPED]);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });

  test('is permanent: every later start completes at once through the callback with NNG_ESTOPPED', async () => {
    const results: number[] = [];
    const aio = nng_aio_alloc(mustCall(() => results.push(nng_aio_result(aio)), 3));
    await nng_aio_stop(aio);
    for (let i = 0; i < 3; i++) {
      nng_sleep_aio(10_000, aio);
      expect(nng_aio_busy(aio)).toBe(true);
      await nng_aio_wait(aio);
    }
    expect(results).toEqual([NNG_ESTOPPED, NNG_ESTOPPED, NNG_ESTOPPED]);
    nng_aio_free(aio);
  });

  test('waits for an operation whose cancel was declined', async () => {
    const aio = nng_aio_alloc(mustCall());
    const rec = refuser(aio);
    let stopped = false;
    const p = nng_aio_stop(aio).then(() => (stopped = true));
    await sleep(20);
    expect(stopped).toBe(false);
    rec.complete(0, 3);
    await p;
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(3);
    nng_aio_free(aio);
  });

  test('inside the handle\'s own callback stops at once and resolves after the callback returns', async () => {
    let returned = false;
    let resolvedAfterReturn: boolean | null = null;
    const aio = nng_aio_alloc(
      mustCall(() => {
        if (nng_aio_result(aio) === NNG_ESTOPPED) return; // never resubmit after NNG_ESTOPPED
        void nng_aio_stop(aio).then(() => (resolvedAfterReturn = returned));
        nng_sleep_aio(1, aio); // refused: stopped, so one more callback with NNG_ESTOPPED
        returned = true;
      }, 2),
    );
    nng_sleep_aio(1, aio);
    await sleep(30);
    expect(resolvedAfterReturn).toBe(true);
    expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
    nng_aio_free(aio);
  });
});

describe('nng_aio_wait', () => {
  test('resolves at once when idle', async () => {
    const aio = nng_aio_alloc();
    await nng_aio_wait(aio);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('follows a chain of operations resubmitted from the callback', async () => {
    let n = 0;
    const aio = nng_aio_alloc(
      mustCall(() => {
        if (++n < 4) nng_sleep_aio(5, aio);
      }, 4),
    );
    nng_sleep_aio(5, aio);
    await nng_aio_wait(aio);
    expect(n).toBe(4);
    nng_aio_free(aio);
  });

  test('resolves only after the callback returned', async () => {
    let returned = false;
    const aio = nng_aio_alloc(mustCall(() => void (returned = true)));
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(returned).toBe(true);
    nng_aio_free(aio);
  });

  test('awaited inside the callback (an async callback), resolves after the callback function returned', async () => {
    let done = false;
    const aio = nng_aio_alloc(
      mustCall(async () => {
        expect(nng_aio_busy(aio)).toBe(true);
        await nng_aio_wait(aio);
        expect(nng_aio_busy(aio)).toBe(false);
        done = true;
      }),
    );
    nng_sleep_aio(1, aio);
    // The 1 ms sleep may end late on a loaded machine: wait for the callback, up to 5 s.
    for (let waited = 0; !done && waited < 5000; waited += 10) await sleep(10);
    expect(done).toBe(true);
    nng_aio_free(aio);
  });
});

describe('nng_aio_busy', () => {
  test('is true from submission, inside the callback and across a resubmit; false after wait', async () => {
    const seen: boolean[] = [];
    let n = 0;
    const aio = nng_aio_alloc(
      mustCall(() => {
        seen.push(nng_aio_busy(aio));
        if (++n < 2) nng_sleep_aio(1, aio);
        seen.push(nng_aio_busy(aio));
      }, 2),
    );
    expect(nng_aio_busy(aio)).toBe(false);
    nng_sleep_aio(1, aio);
    expect(nng_aio_busy(aio)).toBe(true);
    await nng_aio_wait(aio);
    expect(seen).toEqual([true, true, true, true]);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });

  test('is false after stop resolves', async () => {
    const aio = nng_aio_alloc(mustCall());
    never(aio);
    await nng_aio_stop(aio);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });
});

describe('nng_aio_result and nng_aio_count', () => {
  test('are cleared when the next operation begins, not when it finishes', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_begin(aio);
    nng_aio_finish(aio, NNG_ESTATE, 9);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTATE);
    expect(nng_aio_count(aio)).toBe(9);
    nng_aio_begin(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(0);
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    nng_aio_free(aio);
  });

  test('count reports the bytes of a provider that moved data', async () => {
    const aio = nng_aio_alloc(mustCall());
    delayed(aio, 5, 123);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(123);
    nng_aio_free(aio);
  });
});

describe('nng_aio_set_input', () => {
  test.each([0, 1, 2, 3])('stores slot %i and returns 0', (i) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_input(aio, i, `v${i}`)).toBe(0);
    expect(nng_aio_get_input(aio, i)).toBe(`v${i}`);
    nng_aio_free(aio);
  });

  test.each([4, 9, -1, 1.5, Number.NaN])('returns NNG_EINVAL for index %p and stores nothing', (i) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_input(aio, i, 'x')).toBe(NNG_EINVAL);
    expect(nng_aio_get_input(aio, i)).toBeNull();
    nng_aio_free(aio);
  });

  test('inputs persist across operations', async () => {
    const aio = nng_aio_alloc(mustCall());
    nng_aio_set_input(aio, 0, 'kept');
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_get_input(aio, 0)).toBe('kept');
    nng_aio_free(aio);
  });
});

describe('nng_aio_set_output', () => {
  test.each([0, 3])('stores slot %i and returns 0', (i) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_output(aio, i, 'o')).toBe(0);
    expect(nng_aio_get_output(aio, i)).toBe('o');
    nng_aio_free(aio);
  });

  test.each([4, 100, -1])('returns NNG_EINVAL for index %p; get_output gives null', (i) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_output(aio, i, 'o')).toBe(NNG_EINVAL);
    expect(nng_aio_get_output(aio, i)).toBeNull();
    nng_aio_free(aio);
  });

  test('outputs are cleared when an operation begins', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_begin(aio);
    nng_aio_set_output(aio, 1, 'reply');
    nng_aio_finish(aio, 0);
    await nng_aio_wait(aio);
    expect(nng_aio_get_output(aio, 1)).toBe('reply');
    nng_sleep_aio(1, aio);
    expect(nng_aio_get_output(aio, 1)).toBeNull();
    await nng_aio_wait(aio);
    expect(nng_aio_get_output(aio, 1)).toBeNull();
    nng_aio_free(aio);
  });
});

describe('nng_aio_set_iov', () => {
  const entry = () => ({ iov_buf: Buffer.from('abc'), iov_len: 3 });

  test.each([0, 1, 4, 8])('accepts %i entries', (n) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, n, Array.from({ length: n }, entry))).toBe(0);
    nng_aio_free(aio);
  });

  test.each([9, 32, 1024])('returns NNG_EINVAL for %i entries (more than 8)', (n) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, n, Array.from({ length: n }, entry))).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('accepts 0 entries with no array', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, 0, null)).toBe(0);
    nng_aio_free(aio);
  });

  test('returns NNG_EINVAL when niov exceeds the array', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, 3, [entry(), entry()])).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('returns NNG_EINVAL when iov_len exceeds its buffer', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: Buffer.alloc(2), iov_len: 3 }])).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test.each([
    ['a string', 'abc'],
    ['an ArrayBuffer', new ArrayBuffer(3)],
    ['an array', [1, 2, 3]],
    ['null', null],
  ])('returns NNG_EINVAL when iov_buf is %s', (_what, buf) => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: buf as never, iov_len: 1 }])).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('returns NNG_EINVAL for a negative or fractional niov or iov_len', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, -1, [])).toBe(NNG_EINVAL);
    expect(nng_aio_set_iov(aio, 1.5, [entry(), entry()])).toBe(NNG_EINVAL);
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: Buffer.alloc(4), iov_len: -1 }])).toBe(NNG_EINVAL);
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: Buffer.alloc(4), iov_len: 1.5 }])).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('counts iov_len in bytes for any ArrayBufferView', () => {
    const aio = nng_aio_alloc();
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: new Uint32Array(2), iov_len: 8 }])).toBe(0);
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: new DataView(new ArrayBuffer(4)), iov_len: 4 }])).toBe(0);
    nng_aio_free(aio);
  });

  test('the limit is NNG_AIO_MAX_IOV', () => {
    expect(NNG_AIO_MAX_IOV).toBe(8);
  });
});

describe('nng_aio_set_msg', () => {
  test('stores a message that survives operations', async () => {
    const aio = nng_aio_alloc(mustCall());
    const msg = { body: 'hello' };
    nng_aio_set_msg(aio, msg);
    nng_sleep_aio(1, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_get_msg(aio)).toBe(msg);
    nng_aio_free(aio);
  });
});

describe('persistent state', () => {
  test('the relative timeout persists across operations', async () => {
    const aio = nng_aio_alloc(mustCall(() => {}, 2));
    nng_aio_set_timeout(aio, 10);
    never(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    never(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ETIMEDOUT);
    nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
    nng_aio_free(aio);
  });

  test('nng_aio_defer on a handle with nothing begun begins the operation itself', async () => {
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_defer(aio, (a, _arg, err) => nng_aio_finish(a, err), null)).toBe(true);
    expect(nng_aio_busy(aio)).toBe(true);
    nng_aio_cancel(aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    nng_aio_free(aio);
  });
});
