/**
 * The programs a user of the published package would write, as source text. The
 * packaging test writes them into a temporary project outside the repository, next
 * to a node_modules/posix-aio installed from the packed tarball, and runs them
 * there (JavaScript) or type-checks them (TypeScript).
 *
 * They are strings, not files, so that the repository's own type-check (whose
 * tsconfig includes test/) never tries to resolve 'posix-aio' against a dist/ that
 * may not have been built.
 */

/**
 * ESM: a real aio_read of the file named by $DATA (from offset 6), waited with
 * aio_suspend; prints one JSON line.
 */
export const ESM_READ = `
import { AioControlBlock, aio_read, aio_error, aio_suspend, aio_return, errno, EINPROGRESS,
  nng_aio_alloc, nng_aio_set_iov, nng_aio_wait, nng_aio_result, nng_aio_count, nng_aio_free,
  nng_file_read } from 'posix-aio';
import { openSync, closeSync } from 'node:fs';

const fd = openSync(process.env.DATA, 'r');
const buf = Buffer.alloc(64);
const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length, aio_offset: 6 });
const submitted = aio_read(cb);
const inProgress = aio_error(cb) === EINPROGRESS;
const suspended = await aio_suspend([cb], 1, null);
const error = aio_error(cb);
const n = aio_return(cb);

const nbuf = Buffer.alloc(5);
const aio = nng_aio_alloc(null);
nng_aio_set_iov(aio, 1, [{ iov_buf: nbuf, iov_len: nbuf.length }]);
nng_file_read(fd, 0, aio);
await nng_aio_wait(aio);
const nng = { result: nng_aio_result(aio), count: nng_aio_count(aio), text: nbuf.toString() };
nng_aio_free(aio);
closeSync(fd);

console.log(JSON.stringify({
  resolved: import.meta.resolve('posix-aio'),
  submitted, inProgress, suspended, error, n, text: buf.toString('utf8', 0, n), errno: errno(), nng,
}));
`;

/**
 * CommonJS: aio_write then aio_read of the file named by $DATA with lio_listio
 * (LIO_WAIT); prints one JSON line.
 */
export const CJS_WRITE_READ = `
const aio = require('posix-aio');
const fs = require('node:fs');

(async () => {
  const fd = fs.openSync(process.env.DATA, 'r+');
  const out = Buffer.from('WORLD');
  const w = new aio.AioControlBlock({ aio_fildes: fd, aio_buf: out, aio_nbytes: out.length, aio_offset: 6 });
  const submitted = aio.aio_write(w);
  const suspended = await aio.aio_suspend([w], 1, { tv_sec: 10, tv_nsec: 0 });
  const written = aio.aio_return(w);

  const buf = Buffer.alloc(11);
  const r = new aio.AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length, aio_lio_opcode: aio.LIO_READ });
  const listio = await aio.lio_listio(aio.LIO_WAIT, [r], 1);
  const read = aio.aio_return(r);
  fs.closeSync(fd);

  const bad = aio.aio_fsync(aio.O_SYNC, new aio.AioControlBlock({ aio_fildes: fd }));
  console.log(JSON.stringify({
    resolved: require.resolve('posix-aio'),
    submitted, suspended, written, listio, read, text: buf.toString('utf8', 0, read),
    bad, ebadf: aio.errno() === aio.EBADF, isAioError: aio.lastError() instanceof aio.AioError,
  }));
})().catch((err) => { console.error(err); process.exitCode = 1; });
`;

/**
 * The dual-package hazard: one process loads the ESM copy (import) and the CommonJS
 * copy (createRequire) and crosses them. Each probe records its value or the error
 * it threw, so that one broken probe does not hide the others; prints one JSON line.
 */
export const DUAL = `
import * as esm from 'posix-aio';
import { createRequire } from 'node:module';
import { openSync, closeSync } from 'node:fs';

const require = createRequire(import.meta.url);
const cjs = require('posix-aio');
const out = {};
async function probe(name, fn) {
  try { out[name] = { value: await fn() }; } catch (err) { out[name] = { threw: String(err && err.stack || err) }; }
}

const fd = openSync(process.env.DATA, 'r');

await probe('copies', () => ({
  esm: import.meta.resolve('posix-aio'),
  cjs: require.resolve('posix-aio'),
  distinctFunctions: esm.aio_read !== cjs.aio_read && esm.AioControlBlock !== cjs.AioControlBlock,
}));

await probe('names', () => {
  const e = Object.keys(esm).sort();
  const c = Object.keys(cjs).filter((k) => k !== 'default' && k !== '__esModule').sort();
  return { onlyEsm: e.filter((k) => !c.includes(k)), onlyCjs: c.filter((k) => !e.includes(k)), count: e.length };
});

await probe('aiocb', async () => {
  const buf = Buffer.alloc(64);
  const cb = new cjs.AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length });
  const submitted = cjs.aio_read(cb);
  const inProgress = esm.aio_error(cb) === esm.EINPROGRESS;
  const suspended = await esm.aio_suspend([cb], 1, { tv_sec: 10, tv_nsec: 0 });
  const error = esm.aio_error(cb);
  const n = esm.aio_return(cb);
  const again = cjs.aio_return(cb);
  return { submitted, inProgress, suspended, error, n, text: buf.toString('utf8', 0, Math.max(n, 0)),
    secondReturnIsEinval: again === -1 && cjs.errno() === cjs.EINVAL };
});

await probe('errno', () => {
  const rc = cjs.aio_read(new cjs.AioControlBlock({ aio_fildes: fd, aio_reqprio: 99 }));
  const le = esm.lastError();
  return { rc, esmErrnoIsEinval: esm.errno() === esm.EINVAL, sameLastError: le === cjs.lastError(),
    instanceofEsm: le instanceof esm.AioError, instanceofCjs: le instanceof cjs.AioError };
});

await probe('aioError', () => {
  const fromEsm = new esm.AioError(esm.EBADF, 'aio_read');
  const fromCjs = new cjs.AioError(cjs.EIO, 'read');
  return { esmInCjs: fromEsm instanceof cjs.AioError, cjsInEsm: fromCjs instanceof esm.AioError,
    stillError: fromEsm instanceof Error && fromCjs instanceof Error, notOther: !({} instanceof esm.AioError) && !(new Error('x') instanceof cjs.AioError) };
});

await probe('engine', () => {
  const before = cjs.sysconf(cjs._SC_AIO_MAX);
  esm.aio_init({ aio_max: before + 7 });
  const seen = cjs.sysconf(cjs._SC_AIO_MAX);
  cjs.aio_init({ aio_max: before });
  return { shared: seen === before + 7 && esm.sysconf(esm._SC_AIO_MAX) === before };
});

await probe('promises', async () => {
  const e = Object.keys(esm.promises).sort();
  const c = Object.keys(cjs.promises).sort();
  const buf = Buffer.alloc(5);
  const r = await cjs.promises.read(fd, buf, { position: 0n });
  const fh = await esm.promises.open(process.env.DATA, 'r');
  const v = [Buffer.alloc(2), Buffer.alloc(3)];
  const rv = await fh.readv(v, { position: 0 });
  await fh.close();
  const closed = await fh.read(Buffer.alloc(1)).then(() => null, (err) => err);
  const ac = new AbortController();
  ac.abort();
  const aborted = await cjs.promises.read(fd, Buffer.alloc(1), { signal: ac.signal }).then(() => null, (err) => err);
  const bad = await esm.promises.read(fd, 'x').then(() => null, (err) => err);
  return {
    same: e.length > 5 && e.join() === c.join(), esmOnly: e.filter((k) => !c.includes(k)),
    read: { n: r.bytesRead, text: buf.toString(), sameBuffer: r.buffer === buf },
    handle: { esmClass: fh instanceof esm.AioFileHandle, n: rv.bytesRead, text: Buffer.concat(v).toString() },
    closed: { code: closed && closed.code, errno: closed && closed.errno, syscall: closed && closed.syscall, inEsm: closed instanceof esm.AioError, inCjs: closed instanceof cjs.AioError },
    aborted: { name: aborted && aborted.name, code: aborted && aborted.code, cause: aborted && aborted.cause === ac.signal.reason },
    bad: { name: bad && bad.name, code: bad && bad.code },
  };
});

await probe('nng', async () => {
  const buf = Buffer.alloc(5);
  const aio = esm.nng_aio_alloc(null);
  cjs.nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: buf.length }]);
  cjs.nng_file_read(fd, 0, aio);
  await esm.nng_aio_wait(aio);
  const r = { result: cjs.nng_aio_result(aio), count: esm.nng_aio_count(aio), text: buf.toString() };
  cjs.nng_aio_free(aio);
  return r;
});

closeSync(fd);
console.log(JSON.stringify(out));
`;

/** TypeScript, ESM: every line type-checks, and the @ts-expect-error lines prove the types are not `any`. */
export const TS_ESM = `
import {
  AioControlBlock, AioError, aio_read, aio_error, aio_return, aio_suspend, lio_listio, aio_cancel,
  nng_aio_alloc, nng_aio_set_iov, nng_file_read, nng_aio_result,
  EINVAL, LIO_WAIT, SIGEV_THREAD,
  type Aiocb, type SigEvent, type Timespec, type NngAio,
  promises as paio, AioFileHandle,
} from 'posix-aio';

const sigev: SigEvent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: (v: unknown) => void v };
const cb = new AioControlBlock({ aio_fildes: 0, aio_buf: new Uint8Array(4), aio_nbytes: 4, aio_sigevent: sigev });
const plain: Aiocb = { aio_fildes: 0, aio_buf: null, aio_nbytes: 0 };
const rc: number = aio_read(cb);
const st: number = aio_error(plain);
const ts: Timespec = { tv_sec: 1, tv_nsec: 0 };
const waited: Promise<number> = aio_suspend([cb, null], 2, ts);
const listed: Promise<number> = lio_listio(LIO_WAIT, [cb], 1);
const canceled: number = aio_cancel(0, cb);
const n: number = aio_return(cb);
const e = new AioError(EINVAL, 'aio_read');
const code: string = e.code;
const errnoValue: number = e.errno;
const aio: NngAio = nng_aio_alloc(() => undefined);
nng_aio_set_iov(aio, 1, [{ iov_buf: new Uint8Array(8), iov_len: 8 }]);
nng_file_read(3, 0n, aio);
const result: number = nng_aio_result(aio);
const read: Promise<paio.ReadResult<Uint8Array>> = paio.read(3, new Uint8Array(4), { position: 0n, timeout: 10, priority: 1, signal: AbortSignal.timeout(5) });
const handle: Promise<AioFileHandle> = paio.open('/tmp/x', 'r');
// @ts-expect-error position is a number, a bigint or null
const badPosition = paio.read(3, new Uint8Array(4), { position: '0' });

// @ts-expect-error aio_read returns a number
const wrong: string = aio_read(cb);
// @ts-expect-error aio_fildes is a number
const badField = new AioControlBlock({ aio_fildes: 'zero' });
// @ts-expect-error aio_suspend returns a Promise
const notAwaited: number = aio_suspend([cb], 1);
// @ts-expect-error there is no such export
import('posix-aio').then((m) => m.aio_nonexistent);

export { rc, st, waited, listed, canceled, n, code, errnoValue, result, read, handle, badPosition, wrong, badField, notAwaited };
`;

/** TypeScript, CommonJS (a .cts file under NodeNext, resolved through the "require" condition). */
export const TS_CJS = `
import aio = require('posix-aio');

const cb = new aio.AioControlBlock({ aio_fildes: 0 });
const rc: number = aio.aio_read(cb);
const e: aio.AioError = new aio.AioError(aio.EIO, 'read');
// @ts-expect-error aio_error returns a number
const wrong: string = aio.aio_error(cb);

export = { rc, e, wrong };
`;

/** TypeScript that must fail: a deliberate type error (line 4). */
export const TS_BAD = `
import { AioControlBlock, aio_read } from 'posix-aio';

const n: string = aio_read(new AioControlBlock());
export { n };
`;
