import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { bouncePool, DEFAULT_BOUNCE_MIN_BYTES, DEFAULT_BOUNCE_MODE, SUGGESTED_BOUNCE_MIN_BYTES, type Slot } from '../../src/engine/aligned';
import { bouncedReads, nodeBackend } from '../../src/engine/dispatch';
import { AioControlBlock, aio_error, aio_read, aio_return, allocAligned, allocControlBlocks, configureBounce, isAligned } from '../../src/index';
import { settle } from '../helpers/aio';
import { cleanup, fifo, tmpFile } from '../helpers/files';
import { mustCall } from '../helpers/mustcall';

afterAll(cleanup);
// These tests bounce every read from the suggested threshold on (mode 'always'); the
// adaptive mode (the default) has its own file, test/integration/bounce-adaptive.test.ts.
beforeEach(() => configureBounce({ mode: 'always', minBytes: SUGGESTED_BOUNCE_MIN_BYTES }));
afterEach(() => configureBounce({ mode: DEFAULT_BOUNCE_MODE, minBytes: DEFAULT_BOUNCE_MIN_BYTES }));

const MiB = 1 << 20;

/** One nodeBackend.read, its callback asserted exactly once; resolves with what it reported and the slots lent when it ran. */
function read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null): Promise<{ err: NodeJS.ErrnoException | null; n: number; lent: number }> {
  return new Promise((resolve) => nodeBackend.read(fd, buf, length, position, mustCall((err, n) => resolve({ err, n, lent: bouncePool.lent }))));
}

function expected(path: string, position: number, length: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    return out.subarray(0, fs.readSync(fd, out, 0, length, position));
  } finally {
    fs.closeSync(fd);
  }
}

describe('bounce reads (nodeBackend.read)', () => {
  const content = crypto.randomBytes(3 * MiB + 1234);
  let file: { path: string; fd: number };
  beforeAll(() => {
    file = tmpFile(content);
  });

  test.each([
    ['an odd-offset subarray', () => Buffer.alloc(MiB + 64).subarray(13, 13 + MiB), 0],
    ['a plain Buffer at an unaligned file position', () => Buffer.alloc(MiB), 4095],
    ['a Uint32Array', () => new Uint32Array(MiB / 4), 8192],
    ['a DataView off the start of its buffer', () => new DataView(new ArrayBuffer(MiB + 8), 8, MiB), 100],
    ['our memory off its page, in the aliasing window', () => allocAligned(MiB + 4096).subarray(16, 16 + MiB), 0],
  ])('gives the bytes fs.readSync gives, into %s, through a slot', async (_, make, position) => {
    const buf = make();
    const before = bouncedReads();
    const r = await read(file.fd, buf, MiB, position);
    expect(r).toEqual({ err: null, n: MiB, lent: 0 });
    expect(bouncedReads()).toBe(before + 1);
    expect(Buffer.from(buf.buffer, buf.byteOffset, MiB).equals(expected(file.path, position, MiB))).toBe(true);
  });

  test('honours a bigint position', async () => {
    const buf = Buffer.alloc(MiB);
    const r = await read(file.fd, buf, MiB, 777n);
    expect(r.n).toBe(MiB);
    expect(buf.equals(expected(file.path, 777, MiB))).toBe(true);
  });

  test('a short read at end of file copies only what was read and reports that count', async () => {
    const buf = Buffer.alloc(2 * MiB, 0xee);
    const at = content.length - MiB - 10;
    const before = bouncedReads();
    const r = await read(file.fd, buf, 2 * MiB, at);
    expect(r).toEqual({ err: null, n: MiB + 10, lent: 0 });
    expect(bouncedReads()).toBe(before + 1);
    expect(buf.subarray(0, MiB + 10).equals(content.subarray(at))).toBe(true);
    expect(buf.subarray(MiB + 10).every((b) => b === 0xee)).toBe(true);
  });

  test('a read at end of file reports 0 and leaves the buffer alone', async () => {
    const buf = Buffer.alloc(MiB, 0xab);
    const r = await read(file.fd, buf, MiB, content.length);
    expect(r).toEqual({ err: null, n: 0, lent: 0 });
    expect(buf.every((b) => b === 0xab)).toBe(true);
  });

  test('an error (EBADF) releases the slot before the callback and leaves the buffer alone', async () => {
    const { fd } = tmpFile('x');
    fs.closeSync(fd);
    const buf = Buffer.alloc(MiB, 0xcd);
    const before = bouncedReads();
    const r = await read(fd, buf, MiB, 0);
    expect(r.err?.code).toBe('EBADF');
    expect(r.n).toBe(0);
    expect(r.lent).toBe(0);
    expect(bouncedReads()).toBe(before + 1);
    expect(buf.every((b) => b === 0xcd)).toBe(true);
  });

  test('a synchronous throw from fs (fd -1) releases the slot and reaches the callback as EBADF', async () => {
    const r = await read(-1, Buffer.alloc(MiB), MiB, 0);
    expect(r.err?.code).toBe('EBADF');
    expect(r.lent).toBe(0);
  });

  test('reads into allocAligned buffers and allocControlBlocks buffers go directly, and give the same bytes', async () => {
    const before = bouncedReads();
    const a = allocAligned(MiB);
    const [cb] = allocControlBlocks(1, { fd: file.fd, nbytes: MiB });
    const b = cb?.aio_buf as Buffer;
    expect(isAligned(a) && isAligned(b)).toBe(true);
    expect((await read(file.fd, a, MiB, 0)).n).toBe(MiB);
    expect((await read(file.fd, b, MiB, 2 * MiB)).n).toBe(MiB);
    expect(bouncedReads()).toBe(before);
    expect(a.equals(content.subarray(0, MiB))).toBe(true);
    expect(b.equals(content.subarray(2 * MiB, 3 * MiB))).toBe(true);
  });

  test('reads below the threshold go directly', async () => {
    const before = bouncedReads();
    const buf = Buffer.alloc(MiB - 1);
    expect((await read(file.fd, buf, MiB - 1, 5)).n).toBe(MiB - 1);
    expect(bouncedReads()).toBe(before);
    expect(buf.equals(content.subarray(5, MiB + 4))).toBe(true);
  });

  test('minBytes Infinity turns bouncing off', async () => {
    expect(configureBounce({ minBytes: Infinity }).minBytes).toBe(Infinity);
    const before = bouncedReads();
    const buf = Buffer.alloc(2 * MiB);
    expect((await read(file.fd, buf, 2 * MiB, 0)).n).toBe(2 * MiB);
    expect(bouncedReads()).toBe(before);
    expect(buf.equals(content.subarray(0, 2 * MiB))).toBe(true);
  });

  test('when the pool is exhausted the read goes directly', async () => {
    const held: Slot[] = [];
    for (let s = bouncePool.acquire(MiB); s !== null; s = bouncePool.acquire(MiB)) held.push(s);
    try {
      const before = bouncedReads();
      const buf = Buffer.alloc(MiB);
      expect((await read(file.fd, buf, MiB, 0)).n).toBe(MiB);
      expect(bouncedReads()).toBe(before);
      expect(buf.equals(content.subarray(0, MiB))).toBe(true);
    } finally {
      for (const s of held) bouncePool.release(s);
    }
    expect(bouncePool.lent).toBe(0);
  });

  test('a read with no position (a FIFO) copies the bytes that arrived', async () => {
    configureBounce({ minBytes: 1 });
    const f = fifo();
    fs.writeSync(f.peer, Buffer.from('hello'));
    const buf = Buffer.alloc(100, 0x2e);
    const before = bouncedReads();
    const r = await read(f.fd, buf, 100, null);
    expect(r).toEqual({ err: null, n: 5, lent: 0 });
    expect(bouncedReads()).toBe(before + 1);
    expect(buf.toString('latin1', 0, 7)).toBe('hello..');
  });
});

describe("mode 'off'", () => {
  test('a 1 MiB read into an ordinary Buffer goes straight into it', async () => {
    expect(configureBounce({ mode: 'off' }).mode).toBe('off');
    const content = crypto.randomBytes(MiB);
    const { fd } = tmpFile(content);
    const buf = Buffer.alloc(MiB + 1).subarray(1);
    const before = bouncedReads();
    expect(await read(fd, buf, MiB, 0)).toEqual({ err: null, n: MiB, lent: 0 });
    expect(bouncedReads()).toBe(before);
    expect(buf.equals(content)).toBe(true);
  });
});

describe('bounce reads through the engine', () => {
  test('64 concurrent 1 MiB aio_reads of distinct content never share a slot', async () => {
    const n = 64;
    const content = Buffer.alloc(n * MiB);
    for (let i = 0; i < n; i++) content.fill(i + 1, i * MiB, (i + 1) * MiB);
    // A distinct first word in every MiB, so a shifted copy shows too.
    for (let i = 0; i < n; i++) content.writeUInt32LE(0xabc00000 + i, i * MiB + 4096);
    const { fd } = tmpFile(content);
    const before = bouncedReads();
    const cbs = Array.from({ length: n }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(MiB + 1).subarray(1), aio_nbytes: MiB, aio_offset: i * MiB }));
    for (const cb of cbs) expect(aio_read(cb)).toBe(0);
    await settle(...cbs);
    cbs.forEach((cb, i) => {
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(MiB);
      expect((cb.aio_buf as Buffer).equals(content.subarray(i * MiB, (i + 1) * MiB))).toBe(true);
    });
    expect(bouncedReads() - before).toBe(n);
    expect(bouncePool.lent).toBe(0);
  });

  test('64 concurrent 1 MiB reads straight into the backend each get their own slot or go directly, with the right bytes', async () => {
    const n = 64;
    const content = crypto.randomBytes(n * MiB);
    const { fd } = tmpFile(content);
    const bufs = Array.from({ length: n }, () => Buffer.alloc(MiB));
    const results = await Promise.all(bufs.map((b, i) => read(fd, b, MiB, i * MiB)));
    results.forEach((r, i) => {
      expect(r.err).toBeNull();
      expect(r.n).toBe(MiB);
      expect((bufs[i] as Buffer).equals(content.subarray(i * MiB, (i + 1) * MiB))).toBe(true);
    });
    expect(bouncePool.lent).toBe(0);
  });
});

describe('configureBounce', () => {
  test('reports the settings, keeps omitted fields and changes given ones', () => {
    const now = configureBounce();
    expect(now).toEqual({ mode: 'always', minBytes: SUGGESTED_BOUNCE_MIN_BYTES, poolBytes: now.poolBytes });
    expect(configureBounce({ minBytes: 4096 })).toEqual({ mode: 'always', minBytes: 4096, poolBytes: now.poolBytes });
    expect(configureBounce({ poolBytes: now.poolBytes })).toEqual({ mode: 'always', minBytes: 4096, poolBytes: now.poolBytes });
    expect(configureBounce({ mode: 'adaptive' })).toEqual({ mode: 'adaptive', minBytes: 4096, poolBytes: now.poolBytes });
    expect(configureBounce({ mode: 'off', minBytes: 1 })).toEqual({ mode: 'off', minBytes: 1, poolBytes: now.poolBytes });
  });

  test('defaults: adaptive from 256 KiB', () => {
    expect(DEFAULT_BOUNCE_MODE).toBe('adaptive');
    expect(DEFAULT_BOUNCE_MIN_BYTES).toBe(256 * 1024);
  });

  test.each([
    [{ minBytes: 0 }, RangeError, 'The value of "options.minBytes" is out of range. It must be an integer >= 1, or Infinity. Received 0'],
    [{ minBytes: 1.5 }, RangeError, '"options.minBytes"'],
    [{ minBytes: '1' }, TypeError, 'The "options.minBytes" property must be of type number'],
    [{ poolBytes: -1 }, RangeError, 'The value of "options.poolBytes" is out of range. It must be an integer >= 0. Received -1'],
    [{ poolBytes: Infinity }, RangeError, '"options.poolBytes"'],
    [{ mode: 'sometimes' }, RangeError, `The value of "options.mode" is out of range. It must be one of 'adaptive', 'always', 'off'. Received type string ('sometimes')`],
    [{ mode: 1 }, TypeError, 'The "options.mode" property must be of type string. Received type number (1)'],
    [{ mode: 'off', minBytes: 0 }, RangeError, '"options.minBytes"'],
    [null, TypeError, 'The "options" argument must be of type object'],
  ])('refuses %p and changes nothing', (options, type, message) => {
    const before = configureBounce();
    const call = (): unknown => configureBounce(options as never);
    expect(call).toThrow(type as ErrorConstructor);
    expect(call).toThrow(message);
    expect(configureBounce()).toEqual(before);
  });
});
