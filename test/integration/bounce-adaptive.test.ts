/**
 * Adaptive bounce reads (the default mode) through the real backend: whichever path
 * the policy takes, the caller sees exactly what a direct read gives. The policy's
 * choices are exercised by reading many times into the same buffers (probes alternate
 * the paths in phases); its decisions are tested on fake timings in
 * test/unit/engine/aligned-policy.test.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { bouncePolicy, bouncePool, DEFAULT_BOUNCE_MIN_BYTES, DEFAULT_BOUNCE_MODE, PHASE_READS } from '../../src/engine/aligned';
import { bouncedReads, nodeBackend } from '../../src/engine/dispatch';
import { AioControlBlock, SIGEV_THREAD, aio_error, aio_read, aio_return, allocAligned, configureBounce, nng_aio_alloc, nng_aio_count, nng_aio_free, nng_aio_result, nng_aio_set_iov, nng_file_read } from '../../src/index';
import { cleanup, tmpFile } from '../helpers/files';
import { mustCall } from '../helpers/mustcall';

afterAll(cleanup);
afterEach(() => configureBounce({ mode: DEFAULT_BOUNCE_MODE, minBytes: DEFAULT_BOUNCE_MIN_BYTES }));

const KiB = 1024;
const MiB = 1 << 20;

function read(fd: number, buf: ArrayBufferView, length: number, position: number | null): Promise<{ err: NodeJS.ErrnoException | null; n: number }> {
  return new Promise((resolve) => nodeBackend.read(fd, buf, length, position, mustCall((err, n) => resolve({ err, n }))));
}

describe('adaptive bounce reads (nodeBackend.read)', () => {
  const content = crypto.randomBytes(2 * MiB + 777);
  let file: { path: string; fd: number };
  beforeAll(() => {
    file = tmpFile(content);
  });

  test('is the default, from 256 KiB', () => {
    expect(configureBounce()).toMatchObject({ mode: 'adaptive', minBytes: 256 * KiB });
  });

  test('gives exactly the bytes a direct read gives, for many offsets, lengths and positions, short reads at EOF included, on both paths', async () => {
    // Small reads go through the policy too here, so that many combinations are cheap.
    configureBounce({ minBytes: 1 });
    const backing = new ArrayBuffer(MiB + 8 * KiB);
    const view = new Uint8Array(backing);
    const sentinel = Buffer.alloc(backing.byteLength, 0xee);
    const before = bouncedReads();
    let reads = 0;
    const offsets = [0, 1, 16, 4095, 4096, 5000];
    const lengths = [1, 4096, 65537, 300 * KiB, MiB];
    const positions = [0, 16, 4096, 12345, content.length - 100, content.length, content.length + 5];
    for (let round = 0; round < 2; round++) {
      for (const offset of offsets) {
        for (const length of lengths) {
          for (const position of positions) {
            view.fill(0xee);
            const r = await read(file.fd, new Uint8Array(backing, offset, length), length, position);
            reads++;
            const want = content.subarray(Math.min(position, content.length), Math.min(position + length, content.length));
            expect(r.err).toBeNull();
            expect(r.n).toBe(want.length);
            expect(Buffer.from(backing, offset, r.n).equals(want)).toBe(true);
            // Nothing outside the n bytes read was touched.
            expect(Buffer.from(backing, 0, offset).equals(sentinel.subarray(0, offset))).toBe(true);
            expect(Buffer.from(backing, offset + r.n).equals(sentinel.subarray(offset + r.n))).toBe(true);
          }
        }
      }
    }
    const viaSlot = bouncedReads() - before;
    expect(viaSlot).toBeGreaterThan(0);
    expect(viaSlot).toBeLessThan(reads);
    expect(bouncePool.lent).toBe(0);
  });

  test('a read with no position (a FIFO-like null) is routed too, and gives the bytes', async () => {
    configureBounce({ minBytes: 1 });
    const { fd } = tmpFile(content.subarray(0, 300 * KiB));
    const buf = Buffer.alloc(400 * KiB, 0x2e);
    const r = await read(fd, buf, 400 * KiB, null);
    expect(r).toEqual({ err: null, n: 300 * KiB });
    expect(buf.subarray(0, r.n).equals(content.subarray(0, 300 * KiB))).toBe(true);
    expect(buf.subarray(r.n).every((b) => b === 0x2e)).toBe(true);
  });

  test('errors (EBADF) come back exactly as from a direct read, once each, on both paths, the buffer untouched', async () => {
    const { fd } = tmpFile('x');
    fs.closeSync(fd);
    configureBounce({ mode: 'off' });
    const direct = await read(fd, Buffer.alloc(MiB), MiB, 0);
    expect(direct.err?.code).toBe('EBADF');
    configureBounce({ mode: 'adaptive' });
    const buf = Buffer.alloc(MiB, 0xcd);
    const before = bouncedReads();
    // Failed reads teach nothing, so the class keeps probing and both paths are taken.
    const n = 3 * PHASE_READS;
    for (let i = 0; i < n; i++) {
      const r = await read(fd, buf, MiB, i * MiB);
      expect(r.err?.code).toBe(direct.err?.code);
      expect(r.err?.syscall).toBe(direct.err?.syscall);
      expect(r.n).toBe(0);
    }
    const viaSlot = bouncedReads() - before;
    expect(viaSlot).toBeGreaterThan(0);
    expect(viaSlot).toBeLessThan(n);
    expect(buf.every((b) => b === 0xcd)).toBe(true);
    expect(bouncePool.lent).toBe(0);
  });

  test('a buffer detached before the read fails as a direct read does, and breaks nothing after', async () => {
    const make = (): Uint8Array => new Uint8Array(new ArrayBuffer(MiB + 16), 16, MiB);
    const buf = make();
    expect((await read(file.fd, buf, MiB, 0)).n).toBe(MiB);
    structuredClone(buf.buffer, { transfer: [buf.buffer as ArrayBuffer] });
    configureBounce({ mode: 'off' });
    const off = await read(file.fd, buf, MiB, 0);
    configureBounce({ mode: 'adaptive' });
    const adaptive = await read(file.fd, buf, MiB, 0);
    expect(off.err?.code).toBe('EFAULT');
    expect(adaptive.err?.code).toBe('EFAULT');
    expect(adaptive.n).toBe(0);
    const fresh = make();
    expect((await read(file.fd, fresh, MiB, 4096)).n).toBe(MiB);
    expect(Buffer.from(fresh).equals(content.subarray(4096, 4096 + MiB))).toBe(true);
  });

  test('allocAligned memory is not measured: aligned, it is read into directly', async () => {
    const buf = allocAligned(MiB);
    const before = bouncedReads();
    for (let i = 0; i < 2 * PHASE_READS; i++) expect((await read(file.fd, buf, MiB, (i % 2) * 4096)).n).toBe(MiB);
    expect(bouncedReads()).toBe(before);
    expect(bouncePolicy.classesOf(buf.buffer)).toBe(0);
    expect(buf.equals(content.subarray(4096, 4096 + MiB))).toBe(true);
  });

  test('reads below minBytes are not measured', async () => {
    const buf = Buffer.alloc(DEFAULT_BOUNCE_MIN_BYTES - 1);
    const before = bouncedReads();
    expect((await read(file.fd, buf, buf.length, 3)).n).toBe(buf.length);
    expect(bouncedReads()).toBe(before);
    expect(bouncePolicy.classesOf(buf.buffer)).toBe(0);
    expect(buf.equals(content.subarray(3, 3 + buf.length))).toBe(true);
  });
});

describe('adaptive bounce reads through the engine', () => {
  /** Views of one Buffer malloc maps (over 32 MiB), 16 bytes into a page, as bench/run.ts's 'mapped' row. */
  const mapped = (n: number): Buffer[] => {
    const backing = Buffer.allocUnsafeSlow(33 * MiB);
    return Array.from({ length: n }, (_, i) => backing.subarray(i * MiB, (i + 1) * MiB));
  };

  test('32 concurrent 1 MiB aio_reads into views of one mapped Buffer: each completes once, with its bytes', async () => {
    const n = 32;
    const content = crypto.randomBytes(n * MiB);
    const { fd } = tmpFile(content);
    const bufs = mapped(n);
    await new Promise<void>((resolve) => {
      let left = n;
      const done = mustCall(resolve);
      bufs.forEach((buf, i) => {
        const cb: AioControlBlock = new AioControlBlock({
          aio_fildes: fd,
          aio_buf: buf,
          aio_nbytes: MiB,
          aio_offset: i * MiB,
          aio_sigevent: {
            sigev_notify: SIGEV_THREAD,
            sigev_notify_function: mustCall(() => {
              expect(aio_error(cb)).toBe(0);
              expect(aio_return(cb)).toBe(MiB);
              expect(buf.equals(content.subarray(i * MiB, (i + 1) * MiB))).toBe(true);
              if (--left === 0) done();
            }),
          },
        });
        expect(aio_read(cb)).toBe(0);
      });
    });
    expect(bouncePool.lent).toBe(0);
  });

  test('nng_file_read (a one-segment iov, a readv) is routed like a read: the bytes, once, on both paths', async () => {
    const content = crypto.randomBytes(4 * MiB);
    const { fd } = tmpFile(content);
    const [buf] = mapped(1) as [Buffer];
    const before = bouncedReads();
    const rounds = 3 * PHASE_READS;
    for (let i = 0; i < rounds; i++) {
      buf.fill(0);
      const at = (i % 4) * MiB;
      await new Promise<void>((resolve) => {
        const aio = nng_aio_alloc(
          mustCall(() => {
            expect(nng_aio_result(aio)).toBe(0);
            expect(nng_aio_count(aio)).toBe(MiB);
            expect(buf.equals(content.subarray(at, at + MiB))).toBe(true);
            nng_aio_free(aio);
            resolve();
          }),
        );
        nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: MiB }]);
        nng_file_read(fd, at, aio);
      });
    }
    // Whatever the policy decided, its probe took the slot path at least once.
    expect(bouncedReads() - before).toBeGreaterThan(0);
    expect(bouncePool.lent).toBe(0);
  });
});
