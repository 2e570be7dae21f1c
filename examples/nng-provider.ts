/**
 * A custom provider written with the public provider calls (nng 2.x style:
 * nng_aio_reset / nng_aio_start / nng_aio_finish): a delayed echo. It reads input 0,
 * and after `delay` ms sets output 0 to the same text and finishes with its length
 * as the count. It cancels on request, so timeouts, cancel and stop work on it.
 *
 * Run: npx tsx examples/nng-provider.ts
 */
import {
  NNG_EINVAL,
  type NngAio,
  nng_aio_alloc,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_input,
  nng_aio_get_output,
  nng_aio_reset,
  nng_aio_result,
  nng_aio_set_input,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_wait,
  nng_strerror,
} from '../src/index';

/** Starts a delayed echo of input 0 on `aio`. */
export function echo(aio: NngAio, delay: number): void {
  const text = nng_aio_get_input(aio, 0);
  if (typeof text !== 'string') {
    // A synchronous failure: reset, then finish without start. The callback still runs later.
    nng_aio_reset(aio);
    nng_aio_finish(aio, NNG_EINVAL);
    return;
  }
  const op: { timer: NodeJS.Timeout | null } = { timer: null };
  const cancel = (a: NngAio, arg: unknown, err: number): void => {
    const o = arg as typeof op;
    if (o.timer === null) return; // already completed: too late to cancel
    clearTimeout(o.timer);
    o.timer = null;
    nng_aio_finish(a, err);
  };
  // false: stopped, timed out at once, ...: the callback already has the reason.
  if (!nng_aio_start(aio, cancel, op)) return;
  op.timer = setTimeout(() => {
    op.timer = null;
    nng_aio_set_output(aio, 0, text); // outputs before finish
    nng_aio_finish(aio, 0, Buffer.byteLength(text));
  }, delay);
}

export interface ProviderResult {
  echoed: unknown;
  count: number;
  canceled: string;
  timedOut: string;
  invalid: string;
  callbacks: number;
}

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<ProviderResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  let callbacks = 0;
  const aio = nng_aio_alloc(() => {
    callbacks++;
    log(`callback: ${nng_strerror(nng_aio_result(aio))}`);
  });

  nng_aio_set_input(aio, 0, 'hello, nng');
  echo(aio, 20);
  await nng_aio_wait(aio);
  const echoed = nng_aio_get_output(aio, 0);
  const count = nng_aio_count(aio);

  echo(aio, 10_000);
  nng_aio_cancel(aio);
  await nng_aio_wait(aio);
  const canceled = nng_strerror(nng_aio_result(aio));

  nng_aio_set_timeout(aio, 30);
  echo(aio, 10_000);
  await nng_aio_wait(aio);
  const timedOut = nng_strerror(nng_aio_result(aio));

  nng_aio_set_input(aio, 0, 42);
  echo(aio, 10);
  await nng_aio_wait(aio);
  const invalid = nng_strerror(nng_aio_result(aio));

  nng_aio_free(aio);
  return { echoed, count, canceled, timedOut, invalid, callbacks };
}

if (process.argv[1] !== undefined && /nng-provider\.ts$/.test(process.argv[1])) {
  void main().then((r) => console.log(r));
}
