/**
 * Found by the property model (test/reliability/model.ts) once merging was on in the
 * property runs: a request that shares a merged readv/writev, and that the call does
 * not reach (a short count ended before its bytes, or the call failed), is run alone
 * afterwards (queue.ts #runAlone). If aio_close was called on the descriptor
 * meanwhile, the engine used to end it with ECANCELED, although aio_cancel had
 * reported that very request as in the thread pool (AIO_NOTCANCELED): SPEC §2 says
 * such an operation "cannot be canceled and completes normally", and aio_close "waits
 * for what is in the thread pool". Now it runs alone, and the close waits for it.
 */
import {
  AIO_NOTCANCELED,
  AioControlBlock,
  EIO,
  EINPROGRESS,
  aio_cancel,
  aio_close,
  aio_error,
  aio_read,
  aio_return,
} from '../../src/index';
import { HeldBackend } from '../helpers/held-backend';
import { dropHeld, hold } from '../helpers/aio';
import { flush } from '../helpers/mustcall';

const FD = 1200;

afterEach(async () => {
  await dropHeld();
});

/** Three 4-byte reads at 0, 4 and 8; the first holds the only slot, the other two merge behind it. */
async function mergedPair(held: HeldBackend): Promise<AioControlBlock[]> {
  const cbs = [0, 4, 8].map((off) => new AioControlBlock({ aio_fildes: FD, aio_offset: off, aio_buf: new Uint8Array(4), aio_nbytes: 4 }));
  for (const cb of cbs) expect(aio_read(cb)).toBe(0);
  held.releaseNext();
  await flush(2);
  const ops = held.pending;
  expect(ops.map((o) => `${o.op}@${String(o.position)}/${o.length}`)).toEqual(['readv@4/8']);
  return cbs;
}

describe('a merged request the call did not reach, after AIO_NOTCANCELED and aio_close', () => {
  test('short merged readv: the unreached request runs alone, completes normally, and the close waits for it', async () => {
    const held = hold(1, new HeldBackend().open(FD));
    const [first, middle, last] = (await mergedPair(held)) as [AioControlBlock, AioControlBlock, AioControlBlock];
    // In the thread pool (inside the merged readv): cannot be canceled.
    expect(aio_cancel(FD, last)).toBe(AIO_NOTCANCELED);
    expect(aio_error(last)).toBe(EINPROGRESS);
    let closedAt = -1;
    const closed = aio_close(FD).then((rc) => {
      closedAt = held.log.length;
      return rc;
    });
    // The readv stops after the middle request's 4 bytes (as at end of file).
    (held.pending[0] as NonNullable<(typeof held.pending)[0]>).release({ bytes: 4 });
    await flush(3);
    expect(aio_return(first)).toBe(4);
    expect(aio_return(middle)).toBe(4);
    // The last one now runs alone; the descriptor is not closed before it completes.
    expect(held.pending.map((o) => `${o.op}@${String(o.position)}/${o.length}`)).toEqual(['read@8/4']);
    expect(closedAt).toBe(-1);
    (held.pending[0] as NonNullable<(typeof held.pending)[0]>).release({ bytes: 0 });
    expect(await closed).toBe(0);
    expect(aio_error(last)).toBe(0);
    expect(aio_return(last)).toBe(0);
  });

  test('failed merged readv: the unreached requests run alone and complete with their own results', async () => {
    const held = hold(1, new HeldBackend().open(FD));
    const [, middle, last] = (await mergedPair(held)) as [AioControlBlock, AioControlBlock, AioControlBlock];
    expect(aio_cancel(FD, middle)).toBe(AIO_NOTCANCELED);
    expect(aio_cancel(FD, last)).toBe(AIO_NOTCANCELED);
    const closed = aio_close(FD);
    (held.pending[0] as NonNullable<(typeof held.pending)[0]>).release({ error: 'EIO' });
    await flush(3);
    // Alone, one after the other in the merged call's slot: the middle fails, the last succeeds.
    (held.pending[0] as NonNullable<(typeof held.pending)[0]>).release({ error: 'EIO' });
    await flush(3);
    (held.pending[0] as NonNullable<(typeof held.pending)[0]>).release();
    expect(await closed).toBe(0);
    expect([aio_error(middle), aio_error(last)]).toEqual([EIO, 0]);
    expect([aio_return(middle), aio_return(last)]).toEqual([-1, 4]);
  });
});
