import { AlignedPool, CHUNK_BYTES, MAX_SLOT, MIN_SLOT, PAGE_SIZE, SLOT_PAD, copiesFast, isAligned } from '../../../src/engine/aligned';
import { allocAligned } from '../../../src/aligned';
import { AioControlBlock, LIO_READ, allocControlBlocks } from '../../../src/index';

describe('AlignedPool', () => {
  test('lends slots that start a page, in classes of a power of two from 64 KiB plus a page', () => {
    const pool = new AlignedPool();
    expect(SLOT_PAD).toBe(PAGE_SIZE);
    const cases: Array<[number, number]> = [
      [1, MIN_SLOT + SLOT_PAD],
      [MIN_SLOT + SLOT_PAD, MIN_SLOT + SLOT_PAD],
      [MIN_SLOT + SLOT_PAD + 1, 2 * MIN_SLOT + SLOT_PAD],
      [1 << 20, (1 << 20) + SLOT_PAD],
      [(1 << 20) + 4096, (1 << 20) + SLOT_PAD],
      [(1 << 20) + 4097, (2 << 20) + SLOT_PAD],
      [MAX_SLOT + SLOT_PAD, MAX_SLOT + SLOT_PAD],
    ];
    for (const [want, size] of cases) {
      const slot = pool.acquire(want);
      expect(slot).not.toBeNull();
      expect(slot?.size).toBe(size);
      expect(slot?.bytes.byteLength).toBe(size);
      expect((slot?.bytes.byteOffset ?? 1) % PAGE_SIZE).toBe(0);
      expect(isAligned(slot?.bytes)).toBe(true);
    }
    expect(pool.lent).toBe(cases.length);
  });

  test('answers null above the largest class', () => {
    expect(new AlignedPool().acquire(MAX_SLOT + SLOT_PAD + 1)).toBeNull();
  });

  test('slots lent at the same time never overlap', () => {
    const pool = new AlignedPool();
    const slots = Array.from({ length: 40 }, (_, i) => pool.acquire(i % 3 === 0 ? 1 << 20 : 200_000));
    const ranges = slots.map((s) => {
      expect(s).not.toBeNull();
      const b = (s as { bytes: Uint8Array }).bytes;
      return { buf: b.buffer, start: b.byteOffset, end: b.byteOffset + b.byteLength };
    });
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const a = ranges[i] as (typeof ranges)[0];
        const b = ranges[j] as (typeof ranges)[0];
        expect(a.buf !== b.buf || a.end <= b.start || b.end <= a.start).toBe(true);
      }
    }
  });

  test('a released slot is lent again to the next request of its class, without growing the pool', () => {
    const pool = new AlignedPool();
    const a = pool.acquire(1 << 20);
    const reserved = pool.reserved;
    pool.release(a as NonNullable<typeof a>);
    expect(pool.lent).toBe(0);
    const b = pool.acquire((1 << 20) - 100);
    expect(b).toBe(a);
    expect(pool.reserved).toBe(reserved);
  });

  test('answers null once it would grow beyond its cap, and lends again after a release', () => {
    const pool = new AlignedPool(CHUNK_BYTES);
    const held = [];
    for (let i = 0; i < Math.floor(CHUNK_BYTES / (MAX_SLOT + SLOT_PAD)); i++) held.push(pool.acquire(MAX_SLOT));
    expect(held.every((s) => s !== null)).toBe(true);
    expect(pool.reserved).toBe(CHUNK_BYTES);
    expect(pool.acquire(MAX_SLOT)).toBeNull();
    // The chunk's tail still holds small slots; then nothing.
    const small = [];
    for (let s = pool.acquire(MIN_SLOT); s !== null; s = pool.acquire(MIN_SLOT)) small.push(s);
    expect(small.length).toBe(Math.floor((CHUNK_BYTES - held.length * (MAX_SLOT + SLOT_PAD)) / (MIN_SLOT + SLOT_PAD)));
    expect(pool.acquire(MIN_SLOT)).toBeNull();
    pool.release(held.pop() as NonNullable<(typeof held)[0]>);
    expect(pool.acquire(MAX_SLOT)).not.toBeNull();
    expect(pool.reserved).toBe(CHUNK_BYTES);
  });

  test('at the cap, a class with no free slot gets a free slot of a larger class', () => {
    const pool = new AlignedPool(CHUNK_BYTES);
    const big = [];
    for (let i = 0; i < Math.floor(CHUNK_BYTES / (MAX_SLOT + SLOT_PAD)); i++) big.push(pool.acquire(MAX_SLOT));
    while (pool.acquire(MIN_SLOT) !== null); // the chunk's tail
    const one = big.pop() as NonNullable<(typeof big)[0]>;
    pool.release(one);
    const small = pool.acquire(MIN_SLOT);
    expect(small).toBe(one);
    expect(small?.size).toBe(MAX_SLOT + SLOT_PAD);
    expect(pool.acquire(MIN_SLOT)).toBeNull();
  });

  test('a cap of 0 lends nothing', () => {
    expect(new AlignedPool(0).acquire(1)).toBeNull();
  });

  test('releasing a slot twice, or into another pool, throws', () => {
    const pool = new AlignedPool();
    const slot = pool.acquire(MIN_SLOT) as NonNullable<ReturnType<AlignedPool['acquire']>>;
    expect(() => new AlignedPool().release(slot)).toThrow(/not lent out by this pool/);
    pool.release(slot);
    expect(() => pool.release(slot)).toThrow(/released twice/);
    expect(pool.lent).toBe(0);
  });
});

describe('allocAligned', () => {
  test.each([0, 1, 4095, 4096, 70_000, 1 << 20, (1 << 20) + 1, 5_000_000])('gives a zero-filled page-aligned Buffer of %i bytes', (size) => {
    const buf = allocAligned(size);
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(buf.length).toBe(size);
    expect(buf.byteOffset % PAGE_SIZE).toBe(0);
    expect(isAligned(buf)).toBe(true);
    expect(buf.every((b) => b === 0)).toBe(true);
  });

  test('small buffers share a chunk without overlapping', () => {
    const a = allocAligned(100);
    const b = allocAligned(100);
    a.fill(1);
    b.fill(2);
    expect(a.every((x) => x === 1)).toBe(true);
    if (a.buffer === b.buffer) expect(Math.abs(a.byteOffset - b.byteOffset)).toBeGreaterThanOrEqual(PAGE_SIZE);
  });

  test.each([
    [-1, RangeError, 'ERR_OUT_OF_RANGE', 'It must be an integer >= 0 && <= 2147483648. Received -1'],
    [1.5, RangeError, 'ERR_OUT_OF_RANGE', 'Received 1.5'],
    [2 ** 31 + 1, RangeError, 'ERR_OUT_OF_RANGE', 'The value of "size" is out of range'],
    ['4096', TypeError, 'ERR_INVALID_ARG_TYPE', 'The "size" argument must be of type number'],
  ])('refuses %p with a %p naming size', (size, type, code, message) => {
    const call = (): Buffer => allocAligned(size as number);
    expect(call).toThrow(type as ErrorConstructor);
    expect(call).toThrow(expect.objectContaining({ code }));
    expect(call).toThrow(message);
  });
});

describe('isAligned', () => {
  test('is false for ordinary memory, views of ours off a page, and non-views', () => {
    expect(isAligned(Buffer.alloc(1 << 20))).toBe(false);
    expect(isAligned(new Uint8Array(8192))).toBe(false);
    expect(isAligned(allocAligned(8192).subarray(16))).toBe(false);
    expect(isAligned(allocAligned(8192).subarray(4096))).toBe(true);
    expect(isAligned(new DataView(allocAligned(4096).buffer, 0, 16))).toBe(true);
    expect(isAligned('x')).toBe(false);
    expect(isAligned(null)).toBe(false);
  });
});

describe('copiesFast', () => {
  test('is true for our memory congruent to the position or far from it, false inside the aliasing window and for ordinary memory', () => {
    const buf = allocAligned(3 * PAGE_SIZE);
    expect(copiesFast(buf, 0)).toBe(true);
    expect(copiesFast(buf, 8192)).toBe(true);
    expect(copiesFast(buf.subarray(16), 16)).toBe(true);
    expect(copiesFast(buf.subarray(16), 0)).toBe(false);
    expect(copiesFast(buf, 4080)).toBe(false);
    expect(copiesFast(buf.subarray(2048), 0)).toBe(true);
    expect(copiesFast(Buffer.alloc(PAGE_SIZE), 0)).toBe(false);
  });
});

describe('allocControlBlocks', () => {
  test('makes n blocks with distinct page-aligned buffers and the given fields', () => {
    const cbs = allocControlBlocks(3, { fd: 7, nbytes: 5000, lioOpcode: LIO_READ });
    expect(cbs).toHaveLength(3);
    for (const cb of cbs) {
      expect(cb).toBeInstanceOf(AioControlBlock);
      expect(cb.aio_fildes).toBe(7);
      expect(cb.aio_nbytes).toBe(5000);
      expect(cb.aio_offset).toBe(0);
      expect(cb.aio_lio_opcode).toBe(LIO_READ);
      expect(cb.aio_buf?.byteLength).toBe(5000);
      expect(isAligned(cb.aio_buf)).toBe(true);
    }
    (cbs[0]?.aio_buf as Buffer).fill(1);
    expect((cbs[1]?.aio_buf as Buffer).every((b) => b === 0)).toBe(true);
    expect(allocControlBlocks(0, { fd: 1, nbytes: 1 })).toEqual([]);
  });

  test.each([
    [() => allocControlBlocks(-1, { fd: 1, nbytes: 1 }), '"n"'],
    [() => allocControlBlocks(1, { fd: 1.5, nbytes: 1 }), '"options.fd"'],
    [() => allocControlBlocks(1, { fd: 1, nbytes: -4 }), '"options.nbytes"'],
    [() => allocControlBlocks(2, { fd: 1, nbytes: 2 ** 31 }), 'in all for 2 blocks'],
    [() => allocControlBlocks(1, null as never), '"options"'],
  ])('refuses bad input with an error naming the field (%#)', (call, field) => {
    expect(call).toThrow(field);
  });
});
