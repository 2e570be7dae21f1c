/**
 * A file copy driven entirely by nng-style callbacks: read a chunk, write it, repeat,
 * then fsync; every step has its own timeout. No promises in the copy itself: each
 * callback starts the next step on the same handle, as nng code does.
 *
 * Run: npx tsx examples/nng-copy.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type NngAio,
  nng_aio_alloc,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_set_timeout,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  nng_strerror,
} from '../src/index';

const CHUNK = 64 * 1024;
const STEP_TIMEOUT_MS = 5000;

export interface CopyResult {
  /** 0, or the nng error of the step that failed. */
  result: number;
  bytes: number;
  /** read, write and fsync steps taken. */
  steps: number;
  /** Whether the destination equals the source. */
  equal: boolean;
}

/** Copies `src` to `dst` with nng callbacks; resolves when the last callback has run. */
export function copy(srcFd: number, dstFd: number, log: (line: string) => void): Promise<{ result: number; bytes: number; steps: number }> {
  return new Promise((resolve) => {
    const buf = Buffer.alloc(CHUNK);
    let offset = 0;
    let steps = 0;
    let phase: 'read' | 'write' | 'fsync' = 'read';
    const done = (result: number): void => {
      nng_aio_free(aio);
      resolve({ result, bytes: offset, steps });
    };
    const aio: NngAio = nng_aio_alloc(() => {
      steps++;
      const rv = nng_aio_result(aio);
      if (rv !== 0) {
        log(`${phase} failed: ${nng_strerror(rv)}`);
        return done(rv);
      }
      const n = nng_aio_count(aio);
      if (phase === 'read') {
        if (n === 0) {
          phase = 'fsync';
          return nng_file_fsync(dstFd, aio);
        }
        phase = 'write';
        nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: n }]);
        return nng_file_write(dstFd, offset, aio);
      }
      if (phase === 'write') {
        offset += n;
        log(`copied ${offset} bytes`);
        phase = 'read';
        nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: CHUNK }]);
        return nng_file_read(srcFd, offset, aio);
      }
      log('synced');
      done(0);
    });
    nng_aio_set_timeout(aio, STEP_TIMEOUT_MS); // persists: applies to every step
    nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: CHUNK }]);
    nng_file_read(srcFd, 0, aio);
  });
}

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<CopyResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nng-copy-'));
  const src = path.join(dir, 'source.bin');
  const dst = path.join(dir, 'copy.bin');
  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  fs.writeFileSync(src, data);
  const srcFd = fs.openSync(src, 'r');
  const dstFd = fs.openSync(dst, 'w');
  try {
    const r = await copy(srcFd, dstFd, log);
    return { ...r, equal: fs.readFileSync(dst).equals(data) };
  } finally {
    fs.closeSync(srcFd);
    fs.closeSync(dstFd);
    if (opts.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && /nng-copy\.ts$/.test(process.argv[1])) {
  void main().then((r) => console.log(r));
}
