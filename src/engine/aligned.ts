/**
 * Page-aligned memory: the engine's pool of bounce slots and the public allocator.
 *
 * Design notes (the invariants, before any code):
 *
 * - Every byte handed out here lives in the backing store of a `WebAssembly.Memory`.
 *   Those stores are mmap'ed, so their first byte starts a page, and they are never
 *   grown here, so a view of them never detaches. Nobody outside this module holds the
 *   Memory objects, so nobody else can grow them either.
 * - Why it matters (measured on Linux, Node 20): when the kernel copies page-cache
 *   pages into a destination that sits a few bytes past the source modulo 4096 (an
 *   ordinary large Buffer is malloc'ed with mmap and starts 16 bytes into a page), the
 *   copy runs at about a quarter of its speed (4K aliasing in `rep movsb`). A
 *   destination whose address is congruent to the file position modulo 4096 is
 *   copied at full speed.
 * - The pool: slots in power-of-two size classes from {@link MIN_SLOT} to
 *   {@link MAX_SLOT}, carved from chunks of {@link CHUNK_BYTES}; each class keeps a
 *   free list. Acquire and release are O(1). Slots are never given back to the
 *   system: the pool only grows, up to `capBytes` of chunks; at the cap a request
 *   whose class has no free slot gets a free slot of a larger class, or null, and
 *   the caller then does its I/O directly.
 * - A slot is either free or lent out; releasing a slot that is not lent out is a bug
 *   in the caller and throws.
 * - The allocator's buffers (src/aligned.ts) are the user's: they are never pooled,
 *   and their memory goes back to the system when every view of it has been garbage
 *   collected.
 * - This module imports nothing but shared state: engine/dispatch.ts imports it, and
 *   constants.ts imports dispatch.ts, so an import of errors.ts here would be a cycle.
 */
import { shared } from '../shared';

/** The page size the alignment is about (x86-64 and arm64 Linux with 4 KiB pages). */
export const PAGE_SIZE = 4096;
/** A WebAssembly page: Memory sizes are multiples of it. */
export const WASM_PAGE = 65536;
/** Smallest pool slot. */
export const MIN_SLOT = 64 * 1024;
/** Largest pool slot. */
export const MAX_SLOT = 4 * 1024 * 1024;
/** Bytes of one pool chunk (one WebAssembly.Memory). */
export const CHUNK_BYTES = 16 * 1024 * 1024;
/** Default cap on the bytes of chunks the pool reserves. */
export const DEFAULT_POOL_CAP = 64 * 1024 * 1024;

const MIN_SHIFT = 31 - Math.clz32(MIN_SLOT);
const CLASSES = 31 - Math.clz32(MAX_SLOT) - MIN_SHIFT + 1;

/** ArrayBuffers whose memory came from here, shared by the ESM and the CommonJS copy. */
const ours: WeakSet<ArrayBuffer> = ((shared as { alignedBuffers?: WeakSet<ArrayBuffer> }).alignedBuffers ??= new WeakSet());

/** The one piece of the WebAssembly API used here (tsconfig's lib has no WebAssembly types). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum?: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;

/** A new page-aligned, zero-filled ArrayBuffer of `bytes` (a multiple of 64 KiB). */
export function reserve(bytes: number): ArrayBuffer {
  const buf = new WasmMemory({ initial: bytes / WASM_PAGE, maximum: bytes / WASM_PAGE }).buffer;
  ours.add(buf);
  return buf;
}

/** A page-aligned slot lent out by an {@link AlignedPool}. */
export interface Slot {
  /** The slot's memory: `size` bytes starting on a page. */
  readonly bytes: Uint8Array;
  /** The size class, in bytes. */
  readonly size: number;
}

interface PoolSlot extends Slot {
  readonly pool: AlignedPool;
  readonly cls: number;
  lent: boolean;
}

/** The index of the smallest class holding `size` bytes (size <= MAX_SLOT). */
function classOf(size: number): number {
  if (size <= MIN_SLOT) return 0;
  return 32 - Math.clz32(size - 1) - MIN_SHIFT;
}

/**
 * A pool of page-aligned slots in power-of-two size classes.
 *
 * @example
 * const pool = new AlignedPool(8 * 1024 * 1024);
 * const slot = pool.acquire(1 << 20);
 * if (slot !== null) { use(slot.bytes); pool.release(slot); }
 */
export class AlignedPool {
  /** Most bytes of chunks this pool reserves; acquire answers null beyond. Lowering it frees nothing already reserved. */
  capBytes: number;
  readonly #free: PoolSlot[][] = Array.from({ length: CLASSES }, () => []);
  #chunk: ArrayBuffer | null = null;
  #used = 0;
  #reserved = 0;
  #lent = 0;

  constructor(capBytes: number = DEFAULT_POOL_CAP) {
    this.capBytes = capBytes;
  }

  /** Bytes of chunks reserved so far. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Slots lent out now. */
  get lent(): number {
    return this.#lent;
  }

  /**
   * Lends a page-aligned slot of at least `size` bytes.
   *
   * @returns the slot, or null when `size` is above {@link MAX_SLOT}, or when the
   * pool would have to grow beyond `capBytes` and no larger slot is free (a larger
   * free slot is lent then, rather than none).
   */
  acquire(size: number): Slot | null {
    if (size > MAX_SLOT) return null;
    const cls = classOf(size);
    let slot = this.#free[cls]?.pop();
    if (slot === undefined) {
      const bytes = MIN_SLOT << cls;
      if (this.#chunk === null || this.#used + bytes > this.#chunk.byteLength) {
        // The tail of the old chunk is abandoned: it was never touched, so it costs
        // address space, not memory.
        if (this.#reserved + CHUNK_BYTES > this.capBytes) return this.#larger(cls);
        this.#chunk = reserve(CHUNK_BYTES);
        this.#reserved += CHUNK_BYTES;
        this.#used = 0;
      }
      slot = { bytes: new Uint8Array(this.#chunk, this.#used, bytes), size: bytes, pool: this, cls, lent: false };
      // Touch every page now, once: the kernel then copies into resident pages, and
      // the first reads through the slot see the steady state.
      slot.bytes.fill(0);
      this.#used += bytes;
    }
    slot.lent = true;
    this.#lent++;
    return slot;
  }

  /** At the cap: a free slot of a larger class, or null (at most CLASSES steps). */
  #larger(cls: number): Slot | null {
    for (let c = cls + 1; c < CLASSES; c++) {
      const slot = this.#free[c]?.pop();
      if (slot !== undefined) {
        slot.lent = true;
        this.#lent++;
        return slot;
      }
    }
    return null;
  }

  /**
   * Takes `slot` back.
   *
   * Errors: throws an Error when the slot is not lent out by this pool (released
   * twice, or another pool's): that is a bug in the caller, and ignoring it could
   * lend one slot to two readers.
   */
  release(slot: Slot): void {
    const s = slot as PoolSlot;
    if (s.pool !== this || !s.lent) throw new Error('AlignedPool.release: the slot is not lent out by this pool (released twice?)');
    s.lent = false;
    this.#lent--;
    (this.#free[s.cls] as PoolSlot[]).push(s);
  }
}

/** The engine's bounce pool (shared by the ESM and the CommonJS copy). */
export const bouncePool: AlignedPool = ((shared as { bouncePool?: AlignedPool }).bouncePool ??= new AlignedPool());

/**
 * Default of {@link bounce}.minBytes: Infinity, bouncing is off unless asked for.
 * Whether a bounce pays depends on the destination's address modulo 4096, which
 * JavaScript cannot see: a Buffer malloc maps (16 bytes into a page) reads 2.8-3x
 * faster bounced at 1 MiB, one malloc carved from its heap (usually fast) 30 % slower.
 */
export const DEFAULT_BOUNCE_MIN_BYTES = Infinity;

/** The threshold the notes suggest when bouncing is turned on: 1 MiB (below it Buffers came from the heap). */
export const SUGGESTED_BOUNCE_MIN_BYTES = 1024 * 1024;

/** The bounce settings engine/dispatch.ts reads (set through configureBounce in src/aligned.ts). */
export interface BounceState {
  minBytes: number;
}

/** The bounce settings engine/dispatch.ts reads (shared by the ESM and the CommonJS copy). */
export const bounce: BounceState = ((shared as { bounce?: BounceState }).bounce ??= { minBytes: DEFAULT_BOUNCE_MIN_BYTES });

/**
 * Tells whether `view` starts a page of memory from allocAligned (or the engine's
 * pool).
 *
 * @returns true when `view`'s memory came from here and `view.byteOffset` is a
 * multiple of 4096; false for anything else, including values that are not views.
 *
 * Notes: an ordinary Buffer may happen to be page-aligned; this cannot know, since
 * JavaScript does not see addresses, and answers false.
 *
 * @example
 * isAligned(allocAligned(4096)); // true
 * isAligned(Buffer.alloc(4096)); // false
 */
export function isAligned(view: unknown): boolean {
  return ArrayBuffer.isView(view) && view.byteOffset % PAGE_SIZE === 0 && ours.has(view.buffer as ArrayBuffer);
}

/**
 * Whether the kernel copies file bytes at `position` into `view` at full speed: true
 * when `view` is memory of ours (so its address modulo 4096 is its byteOffset) and its
 * first byte is congruent to `position` modulo 4096 or sits more than 64 bytes away
 * from it in the copy direction (the aliasing window measured is under 32 bytes).
 */
export function copiesFast(view: ArrayBufferView, position: number): boolean {
  if (!ours.has(view.buffer as ArrayBuffer)) return false;
  const skew = (((view.byteOffset - position) % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
  return skew === 0 || skew > 64;
}
