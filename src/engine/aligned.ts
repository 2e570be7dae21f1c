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
 * - The pool: slots of a power of two from {@link MIN_SLOT} to {@link MAX_SLOT} plus
 *   {@link SLOT_PAD} (one page), so that a read of that power of two can start
 *   anywhere in the slot's first page (engine/dispatch.ts starts it half a page past
 *   the file position's offset in its page); carved from chunks of
 *   {@link CHUNK_BYTES}; each class keeps a free list. Acquire and release are O(1). Slots are never given back to the
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
/** Bytes every slot has beyond its power of two: one page. */
export const SLOT_PAD = PAGE_SIZE;
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
  /** The size class, in bytes (a power of two plus SLOT_PAD). */
  readonly size: number;
}

interface PoolSlot extends Slot {
  readonly pool: AlignedPool;
  readonly cls: number;
  lent: boolean;
}

/** The index of the smallest class holding `size` bytes (size <= MAX_SLOT + SLOT_PAD). */
function classOf(size: number): number {
  const pow = size - SLOT_PAD;
  if (pow <= MIN_SLOT) return 0;
  return 32 - Math.clz32(pow - 1) - MIN_SHIFT;
}

/**
 * A pool of page-aligned slots in size classes of a power of two plus one page.
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
   * @returns the slot, or null when `size` is above MAX_SLOT + SLOT_PAD, or when the
   * pool would have to grow beyond `capBytes` and no larger slot is free (a larger
   * free slot is lent then, rather than none).
   */
  acquire(size: number): Slot | null {
    if (size > MAX_SLOT + SLOT_PAD) return null;
    const cls = classOf(size);
    let slot = this.#free[cls]?.pop();
    if (slot === undefined) {
      const bytes = (MIN_SLOT << cls) + SLOT_PAD;
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

/** How reads of at least `minBytes` into buffers that are not ours are routed (see configureBounce). */
export type BounceMode = 'adaptive' | 'always' | 'off';

/** The bounce modes configureBounce accepts. */
export const BOUNCE_MODES: readonly BounceMode[] = ['adaptive', 'always', 'off'];

/**
 * Default of {@link bounce}.mode: measure both paths per destination and use the faster
 * (see {@link BouncePolicy}). Whether a bounce pays depends on the destination's
 * address modulo 4096, which JavaScript cannot see: a Buffer malloc maps (16 bytes
 * into a page) reads ~3x faster bounced at 1 MiB, one malloc carved from its heap
 * (usually fast) ~30 % slower; adaptive gets the first without paying the second.
 */
export const DEFAULT_BOUNCE_MODE: BounceMode = 'adaptive';

/**
 * Default of {@link bounce}.minBytes: 256 KiB. malloc maps Buffers from 128 KiB up
 * until its mmap threshold rises, a read that large is long enough (tens of
 * microseconds) for two clock readings to cost nothing, and bounced 256 KiB reads into
 * views 16 bytes into a page ran 2.3x direct (bench/bounce.ts --bs 262144).
 */
export const DEFAULT_BOUNCE_MIN_BYTES = 256 * 1024;

/** The threshold the 'always' mode was measured with: 1 MiB. */
export const SUGGESTED_BOUNCE_MIN_BYTES = 1024 * 1024;

/** The bounce settings engine/dispatch.ts reads (set through configureBounce in src/aligned.ts). */
export interface BounceState {
  mode: BounceMode;
  minBytes: number;
}

/** The bounce settings engine/dispatch.ts reads (shared by the ESM and the CommonJS copy). */
export const bounce: BounceState = ((shared as { bounce?: BounceState }).bounce ??= { mode: DEFAULT_BOUNCE_MODE, minBytes: DEFAULT_BOUNCE_MIN_BYTES });
// A state object an older copy of the module made (no mode) gets the default mode.
bounce.mode ??= DEFAULT_BOUNCE_MODE;

/** Clean timed samples of each path a probe needs (their medians are compared). */
export const PROBE_SAMPLES = 5;
/** Probe reads (of every probing class together) per probe phase; then the phase's path flips. */
export const PHASE_READS = 16;
/** Reads between re-probes right after a decision; doubles when a re-probe confirms it, up to {@link MAX_REPROBE_EVERY}. */
export const REPROBE_EVERY = 64;
/** Most reads between re-probes. */
export const MAX_REPROBE_EVERY = 1024;
/** Classes remembered per ArrayBuffer; the oldest is forgotten beyond. */
export const MAX_CLASSES = 8;
/**
 * Bounce only when its median rate beats direct's by this factor. Direct costs no copy
 * on the event loop, and one read's time is noisy (2-4x between reads at depth 4 on a
 * loaded machine), while the aliasing case gains 3-4x and a fast destination loses a
 * third bounced: 1.5 separates the two.
 */
export const BOUNCE_MARGIN = 1.5;
/** Re-probe when the chosen path's recent rate falls below this share of its settled rate. */
export const RATE_DROP = 0.5;
/** Reads after a decision whose average becomes the chosen path's settled rate. */
export const SETTLE_READS = 16;

/** What {@link BouncePolicy.choose} answers, as bits: the read goes through a slot. */
export const VIA_SLOT = 1;
/** ... it is a probe read. */
export const PROBE = 2;
/** ... it is a probe read issued while no probe read of the other path was in flight: its time counts. */
export const CLEAN = 4;

/**
 * What one (ArrayBuffer, class) has measured. Rates are bytes per millisecond.
 * Exported for tests; nothing outside {@link BouncePolicy} changes it.
 */
export class BounceClass {
  /** (byteOffset - position) mod 4096: with the buffer's address, it decides the aliasing. */
  readonly cls: number;
  /** True while both paths are being sampled. */
  probing = false;
  /** The path in use (a new class: the policy's prior; during a re-probe: the one decided before). */
  bounced: boolean;
  /** Whether a probe ever decided. */
  decided = false;
  /** Clean samples recorded per path in this probe. */
  directSamples = 0;
  bouncedSamples = 0;
  /** The last PROBE_SAMPLES rates per path: direct at 0.., bounced at PROBE_SAMPLES.. */
  readonly samples = new Float64Array(2 * PROBE_SAMPLES);
  /** The chosen path's settled rate (its average over the first SETTLE_READS reads; 0 until then), and its recent rate (moving average). */
  chosenRate = 0;
  recentRate = 0;
  /** Reads since the last decision (or since the class was made); the `every`-th is the first of the next probe. */
  sinceProbe = 0;
  /** A new class reads once on the prior, then probes. */
  every = 2;
  /** Probes started, and decisions that changed the path (for tests and traces). */
  probes = 0;
  flips = 0;

  constructor(cls: number, bounced: boolean) {
    this.cls = cls;
    this.bounced = bounced;
  }
}

const scratch = new Float64Array(PROBE_SAMPLES);

/** The median of samples[from .. from + PROBE_SAMPLES) (an insertion sort of 5: O(1)). */
function median(samples: Float64Array, from: number): number {
  for (let i = 0; i < PROBE_SAMPLES; i++) {
    const x = samples[from + i] as number;
    let j = i;
    for (; j > 0 && (scratch[j - 1] as number) > x; j--) scratch[j] = scratch[j - 1] as number;
    scratch[j] = x;
  }
  return scratch[PROBE_SAMPLES >> 1] as number;
}

/** Options of a {@link BouncePolicy} (tests inject a clock). */
export interface BouncePolicyOptions {
  /** Milliseconds; default performance.now. */
  now?: () => number;
}

/**
 * The adaptive bounce policy: for reads into a buffer that is not ours, keyed by the
 * view's ArrayBuffer and (byteOffset - position) mod 4096 (with the buffer's fixed
 * address, that class decides whether the kernel's copy aliases), it times both paths
 * (bytes per ms from the backend call to the callback, the copy included for bounced
 * reads), {@link PROBE_SAMPLES} samples each, and then uses the faster (direct unless
 * bounced beats it by {@link BOUNCE_MARGIN}). It probes again after
 * {@link REPROBE_EVERY} reads (doubling while re-probes confirm the choice, up to
 * {@link MAX_REPROBE_EVERY}), and at once when the chosen path's recent rate falls
 * below {@link RATE_DROP} of its settled rate (its average over the
 * {@link SETTLE_READS} reads after the decision).
 *
 * Why probes go in phases: reads in flight together share the thread pool, the cores
 * and the event loop, and their completions come out nearly in order, so a fast read
 * issued among slow ones takes as long as they do (measured: 1 MiB reads at depth 4,
 * bounced and direct alternating, took the same 1.0 ms each; alone 0.45 and 1.3 ms).
 * So every probing class reads on one path for {@link PHASE_READS} probe reads, then
 * on the other, and a probe read's time counts only when no probe read of the other
 * path was in flight when it was issued ({@link CLEAN}).
 *
 * Invariants: the state of a buffer lives in a WeakMap keyed by its ArrayBuffer (no
 * leak; a detached or transferred buffer just has state that is never used again), at
 * most {@link MAX_CLASSES} classes per buffer; `choose` and `finish` are O(1); only
 * full reads (every byte asked for) are recorded, so end-of-file and errors teach
 * nothing, but every `choose` must be matched by one `finish`. A new class reads once
 * on the path the last decision anywhere chose before it probes, so a program that
 * reads into a fresh buffer every time gets that path.
 *
 * @example
 * const policy = new BouncePolicy();
 * const c = policy.classOf(buf, position);
 * const how = policy.choose(c);
 * const t0 = policy.now();
 * // ... the read, through a slot when (how & VIA_SLOT) !== 0; then, n bytes of length:
 * policy.finish(c, how, n === length ? n : -1, policy.now() - t0);
 */
export class BouncePolicy {
  readonly now: () => number;
  readonly #buffers = new WeakMap<object, Map<number, BounceClass>>();
  /** The path the last decision chose: new classes read on it first. */
  lastBounced = false;
  /** The path of the current probe phase, and probe reads left in it. */
  phaseBounced = false;
  #phaseLeft = PHASE_READS;
  /** Probe reads in flight per path. */
  #directProbes = 0;
  #bouncedProbes = 0;

  constructor(options: BouncePolicyOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The state of `view`'s class for a read at `position` (made on first use). */
  classOf(view: ArrayBufferView, position: number): BounceClass {
    const cls = aliasClass(view, position);
    const key = view.buffer as object;
    let classes = this.#buffers.get(key);
    if (classes === undefined) {
      classes = new Map();
      this.#buffers.set(key, classes);
    }
    let c = classes.get(cls);
    if (c === undefined) {
      if (classes.size >= MAX_CLASSES) classes.delete(classes.keys().next().value as number);
      c = new BounceClass(cls, this.lastBounced);
      classes.set(cls, c);
    }
    return c;
  }

  /** Classes remembered for `buffer` (tests). */
  classesOf(buffer: object): number {
    return this.#buffers.get(buffer)?.size ?? 0;
  }

  /** How the next read of class `c` goes: {@link VIA_SLOT}, {@link PROBE}, {@link CLEAN} bits. */
  choose(c: BounceClass): number {
    if (!c.probing) {
      if (++c.sinceProbe < c.every) return c.bounced ? VIA_SLOT : 0;
      c.probing = true;
      c.probes++;
      c.directSamples = c.bouncedSamples = 0;
    }
    if (--this.#phaseLeft < 0) {
      this.phaseBounced = !this.phaseBounced;
      this.#phaseLeft = PHASE_READS - 1;
    }
    if (this.phaseBounced) {
      this.#bouncedProbes++;
      return VIA_SLOT | PROBE | (this.#directProbes === 0 ? CLEAN : 0);
    }
    this.#directProbes++;
    return PROBE | (this.#bouncedProbes === 0 ? CLEAN : 0);
  }

  /**
   * Ends a read `choose` routed: `bytes` is what it read when it read every byte asked
   * for, else -1 (nothing is learnt); `ms` how long it took.
   */
  finish(c: BounceClass, how: number, bytes: number, ms: number): void {
    const bounced = (how & VIA_SLOT) !== 0;
    if ((how & PROBE) !== 0) {
      if (bounced) this.#bouncedProbes--;
      else this.#directProbes--;
    }
    if (bytes < 0) return;
    const rate = bytes / Math.max(ms, 1e-3);
    if (!c.probing) {
      if (bounced !== c.bounced || !c.decided) return;
      c.recentRate += (rate - c.recentRate) / 8;
      if (c.chosenRate === 0) {
        if (c.sinceProbe >= SETTLE_READS) c.chosenRate = c.recentRate;
      } else if (c.recentRate < c.chosenRate * RATE_DROP) c.sinceProbe = c.every; // the next read probes
      return;
    }
    if ((how & CLEAN) === 0) return;
    if (bounced) c.samples[PROBE_SAMPLES + (c.bouncedSamples++ % PROBE_SAMPLES)] = rate;
    else c.samples[c.directSamples++ % PROBE_SAMPLES] = rate;
    if (c.directSamples < PROBE_SAMPLES || c.bouncedSamples < PROBE_SAMPLES) return;
    const direct = median(c.samples, 0);
    const viaSlot = median(c.samples, PROBE_SAMPLES);
    const choice = viaSlot > direct * BOUNCE_MARGIN;
    if (!c.decided) c.every = REPROBE_EVERY;
    else if (choice === c.bounced) c.every = Math.min(c.every * 2, MAX_REPROBE_EVERY);
    else {
      c.every = REPROBE_EVERY;
      c.flips++;
    }
    c.decided = true;
    c.probing = false;
    c.bounced = choice;
    c.chosenRate = 0;
    c.recentRate = choice ? viaSlot : direct;
    c.sinceProbe = 0;
    this.lastBounced = choice;
  }
}

/** The engine's bounce policy (shared by the ESM and the CommonJS copy). */
export const bouncePolicy: BouncePolicy = ((shared as { bouncePolicy?: BouncePolicy }).bouncePolicy ??= new BouncePolicy());

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

/** Whether `view`'s memory came from here (so its address modulo 4096 is its byteOffset). */
export function isOurs(view: ArrayBufferView): boolean {
  return ours.has(view.buffer as ArrayBuffer);
}

/**
 * Whether the kernel copies file bytes at `position` into `view` at full speed: true
 * when `view` is memory of ours (so its address modulo 4096 is its byteOffset) and its
 * first byte is congruent to `position` modulo 4096 or sits more than 64 bytes away
 * from it in the copy direction (the aliasing window measured is under 32 bytes).
 */
export function copiesFast(view: ArrayBufferView, position: number): boolean {
  if (!ours.has(view.buffer as ArrayBuffer)) return false;
  const skew = aliasClass(view, position);
  return skew === 0 || skew > 64;
}

/**
 * `(view.byteOffset - position) mod 4096`: with the address of the view's buffer, it
 * decides whether the kernel's copy from page cache into the view aliases.
 */
function aliasClass(view: ArrayBufferView, position: number): number {
  return (((view.byteOffset - position) % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
}
